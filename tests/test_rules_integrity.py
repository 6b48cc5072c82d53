"""Holes a reviewer found in the rules, each closed and kept closed."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from config import ConfigError, load_config
from engine.adapters import tables as t
from entrypoints.bootstrap import make_app
from engine.services.case_actions import attach_evidence, file_objection
from engine.adapters.db import Settings
from engine.domain.errors import BadInput, CaseChanged, RuleViolation, SchemaOutdated
from engine.services.org import add_regions, grant_role
from tests.world import COUNTY, VILLAGE, id_number, scan_file
from tests.helpers.db_option import db_option
from tests.helpers.rules_copy import rules_copy


def test_income_of_another_year_cannot_decide_an_exit(world, tmp_path):
    case = world.household(members=2)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=6000, tmp=tmp_path)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2015, "net_income": 6000},
                    replace=True, reason="用2015年数字")
    world.on(date(2019, 11, 20))
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    # judged on the exit's own year (2019): 2015's income is said to be no 2019 income, beside the other conditions
    assert refused.value.code == "check.exit_standard"
    assert [f[1]["recorded"] for f in refused.value.params["failures"] if f[0] == "income_year_missing"] == [2015]
    assert "2015" in refused.value.render(world.app.config, "en")


def test_a_post_is_held_over_a_region_of_its_own_level(world):
    with pytest.raises(BadInput) as too_high:
        grant_role(world.app, world["admin"], "vs2", "village_secretary", COUNTY)
    assert too_high.value.code == "role.wrong_level"
    with pytest.raises(BadInput):
        grant_role(world.app, world["admin"], "vs2", "county_head", "000000000000")
    grant_role(world.app, world["admin"], "vs2", "inspector", COUNTY)   # read-only roles may sit higher


def test_an_administrator_cannot_grant_themselves_a_signing_role(world):
    with pytest.raises(RuleViolation) as refused:
        grant_role(world.app, world["admin"], "admin", "county_office_director", COUNTY)
    assert refused.value.code == "duty.self_grant"


def test_a_region_cannot_skip_a_level(world):
    with pytest.raises(BadInput) as refused:
        add_regions(world.app, world["admin"], [("360700000001", "直属村")])
    assert refused.value.code == "region.skips_level"


def test_no_objection_to_a_notice_the_procedure_has_left(world):
    case = world.household()
    world.identify(case)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.notice_cases.c.notice_id).where(t.notice_cases.c.case_id == case)
                              .order_by(t.notice_cases.c.notice_id)).scalars().first()
    with pytest.raises(RuleViolation) as refused:
        file_objection(world.app, world["vs"], notice, case, "村民", "迟到的异议", date(2019, 3, 3))
    assert refused.value.code == "objection.notice_passed"


def test_member_changes_after_a_signoff_void_it_only_when_confirmed(world, tmp_path):
    from workflows.household import MemberInput, add_member
    case = world.household(members=2)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case, through="township_review")
    baby = MemberInput("新生儿", id_number("36073020191101001"), "child", "none", "healthy", "none")
    with pytest.raises(RuleViolation) as refused:
        add_member(world.app, world["vs"], case, baby, "出生")
    assert refused.value.code == "facts.frozen"
    add_member(world.app, world["vs"], case, baby, "出生", void_signoffs=True)
    with world.app.engine.connect() as conn:
        voided = conn.execute(select(t.steps.c.step_key).where(t.steps.c.case_id == case,
                                                               t.steps.c.voided_at.is_not(None))
                              .order_by(t.steps.c.id)).scalars().all()
        pending = conn.execute(select(t.cases.c.pending_step).where(t.cases.c.id == case)).scalar()
    # the proposal's exit standard counted the members (the income per head): it goes, and all after it
    assert voided == ["proposal", "verification", "acknowledgement", "village_notice", "township_review"]
    assert pending == "proposal"


def test_a_command_on_a_home_without_database_creates_nothing(tmp_path):
    home = tmp_path / "nowhere"
    with pytest.raises(SchemaOutdated) as refused:
        make_app(Settings.from_env(str(home)))
    assert refused.value.code == "schema.no_database"
    assert not home.exists()


def test_a_refused_attach_leaves_no_file_in_the_store(world, tmp_path):
    case = world.household()
    scan = scan_file(tmp_path / "scan.pdf", "a scan like no other")
    with pytest.raises(CaseChanged):
        attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, scan, expect_version=1)
    from engine.adapters.evidence_store import sha256_file
    assert not world.app.evidence.path_for(sha256_file(scan)).exists()


def test_the_database_keeps_one_household_per_person_even_past_the_check(world, monkeypatch):
    import workflows.household as household
    from workflows.household import MemberInput, register_household
    number = id_number("36213119900101123")
    register_household(world.app, world["vs"], VILLAGE, [MemberInput("甲", number)], ["illness"])
    monkeypatch.setattr(household, "refuse_registered_ids", lambda conn, actor, ids, except_case=None: None)
    with pytest.raises(RuleViolation) as refused:   # as if a second registration ran at the same moment
        register_household(world.app, world["vs"], VILLAGE, [MemberInput("乙", number)], ["illness"])
    assert refused.value.code == "member.registered_meanwhile"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.household_members).where(
            t.household_members.c.id_number == number)).scalar() == 1


def test_exit_verification_needs_three_township_staff(world, tmp_path):
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.on(date(2019, 11, 20))
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    with pytest.raises(RuleViolation) as refused:
        world.step("tl", "exit", "verification", case, decision="approve", verifiers=("tm", "tm2", "ts3"))
    assert refused.value.code == "verification.verifier_role"
    with pytest.raises(RuleViolation) as too_few:
        world.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts3", "ts4"))
    assert too_few.value.code == "verification.too_few"


@pytest.mark.parametrize("old, new, key", [
    ("  appraisal_quorum: 0.5 ", "  appraisal_quorum: half ", "defaults.appraisal_quorum"),
    ("    household_exit: 7\n", "    household_exit: seven\n", "defaults.notice_days"),
    ("  transition_period_years: 5 ", "  transition_period_yeras: 5 ", "defaults.transition_period_yeras"),
])
def test_policy_values_of_the_wrong_kind_are_refused_at_load(tmp_path, old, new, key):
    target = rules_copy(tmp_path, {"policy.yaml": (old, new)})
    with pytest.raises(ConfigError) as bad:
        load_config(target)
    assert f"键 {key}" in str(bad.value) and f"key {key}" in bad.value.render(lang="en")


def test_a_workflow_naming_an_unknown_check_is_refused(tmp_path):
    from workflows import check_references
    target = rules_copy(tmp_path, {"workflows/household.yaml": ("checks: [exit_standard]}", "checks: [exit_standrad]}")})
    with pytest.raises(ConfigError) as bad:
        check_references(load_config(target))
    assert "exit_standrad" in str(bad.value) and "household.yaml" in str(bad.value)


def test_a_step_cannot_rely_on_a_document_dated_after_it(world):
    case = world.household()
    world.on(date(2019, 7, 1))
    attach_evidence(world.app, world["vs"], case, "application", {"applicant": "甲", "applied_on": "2019-06-01"},
                    replace=True, reason="补签")
    with pytest.raises(RuleViolation) as refused:
        world.step("vs", "identification", "application", case, date=date(2019, 3, 1))
    assert refused.value.code == "date.evidence_after_step"
    world.step("vs", "identification", "application", case, date=date(2019, 6, 2))


def test_a_visit_cannot_predate_the_assistance(world):
    from engine.services.case_actions import record_visit
    case = world.household()
    world.identify(case)
    world.assist(case)
    with pytest.raises(RuleViolation) as refused:
        record_visit(world.app, world["pc1"], case, date(2019, 3, 1), "补记走访")
    assert refused.value.code == "visit.before_assistance"
    record_visit(world.app, world["pc1"], case, date(2019, 3, 20), "首次走访")


def test_person_list_shows_only_people_within_my_jurisdiction(world, monkeypatch, capsys):
    import json
    import cli
    world.app.close()
    where = ["--home", str(world.app.settings.home), *db_option(world.app.engine.url.render_as_string(hide_password=False))]
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["vs2"])
    assert cli.main([*where, "--as", "vs2", "person", "list", "--json"]) == 0
    codes = {p["code"] for p in json.loads(capsys.readouterr().out)}
    assert codes == {"vs2"}                       # nobody else holds a post in 石上村
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["insp"])
    assert cli.main([*where, "--as", "insp", "person", "list", "--json"]) == 0
    assert {"vs", "vs2", "ts1", "cd"} <= {p["code"] for p in json.loads(capsys.readouterr().out)}
