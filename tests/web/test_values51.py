"""An acceptance report's quality is one of three (优质, 合格, 不合格): the form offers them as a choice, the
item takes the code or either language's word and keeps the code, and it is said in the reader's
language wherever the report's fields are shown (the case page, `trace`, the API). Before, it was a
text kept as typed: English readers read "quality 合格", and a typo waited for the county acceptance
step to be refused. A report kept before as the Chinese word is said in the reader's language too,
without rewriting it (its fields are hashed into the record)."""
from __future__ import annotations

import pytest

from engine.domain.errors import BadInput
from engine.reads.audit_verify import verify
from engine.services.case_actions import attach_evidence
from tests.test_inspection_reading import jingzhun
from tests.test_project_money_rules import funded, settle
from tests.world import scan_file

REPORT = {"firm": "赣州工程咨询公司", "report_no": "YS-2019-019", "accepted_on": "2019-11-08"}


def _report(world, case: int, lang: str, api) -> dict:
    trace = api("insp", lang).get(f"/api/v1/trace/cases/{case}").json()
    return [e for e in trace["evidence"] if e["type"] == "acceptance_report"][-1]


def test_an_acceptance_report_s_quality_is_chosen_kept_as_its_code_and_said_in_english(world, world_clients, tmp_path):
    page, api = world_clients
    case, _ = funded(world)
    settle(world, case, "280000", tmp_path)          # its report typed 合格
    report = _report(world, case, "en", api)
    assert report["fields"]["quality"] == "pass" and ["quality", "pass"] in report["words"]
    code, out, err = jingzhun(world, "insp", "trace", str(case), lang="en")
    assert code == 0 and "quality pass" in out and "合格" not in out, (out, err)
    code, out, err = jingzhun(world, "insp", "trace", str(case))
    assert code == 0 and "质量 合格" in out, (out, err)
    reader = page("cs")
    assert '<input type="radio" name="f_quality" value="pass" required> 合格' in reader.get(f"/cases/{case}").text
    reader.cookies.set("lang", "en")
    assert "quality: pass" in reader.get(f"/cases/{case}").text
    with pytest.raises(BadInput) as typo:       # refused when typed, naming the three
        attach_evidence(world.app, world["cs"], case, "acceptance_report", {**REPORT, "quality": "合 格x"},
                        scan_file(tmp_path / "again.pdf", "acceptance report"))
    said = typo.value.render(world.app.config, "en")
    assert "excellent, pass, fail" in said, said


def test_a_quality_kept_as_typed_before_reads_in_the_reader_s_language(world, world_clients, tmp_path, monkeypatch):
    _, api = world_clients
    case, _ = funded(world)
    definition = world.app.config.workflows["project"].evidence_types["acceptance_report"]
    monkeypatch.setitem(definition.fields, "quality", "str")     # as it was: a text, kept as typed
    settle(world, case, "280000", tmp_path)
    monkeypatch.undo()
    report = _report(world, case, "en", api)
    assert report["fields"]["quality"] == "合格" and ["quality", "pass"] in report["words"]
    code, out, err = jingzhun(world, "insp", "trace", str(case), lang="en")
    assert code == 0 and "quality pass" in out and "合格" not in out, (out, err)
    assert verify(world.app, processes=1).intact
