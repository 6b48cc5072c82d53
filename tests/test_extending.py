"""Extending the engine as docs/extending.md says: a new step type (a class, a YAML value, its texts)
and a new case kind (a workflow YAML, a rules object, its labels) work with nothing else changed.

The toy step type `head_count` (enough people present at a site visit) is defined here, registered for
the test and unregistered after it. The toy case kind `inspection_visit` (two stages, one procedure
of two steps, no checks) lives in a temporary copy of config/ installed in the world's data home,
its rules object put in `workflows.RULES` for the test.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import workflows
from config import CONFIG_DIR, ConfigError, load_config
from engine.domain.errors import BadInput, RuleViolation
from engine.domain.guards import Violation
from engine.reads.audit_verify import verify
from engine.reads.queries import next_for
from engine.services import steptypes
from engine.services.case_actions import attach_evidence
from engine.services.context import WorkflowRules
from engine.domain.cases import StepInput
from engine.services.procedures import perform_step
from engine.services.registration import register_case
from engine.services.setup import install_config
from entrypoints.bootstrap import check_references, make_app
from tests.test_cli import jingzhun
from tests.world import VILLAGE
from tests.helpers.db_option import db_option

KIND = "inspection_visit"

WORKFLOW = """\
kind: inspection_visit
version: 1
initial: planned
stages: [planned, visited]
main_path: {planned: visit}
procedures:
  visit:
    from: [planned]
    to: visited
    responsibility: {direct: [signers]}
    steps:
      - {key: photos, type: evidence, roles: [village_secretary], evidence: [site_photo]}
      - {key: count, type: head_count, roles: [township_staff]}
evidence_types:
  site_photo: {fields: {taken_on: date, place: str}}
"""

TEXTS = {   # msgid: (zh_CN, en)
    "kind.inspection_visit": ("现场查看", "site visit"),
    "stage.planned": ("待查看", "planned"),
    "stage.visited": ("已查看", "visited"),
    "procedure.visit": ("现场查看", "site visit"),
    "step.photos": ("现场照片", "site photos"),
    "step.count": ("清点人数", "head count"),
    "evidence.site_photo": ("现场照片", "site photo"),
    "msg.head_count.households_unknown": ("案件 {case} 未登记应到户数（households）",
                                          "case {case}: how many households should attend is not recorded"),
    "msg.head_count.too_few": ("到场 {present} 户，少于应到 {needed} 户", "{present} households present, fewer than {needed}"),
}


class HeadCount(steptypes.StepType):
    """清点人数: at least the case's `households` attribute must be present."""
    inputs = ("attendance",)

    def preconditions(self, ctx, taken):
        if "households" in ctx.case.attrs:
            return []
        return [Violation("head_count.households_unknown", {"case": ctx.case.id})]

    def effect(self, ctx, taken):
        present, needed = ctx.inputs.attendance or 0, int(ctx.case.attrs["households"])
        if present < needed:
            raise BadInput("head_count.too_few", present=present, needed=needed)
        return steptypes.StepEffect("done", {"attendance": present})


@pytest.fixture
def head_count():
    steptypes.step_type("head_count")(HeadCount)
    yield steptypes.get("head_count")
    del steptypes.REGISTRY["head_count"]


def toy_config(target: Path) -> Path:
    """A copy of the packaged configuration with the toy workflow and its texts."""
    shutil.copytree(CONFIG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (target / "workflows" / f"{KIND}.yaml").write_text(WORKFLOW, encoding="utf-8")
    for locale, i in (("zh_CN", 0), ("en", 1)):
        body = "".join(f'msgid "{key}"\nmsgstr "{texts[i]}"\n\n' for key, texts in TEXTS.items())
        (target / "locale" / locale / "LC_MESSAGES" / "toy.po").write_text(body, encoding="utf-8")
    return target


@pytest.fixture
def toy(world, head_count, tmp_path, monkeypatch):
    """The world's home with the toy kind installed; an App built on it."""
    monkeypatch.setitem(workflows.RULES, KIND, WorkflowRules(checks={}, handlers={}, effects={}))
    install_config(world.app, world["admin"], toy_config(tmp_path / "toy-config"))
    app = make_app(world.app.settings, clock=world.clock)
    yield app
    app.close()


def test_a_step_type_not_registered_is_refused_by_the_engine_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setitem(workflows.RULES, KIND, WorkflowRules(checks={}, handlers={}, effects={}))
    config = load_config(toy_config(tmp_path / "toy-config"))   # the configuration alone does not know step types
    with pytest.raises(ConfigError) as refused:
        check_references(config)
    assert f"{KIND}.yaml" in str(refused.value) and "键 procedures.visit.steps.1.type" in str(refused.value)
    assert "key procedures.visit.steps.1.type: unknown step type" in refused.value.render(lang="en")
    assert "未知的步骤类型 head_count" in str(refused.value) and "'head_count'" in refused.value.render(lang="en")


def test_a_new_step_type_runs_refuses_with_its_rule_and_case_next_names_it(world, toy):
    vs, ts = world["vs"], world["ts1"]
    case = register_case(toy, vs, KIND, VILLAGE, "洋塘村小学危房查看")
    attach_evidence(toy, vs, case, "site_photo", {"taken_on": "2019-01-09", "place": "洋塘村小学"})
    perform_step(toy, vs, "visit", "photos", [case], StepInput())
    nxt = next_for(toy, ts, case, "en")["next"]
    assert (nxt["step"], nxt["type"]) == ("count", "head_count")
    assert "head_count.households_unknown" in nxt["rules"]
    assert any("households" in v["text"] for v in nxt["violations"])
    with pytest.raises(RuleViolation) as refused:
        perform_step(toy, ts, "visit", "count", [case], StepInput(attendance=5))
    assert refused.value.code == "head_count.households_unknown"

    counted = register_case(toy, vs, KIND, VILLAGE, "石桥查看", {"households": "3"})
    attach_evidence(toy, vs, counted, "site_photo", {"taken_on": "2019-01-09", "place": "石桥"})
    perform_step(toy, vs, "visit", "photos", [counted], StepInput())
    assert next_for(toy, ts, counted)["next"]["rules"] == []
    with pytest.raises(BadInput) as bad:
        perform_step(toy, ts, "visit", "count", [counted], StepInput(attendance=2))
    assert (bad.value.code, bad.value.params["needed"]) == ("head_count.too_few", 3)
    with pytest.raises(BadInput) as foreign:
        perform_step(toy, ts, "visit", "count", [counted], StepInput(attendance=3, days=7))
    assert foreign.value.code == "step.input_not_for_step"
    perform_step(toy, ts, "visit", "count", [counted], StepInput(attendance=3))
    assert next_for(toy, ts, counted)["stage"] == "visited"


def _where(world) -> list[str]:
    """The world's data home, and its database when that is not the home's SQLite file."""
    db = world.app.settings.db_url
    return ["--home", str(world.app.settings.home)] + (db_option(db) if db and db.startswith("postgresql") else [])


def test_a_new_case_kind_is_registered_with_case_add_and_moved_through_its_procedure(world, toy):

    def run(who, *args):
        return jingzhun([*_where(world), "--lang", "en", "--as", who, *args], token=world.tokens[who],
                        reload_config=True)

    added = run("vs", "case", "add", KIND, "--region", VILLAGE, "--title", "洋塘村小学危房查看",
                "--attr", "households=2", "--attr", "school=洋塘村小学")
    assert added.code == 0, added.err
    assert "registered, stage: planned" in added.out and "(site visit)" in added.out
    case = int(added.out.split()[1])
    assert run("vs", "evidence", "add", str(case), "site_photo", "--field", "taken_on=2019-01-09",
               "--field", "place=洋塘村小学").code == 0
    assert run("vs", "step", "visit", "photos", str(case)).code == 0
    nxt = run("ts1", "case", "next", str(case), "--json").json()["next"]
    assert (nxt["step"], nxt["rules"]) == ("count", [])
    short = run("ts1", "step", "visit", "count", str(case), "--attendance", "1")
    assert short.code == 2 and "[head_count.too_few]" in short.err   # its text: the packaged catalogue
    assert run("ts1", "step", "visit", "count", str(case), "--attendance", "2").code == 0
    shown = run("vs", "case", "show", str(case), "--json").json()
    assert shown["stage"] == "visited" and shown["attrs"]["households"] == "2"
    report = verify(toy, processes=1)
    assert report.intact and report.cases >= 1


def test_case_add_refuses_an_unknown_kind_a_blank_title_and_the_wrong_role(world, toy):

    def run(who, *args):
        return jingzhun([*_where(world), "--as", who, "case", "add", *args], token=world.tokens[who],
                        reload_config=True)

    assert run("vs", "nonsense", "--region", VILLAGE, "--title", "x").code == 2
    blank = run("vs", KIND, "--region", VILLAGE, "--title", " ")
    assert blank.code == 2 and "case.title_required" in blank.err
    wrong = run("ts1", KIND, "--region", VILLAGE, "--title", "查看")
    assert wrong.code == 1 and "auth.wrong_role" in wrong.err
    unknown = run("vs", KIND, "--region", "360730100299", "--title", "查看")
    assert unknown.code == 2 and "region.unknown" in unknown.err
