"""The household's life beyond the main path, optimistic locking, and the engine's own promises."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence, record_visit
from engine.domain.errors import BadInput, CaseChanged, RuleViolation
from engine.domain.cases import StepInput
from engine.adapters.repository import load_cases
from engine.services.procedures import perform_step
from engine.reads.case_record import case_detail
from engine.reads.case_lists import list_cases
from engine.reads.queries import next_for
from tests.world import scan_file


def consolidated(world, tmp_path, pairing: tuple[str, str | None] = ("pc1", "pc2"), **household) -> int:
    case = world.household(**household)
    world.identify(case)
    world.assist(case, *pairing)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case)
    world.on(date(2020, 1, 10))
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    return case


def stage(world, case: int) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar()


def test_wrong_exit_reopens_the_same_case_and_keeps_the_exit_on_record(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 6, 1))
    attach_evidence(world.app, world["ts1"], case, "wrong_exit_finding",
                    {"source": "third-party evaluation", "reason": "住房为D级危房，未改造"})
    world.step("ts1", "reopen_wrong_exit", "finding", case)
    world.step("th", "reopen_wrong_exit", "township_review", case, decision="approve")
    world.step("ch", "reopen_wrong_exit", "county_approval", case, decision="approve")
    detail = case_detail(world.app, world["insp"], case)
    assert detail["stage"] == "assisted"
    kinds = [(p["kind"], p["status"]) for p in detail["procedures"]]
    assert ("exit", "completed") in kinds and kinds[-1] == ("reopen_wrong_exit", "completed")
    assert detail["attrs"]["reopenings"][0]["exited_on"] == "2019-11-28"
    # The case can go through exit again, as a new procedure on the same case.
    assert "exit" in next_for(world.app, world["insp"], case)["procedures_available"]


def test_return_to_poverty_needs_income_under_the_line(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 3, 1))
    # 2019 income above the line: the return-to-poverty finding is refused by its standard.
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "reopen_return_to_poverty", "finding", case)
    assert refused.value.code == "check.returned_to_poverty"
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 3000},
                    replace=True, reason="因病支出大增，重新核算")
    world.step("pc1", "reopen_return_to_poverty", "finding", case)
    assert stage(world, case) == "consolidated"


def test_natural_removal_ends_pairings(world, tmp_path):
    case = world.household()
    world.identify(case)
    world.assist(case)
    scan = scan_file(tmp_path / "death.pdf", "death certificate")
    world.on(date(2019, 5, 1))
    attach_evidence(world.app, world["vs"], case, "natural_change_proof", {"reason": "户内成员全部死亡"}, scan)
    world.step("vs", "removal_natural", "finding", case)
    world.step("th", "removal_natural", "township_review", case, decision="approve")
    world.step("cd", "removal_natural", "county_approval", case, decision="approve")
    assert stage(world, case) == "removed"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.pairings).where(
            t.pairings.c.case_id == case, t.pairings.c.end_date.is_(None))).scalar() == 0


def monitor(world, case: int, kind: str = "unstable") -> None:
    world.on(date(2020, 4, 1))
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": kind})
    monitoring_steps(world, case)


def village_steps(world, procedure: str, case: int) -> None:
    """A household's side procedure (monitoring, risk elimination, a reopening) past its first step, in
    the village: verification, appraisal, village notice."""
    world.step("tl", procedure, "verification", case, decision="approve", verifiers=("tm",))
    world.step("vd", procedure, "appraisal", case, attendance=30, votes_for=25, votes_against=1)
    world.step("vs", procedure, "village_notice", case)


def village_chain(world, procedure: str, case: int, day: date, decision: str) -> None:
    """The village's steps, then the township's review and the county's sign-off (`decision`) on `day`."""
    village_steps(world, procedure, case)
    world.on(day)
    world.step("ts1", procedure, "township_review", case, decision="approve")
    world.step("cd", procedure, decision, case, decision="approve")


def monitoring_steps(world, case: int) -> None:
    """The monitoring's steps from its clue (the clue attached) to the county's decision on 2020-04-06."""
    world.step("pc1", "monitoring", "clue", case)
    village_chain(world, "monitoring", case, date(2020, 4, 6), "county_decision")


def eliminable(world, case: int, day: date, net_income: float | None = 30000,
               plan_on: date = date(2020, 4, 20)) -> None:
    """What a risk elimination rests on besides the income, on `day` (monitored since 2020-04-06 by
    `monitor`; `day` at least six months on): the plan revised after the monitoring and approved on
    `plan_on`, 两不愁三保障 and water checked again and a visit finding no risk on `day`, and (unless
    `net_income` is None) the household's income of `day`'s year assessed then."""
    world.on(plan_on)
    world.step("fs", "plan_revision", "plan", case, measures=(("employment", "公益性岗位：护林员"),))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    world.on(day)
    for kind, fields in (("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
                         ("drinking_water", {"safe": True})):
        attach_evidence(world.app, world["vs"], case, kind, fields, replace=True, reason="监测期间入户核查")
    record_visit(world.app, world["pc1"], case, day, "务工收入稳定，无新风险")
    if net_income is not None:
        attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": day.year, "net_income": net_income},
                        replace=True, reason="监测期间入户核算")


def test_monitored_household_stays_consolidated_with_its_type(world, tmp_path):
    case = consolidated(world, tmp_path)
    with pytest.raises(RuleViolation) as edge:      # 边缘易致贫户 is a household never registered poor (research §5.3)
        monitor(world, case, "edge")
    zh, en = edge.value.render(world.app.config, "zh"), edge.value.render(world.app.config, "en")
    assert "该户曾建档立卡并已脱贫，不能认定为「边缘易致贫户」" in zh and "应认定为 脱贫不稳定户、突发严重困难户" in zh, zh
    assert "an exited household at risk is unstable exited household" in en, en
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": "unstable"},
                    replace=True, reason="已脱贫户：脱贫不稳定户")
    monitoring_steps(world, case)
    detail = case_detail(world.app, world["insp"], case)
    assert detail["stage"] == "consolidated"
    assert detail["attrs"]["monitoring"] == {"type": "unstable", "since": "2020-04-06"}


def test_a_monitored_household_is_not_identified_again_nor_a_free_one_eliminated(world, tmp_path):
    """Monitoring started again on a monitored household had gone through on its old clue; risk
    elimination of a household not monitored said only that the monitoring line was not configured."""
    case = consolidated(world, tmp_path)
    world.on(date(2020, 3, 1))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 30000},
                    replace=True, reason="2020年收入核算")
    with pytest.raises(RuleViolation) as free:
        world.step("pc1", "risk_elimination", "assessment", case)
    assert free.value.params["failures"] == [("not_monitored", {})]
    assert "不是监测对象" in free.value.render(world.app.config, "zh")
    offered = lambda: {o["procedure"] for o in next_for(world.app, world["insp"], case)["others"]}  # noqa: E731
    assert "monitoring" in offered() and "risk_elimination" not in offered()
    monitor(world, case, "unstable")
    assert "risk_elimination" in offered() and "monitoring" not in offered()
    world.on(date(2020, 5, 1))
    with pytest.raises(RuleViolation) as old_clue:      # the clue the monitoring began on is that procedure's
        world.step("pc1", "monitoring", "clue", case)
    assert old_clue.value.code == "evidence.earlier_procedure"
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-04-30", "monitoring_type": "unstable"})
    with pytest.raises(RuleViolation) as again:
        world.step("pc1", "monitoring", "clue", case)
    said = again.value.render(world.app.config, "zh")
    assert "自 2020-04-06 起已是监测对象（脱贫不稳定户）" in said and "风险消除" in said
    assert "since 2020-04-06" in again.value.render(world.app.config, "en")


def test_a_steps_form_is_told_the_verifiers_and_notice_days_the_policy_asks(world, tmp_path):
    """The verification's form said 人数不少于规定 and the notice's none: the numbers came only in a refusal."""
    case = consolidated(world, tmp_path)
    world.on(date(2020, 4, 1))
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", case)
    verification = next_for(world.app, world["tl"], case)["next"]
    params = world.app.config.policy.params("36", 2020)
    assert verification["verifiers_min"] == params["verifiers_min"]["monitoring"] >= 1
    assert "days_required" not in verification
    world.step("tl", "monitoring", "verification", case, decision="approve", verifiers=("tm",))
    world.step("vd", "monitoring", "appraisal", case, attendance=30, votes_for=25, votes_against=1)
    notice = next_for(world.app, world["vs"], case)["next"]
    assert notice["step"] == "village_notice" and notice["days_required"] == params["notice_days"]["monitoring"] == 5


def test_household_without_labour_capacity_stays_monitored(world, tmp_path):
    case = consolidated(world, tmp_path)
    with world.app.engine.begin() as conn:   # every member loses labour capacity
        conn.execute(update(t.household_members).where(t.household_members.c.case_id == case)
                     .values(labour_ability="lost"))
    monitor(world, case)
    world.on(date(2021, 3, 1))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2021, "net_income": 30000},
                    replace=True, reason="2021年收入核算")
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "risk_elimination", "assessment", case)
    assert refused.value.code == "check.risk_eliminated"
    assert ("no_labour", {}) in refused.value.params["failures"]
    assert "labour" in refused.value.render(world.app.config, "en")
    assert "劳动能力" in refused.value.render(world.app.config, "zh")


def test_visits_are_recorded_in_the_audit_log(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 2, 1))
    record_visit(world.app, world["fs"], case, date(2020, 2, 1), "收入稳定，产业正常")
    record_visit(world.app, world["fs"], case, date(2020, 2, 1), "户主住院，医疗支出大", risk=True)
    with world.app.engine.connect() as conn:
        actions = conn.execute(select(t.audit_events.c.action).where(t.audit_events.c.case_id == case)
                               .order_by(t.audit_events.c.case_seq)).scalars().all()
    assert actions[-1] == "visit_recorded"
    # and the case shows them, a risk said (they were recorded and shown nowhere)
    from tests.helpers.notifications import cli
    shown = cli(world, "fs", "case", "show", str(case)).out
    assert "走访 2020-02-01（fs）：收入稳定，产业正常" in shown and "户主住院，医疗支出大（有返贫致贫风险）" in shown


def test_two_people_acting_at_once_one_wins_the_other_is_told_the_case_changed_meanwhile(world):
    """Both read version N; the first commit wins; the second is told the case changed meanwhile and
    nothing was written (a service judges it again first: tests/test_races.py)."""
    case = world.household()
    app = world.app
    events_before = _count(world, t.audit_events)
    # Two independent connections, as two cadres' commands would be.
    with app.engine.connect() as first, app.engine.connect() as second:
        row_a = load_cases(first, [case])[case]
        row_b = load_cases(second, [case])[case]
        first.rollback(), second.rollback()        # end the reads; each write below is its own transaction
        assert row_a.version == row_b.version
        from engine.services.case_actions import append_case_event
        with first.begin():
            append_case_event(app, first, world["vs"], row_a, "visit_recorded", "village_secretary")
        with pytest.raises(CaseChanged) as lost:
            with second.begin():
                append_case_event(app, second, world["vd"], row_b, "visit_recorded", "village_director")
    assert lost.value.code == "case.changed_meanwhile"
    assert _count(world, t.audit_events) == events_before + 1


def test_expect_version_refuses_a_stale_step(world):
    case = world.household()
    world.on(date(2019, 3, 1))
    seen = case_detail(world.app, world["vs"], case)["version"]
    attach_evidence(world.app, world["vd"], case, "appraisal_minutes", {}, _scan(world))  # someone else acts
    with pytest.raises(CaseChanged):
        perform_step(world.app, world["vs"], "identification", "application", [case], StepInput(expect_version=seen))
    world.step("vs", "identification", "application", case, expect_version=seen + 1)


def _scan(world) -> Path:
    return scan_file(Path(world.app.settings.home) / "minutes.pdf", "minutes of the villagers' meeting")


def test_every_action_appends_one_chained_audit_event_per_case(world, tmp_path):
    case = consolidated(world, tmp_path)
    from engine.domain.audit import event_hash
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case)
                              .order_by(t.audit_events.c.case_seq)).all()
        row = conn.execute(select(t.cases).where(t.cases.c.id == case)).first()
        steps = conn.execute(select(func.count()).select_from(t.steps).where(t.steps.c.case_id == case)).scalar()
    assert [e.case_seq for e in events] == list(range(1, len(events) + 1)) == list(range(1, row.event_count + 1))
    assert sum(1 for e in events if e.action == "step") == steps
    previous = None
    for e in events:
        assert e.prev_hash == previous
        assert event_hash(e._asdict()) == e.hash
        previous = e.hash
    assert row.last_event_hash == previous
    moves = [(e.from_stage, e.to_stage) for e in events if e.to_stage]
    assert moves == [("candidate", "identified"), ("identified", "assisted"), ("assisted", "exited"),
                     ("exited", "consolidated")]


def test_steps_record_the_policy_version_and_the_line_they_used(world, tmp_path):
    case = consolidated(world, tmp_path)
    detail = case_detail(world.app, world["insp"], case)
    exit_proc = next(p for p in detail["procedures"] if p["kind"] == "exit")
    proposal = exit_proc["steps"][0]
    assert proposal["policy_version"] == world.app.policy_version
    assert proposal["data"]["exit_check"]["line"] == 3747
    assert "江西" in proposal["data"]["exit_check"]["line_source"]
    with world.app.engine.connect() as conn:
        kept = conn.execute(select(t.policy_versions.c.content).where(
            t.policy_versions.c.version == world.app.policy_version)).scalar()
    assert kept["policy"]["provinces"]["36"]["income_line"]["2019"] == 3747
    assert kept["workflows"]["household"]["procedures"]["exit"]["steps"][0]["key"] == "proposal"


def test_an_exit_judged_on_the_national_line_for_want_of_the_province_s_says_so(world, tmp_path):
    """Jiangxi's lines in policy.yaml stop at 2019: an exit on a 2020 income is judged on the national
    line (4,000), and the refusal says that the province's 2020 line is not configured (it said only
    "2020 年国家标准"; `config check` tells the office to add it); a passing exit records the same, which its
    record shows. A year the province gives is judged on the province's line, said as before."""
    from engine.reads.words import data_words
    poor, better = world.household(), world.household()
    for case, cadre in ((poor, "pc1"), (better, "pc2")):
        world.identify(case)
        world.assist(case, cadre, None)
    world.exit_evidence(poor, income_2019=7000, tmp=tmp_path, year=2020)          # 3,500 a person
    world.exit_evidence(better, income_2019=10000, tmp=tmp_path, year=2020)       # 5,000 a person
    world.on(date(2020, 11, 20))
    proposal = dict(attendance=38, votes_for=33, votes_against=1)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", poor, **proposal)
    zh, en = (refused.value.render(world.app.config, lang) for lang in ("zh", "en"))
    assert "标准线 4,000 元（2020 年国家标准：江西（36）未配置 2020 年省定标准线，按国家标准线判定" in zh, zh
    assert "policy.yaml" not in zh      # what to do is said to the office (config check), not in the record
    assert "no provincial line of 江西 (36) for 2020 is configured, so the national line was used" in en, en
    world.step("vd", "exit", "proposal", better, **proposal)
    steps = next(p for p in case_detail(world.app, world["insp"], better)["procedures"] if p["kind"] == "exit")["steps"]
    shown = dict(data_words(world.app.config, steps[0]["data"]))
    assert "江西（36）未配置 2020 年省定标准线" in shown["退出收入核对"], shown
    assert steps[0]["data"]["exit_check"]["line"] == 4000
    on_its_line = consolidated(world, tmp_path, ("pc3", None))                    # 2019: Jiangxi's 3,747
    steps = next(p for p in case_detail(world.app, world["insp"], on_its_line)["procedures"]
                 if p["kind"] == "exit")["steps"]
    assert "未配置" not in dict(data_words(world.app.config, steps[0]["data"]))["退出收入核对"]


def test_no_case_stays_bound_to_the_shared_machine(world, tmp_path):
    consolidated(world, tmp_path)
    for lifecycle in world.app.lifecycles.values():
        assert lifecycle.machine.models == []


def test_a_village_list_is_one_notice(world):
    cases = [world.household() for _ in range(4)]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=30, votes_against=3)
    world.step("tl", "identification", "village_verification", cases, decision="approve", verifiers=("tm",))
    outcome = world.step("fs", "identification", "first_notice", cases)
    assert len({o.notice_id for o in outcome}) == 1
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.notice_cases).where(
            t.notice_cases.c.notice_id == outcome[0].notice_id)).scalar() == 4


def test_a_refused_case_in_a_list_refuses_the_whole_list(world):
    good, rich = world.household(income_2018=2000), world.household(income_2018=20000)
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", [good, rich])
    before = _count(world, t.steps)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "identification", "appraisal", [good, rich], attendance=40, votes_for=30, votes_against=3)
    assert refused.value.params["case"] == rich
    assert _count(world, t.steps) == before


def test_case_list_streams_and_filters_by_region_and_waiting(world):
    mine = [world.household() for _ in range(3)]
    other = world.household(village="360730101201", by="vs2")
    listed = [c["id"] for c in list_cases(world.app, world["insp"], kind="household", batch=2)]
    assert listed == mine + [other]
    assert [c["id"] for c in list_cases(world.app, world["vs"], waiting_for_me=True)] == mine
    assert [c["id"] for c in list_cases(world.app, world["insp"], region="360730101000")] == [other]
    assert list(list_cases(world.app, world["cd"], waiting_for_me=True)) == []


def test_case_next_names_blockers_and_who_may_act(world):
    case = world.household(income_2018=20000)
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    nxt = next_for(world.app, world["insp"], case)["next"]
    assert nxt["step"] == "appraisal"
    assert {e["person"] for e in nxt["eligible"]} == {"vd"}          # vs already signed
    assert any("不低于标准线" in b for b in nxt["blockers"])
    english = next_for(world.app, world["insp"], case, "en")["next"]
    assert any("not under the line" in b for b in english["blockers"])


def test_id_numbers_are_checked_and_unique(world):
    from workflows.household import MemberInput, register_household
    with pytest.raises(BadInput) as bad:
        register_household(world.app, world["vs"], "360730100201", [MemberInput("甲", "11010519491231002Y")], ["illness"])
    assert bad.value.code == "member.bad_id"
    case = world.household()
    with world.app.engine.connect() as conn:
        taken = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == case)).scalars().first()
    with pytest.raises(RuleViolation) as twice:
        register_household(world.app, world["vs"], "360730100201", [MemberInput("乙", taken)], ["illness"])
    assert twice.value.code == "member.already_registered"
    assert taken not in twice.value.render(world.app.config, "en")   # the ID is masked in messages


def _count(world, table) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


# --- configuration and text -------------------------------------------------------------------

def test_every_message_the_code_can_raise_has_chinese_and_english_text():
    from config import load_config
    root = Path(__file__).resolve().parents[1]
    source = "\n".join(p.read_text(encoding="utf-8") for folder in ("engine", "workflows", "demo")
                       for p in (root / folder).glob("*.py")) + (root / "cli.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'(?:RuleViolation|BadInput|AuthError|NotFound|SchemaOutdated)\("([a-z_]+\.[a-z_.]+)"',
                           source)) | {"case.changed", "case.changed_meanwhile"}
    labels = load_config().labels
    cfg = load_config()
    codes |= {f"check.{c}" for wf in cfg.workflows.values() for p in wf.procedures.values()
              for s in p.steps for c in s.checks}
    missing = sorted(c for c in codes if f"msg.{c}" not in labels)
    assert not missing
    for wf in cfg.workflows.values():
        for stage_name in wf.stages:
            assert f"stage.{stage_name}" in labels
        for name, proc in wf.procedures.items():
            assert f"procedure.{name}" in labels
            assert all(f"step.{s.key}" in labels for s in proc.steps)
        assert all(f"evidence.{e}" in labels for e in wf.evidence_types)


def test_configuration_errors_name_the_file_and_the_key(tmp_path):
    import shutil
    from config import ConfigError, load_config
    shutil.copytree(Path(__file__).resolve().parents[1] / "config", tmp_path / "config",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    policy = tmp_path / "config" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("2019: 3747}", "2019: -1}"), encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_config(tmp_path / "config")
    assert "policy.yaml" in str(bad.value) and "provinces.36.income_line.2019" in str(bad.value)
    workflow = tmp_path / "config" / "policy.yaml"
    workflow.write_text(workflow.read_text(encoding="utf-8").replace("2019: -1}", "2019: 3747}"), encoding="utf-8")
    hh = tmp_path / "config" / "workflows" / "household.yaml"
    hh.write_text(hh.read_text(encoding="utf-8").replace("roles: [county_office_staff]}", "roles: [county_clerk]}", 1),
                  encoding="utf-8")
    with pytest.raises(ConfigError) as bad_role:
        load_config(tmp_path / "config")
    assert "household.yaml" in str(bad_role.value) and "county_clerk" in str(bad_role.value)


def test_the_migration_head_is_the_revision_the_code_expects():
    from alembic.script import ScriptDirectory
    from migrations import HEAD_REVISION, alembic_config
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == HEAD_REVISION


def test_member_changes_count_in_the_exit_check_and_keep_old_values(world, tmp_path):
    from workflows.household import MemberInput, add_member, member_leaves, update_member
    from tests.world import id_number
    case = world.household(members=2)
    world.identify(case)
    world.assist(case)
    baby = id_number("36073020190501001")
    add_member(world.app, world["vs"], case, MemberInput("新生儿", baby, "child", "none", "healthy", "none", True, True), "出生")
    update_member(world.app, world["vs"], case, baby, {"insured_critical": "no"}, "尚未参加大病保险")
    world.exit_evidence(case, tmp=tmp_path)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    assert ("medical", {"name": "新生儿"}) in refused.value.params["failures"]
    member_leaves(world.app, world["vs"], case, baby, "迁出")
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    with world.app.engine.connect() as conn:
        change = conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "member_updated")).scalar()
    assert change["old"] == {"insured_critical": True} and change["new"] == {"insured_critical": False}


def test_a_members_phone_and_bank_account_are_updated_checked_and_kept_in_the_record(world):
    """Contact details change (a new phone): updated on the case, checked as at registration, the old
    ones in the audit event, and audit verify finds the member rows as the event left them."""
    from workflows.household import update_member
    from engine.reads.audit_verify import verify
    from engine.domain.errors import BadInput
    case = world.household(members=1)
    with world.app.engine.connect() as conn:
        number = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == case)).scalar()
    update_member(world.app, world["vs"], case, number, {"phone": "+86 139 0000 1111", "bank_account": "6222 0000 1111 22"},
                  "换了号码")
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.household_members.c.phone, t.household_members.c.bank_account).where(
            t.household_members.c.case_id == case)).one()
    assert tuple(row) == ("+86 139 0000 1111", "62220000111122")
    with pytest.raises(BadInput) as bad:
        update_member(world.app, world["vs"], case, number, {"phone": "call me"}, "x")
    assert bad.value.code == "member.bad_phone"
    assert verify(world.app, processes=1).intact


def test_waiting_list_leaves_out_cases_i_already_signed(world):
    case = world.household()
    world.on(date(2019, 3, 1))
    world.up_to_first_notice(case)
    world.on(date(2019, 3, 8))
    world.step("ts1", "identification", "township_review", case, decision="approve")
    assert [c["id"] for c in list_cases(world.app, world["ts2"], waiting_for_me=True)] == [case]
    assert list(list_cases(world.app, world["ts1"], waiting_for_me=True)) == []


def test_insurance_not_given_is_recorded_unknown_and_the_exit_asks_for_it(world, tmp_path):
    """A member whose insurance nobody gave (a list's blank cell) is not recorded as insured: the exit
    standard asks for it by name, and once recorded the exit goes on. Words a cadre writes (是, 已参保)
    are yes; anything else is refused, not read as no."""
    from workflows.household import MemberInput, add_member, update_member
    from tests.world import id_number
    case = world.household(members=2)
    world.identify(case)
    world.assist(case)
    baby = id_number("36073020190501002")
    add_member(world.app, world["vs"], case, MemberInput("新生儿", baby, "child", "none", "healthy", "none",
                                                         insured_basic="已参保", insured_critical=None), "出生")
    with world.app.engine.connect() as conn:
        stored = conn.execute(select(t.household_members.c.insured_basic, t.household_members.c.insured_critical)
                              .where(t.household_members.c.id_number == baby)).one()
    assert tuple(stored) == (True, None)
    with pytest.raises(BadInput) as odd:
        update_member(world.app, world["vs"], case, baby, {"insured_critical": "大概"}, "核实")
    assert odd.value.code == "member.bad_yes_no"
    world.exit_evidence(case, income_2019=20000.0, tmp=tmp_path)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    assert ("medical_unknown", {"name": "新生儿"}) in refused.value.params["failures"]
    assert "新生儿 是否参加基本医保和大病保险尚未登记" in refused.value.render(world.app.config, "zh")
    update_member(world.app, world["vs"], case, baby, {"insured_critical": "是"}, "已核实参保")
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)


def test_a_new_head_of_household_in_one_change(world, tmp_path):
    """户主变更: the head dies; the son becomes head, the widow is now his parent, the former head is
    kept on record as having left. A relation edit never makes a second head or none; the case is
    known by its new head's name; one audit event; the record verifies."""
    from tests.test_accountability import cli
    from workflows.household import change_head, member_leaves, update_member
    from engine.reads.audit_verify import verify
    case = world.household(members=3)          # 成员-0 head, 成员-1 spouse, 成员-2 parent

    def members() -> dict:
        with world.app.engine.connect() as conn:
            return {r.id_number: (r.name, r.relation, r.active) for r in conn.execute(
                select(t.household_members).where(t.household_members.c.case_id == case))}

    def title() -> str:
        with world.app.engine.connect() as conn:
            return conn.execute(select(t.cases.c.title).where(t.cases.c.id == case)).scalar()

    before = members()
    head, spouse, parent = sorted(before, key=lambda n: before[n][0])
    for number, relation in ((spouse, "head"), (head, "spouse"), (spouse, "户主")):
        with pytest.raises(RuleViolation) as refused:
            update_member(world.app, world["vs"], case, number, {"relation": relation}, "x")
        assert refused.value.code == "member.head_change"
    with pytest.raises(RuleViolation):
        member_leaves(world.app, world["vs"], case, head, "去世")
    for kwargs, code in (({}, "member.former_head"),
                         ({"former_relation": "parent", "former_leaves": True}, "member.former_head"),
                         ({"former_leaves": True, "relations": {parent: "head"}}, "household.one_head"),
                         ({"former_leaves": True, "relations": {spouse: "child"}}, "member.relations_heads"),
                         ({"former_relation": "户主"}, "household.one_head")):
        with pytest.raises(BadInput) as bad:
            change_head(world.app, world["vs"], case, spouse, "原户主去世", **kwargs)
        assert bad.value.code == code, kwargs
    with pytest.raises(RuleViolation) as already:
        change_head(world.app, world["vs"], case, head, "x", former_leaves=True)
    assert already.value.code == "member.already_head"
    assert members() == before and title() == before[head][0]           # nothing written by a refusal
    assert change_head(world.app, world["vs"], case, parent, "原户主去世", former_leaves=True,
                       relations={spouse: "父母"}) == before[parent][0]
    assert members() == {head: (before[head][0], "head", False), spouse: (before[spouse][0], "parent", True),
                         parent: (before[parent][0], "head", True)}
    assert title() == before[parent][0]
    with world.app.engine.connect() as conn:
        event = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case,
                                                          t.audit_events.c.action == "head_changed")).one()
    assert event.reason == "原户主去世" and event.detail["former_left"] is True
    assert event.detail["relations"] == [[before[parent][0], "parent", "head"], [before[spouse][0], "spouse", "parent"]]
    update_member(world.app, world["vs"], case, parent, {"name": "更正姓名"}, "录入错误")
    assert title() == "更正姓名"              # the head's corrected name is the case's name
    shown = cli(world, "vs", "household", "head", case, spouse, "--former", "子女", "--reason", "交由母亲")
    assert shown.code == 0 and f"案件 {case}：户主已变更为 {before[spouse][0]}" in shown.out
    assert members()[parent][1:] == ("child", True) and title() == before[spouse][0]
    assert verify(world.app, processes=1).intact


def test_a_failed_vote_is_said_in_the_readers_language_and_the_record_holds(world, tmp_path):
    """民主评议 with too few votes for: the procedure is rejected; the step's reason is said in each
    reader's language (it was stored in English: 'appraisal vote failed: 10 of 40 for')."""
    from tests.test_accountability import cli
    from engine.reads.audit_verify import verify
    from engine.reads.trace import case_trace
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=10, votes_against=28)
    assert stage(world, case) == "candidate"
    assert "民主评议未通过：到会 40 人，赞成 10 人" in cli(world, "vs", "case", "show", case).out
    assert "appraisal vote failed: 10 of 40 for" in cli(world, "vs", "case", "show", case, lang="en").out
    assert "民主评议未通过" in cli(world, "insp", "trace", case).out
    assert case_trace(world.app, world["insp"], case)["integrity"]["intact"]
    from engine.reads.trace import person_trace
    voted = [s["reason"] for s in person_trace(world.app, world["insp"], "vd", "en")["steps"] if s["reason"]]
    assert voted == ["appraisal vote failed: 10 of 40 for"]          # the person's trace, the API's too
    steps = tmp_path / "steps.csv"
    assert cli(world, "insp", "export", "steps", "--csv", steps).code == 0
    exported = steps.read_text(encoding="utf-8-sig")
    assert "民主评议未通过：到会 40 人，赞成 10 人" in exported and "outcome_reason" not in exported
    assert verify(world.app, processes=1).intact
    with world.app.engine.begin() as conn:      # the row's reason rewritten to read the same: still found
        conn.execute(update(t.steps).where(t.steps.c.case_id == case, t.steps.c.step_key == "appraisal")
                     .values(reason="民主评议未通过：到会 40 人，赞成 10 人"))
    assert not case_trace(world.app, world["insp"], case, "zh")["integrity"]["intact"]


def test_who_may_sign_a_households_acknowledgement_is_its_own_pairing_cadre(world, tmp_path):
    """农户认可签字: of the village's pairing cadres only the household's own may sign (the list named
    every pairing cadre of the village); the first secretary and team members stay listed."""
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc3", second=None)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case, through="verification")
    nxt = next_for(world.app, world["vs"], case)["next"]
    assert nxt["step"] == "acknowledgement"
    paired = {e["person"] for e in nxt["eligible"] if e["role"] == "pairing_cadre"}
    assert paired == {"pc3"}
    assert "fs" in {e["person"] for e in nxt["eligible"]}


def test_a_household_left_without_a_head_gets_one_by_a_change_of_head(world):
    """A relation edit of an earlier version could take the head's relation away; the change of head
    mends such a household (it failed with a traceback: no head to replace)."""
    from workflows.household import change_head
    case = world.household(members=2)
    with world.app.engine.begin() as conn:          # as member-update --set relation=… left it
        conn.execute(update(t.household_members).where(t.household_members.c.case_id == case,
                                                       t.household_members.c.relation == "head")
                     .values(relation="spouse"))
        rows = conn.execute(select(t.household_members.c.id_number, t.household_members.c.name)
                            .where(t.household_members.c.case_id == case)).all()
    assert change_head(world.app, world["vs"], case, rows[0].id_number, "户主关系录入错误") == rows[0].name
    with world.app.engine.connect() as conn:
        heads = conn.execute(select(func.count()).where(t.household_members.c.case_id == case,
                                                        t.household_members.c.relation == "head")).scalar()
    assert heads == 1


def test_a_persons_words_are_never_taken_for_the_engines(world, tmp_path):
    """A reason written as the engine stores its messages would be shown as the engine's finding: it is
    refused. Text that merely begins like one is a person's words, shown as typed, and breaks no page,
    trace or export (a malformed one crashed them)."""
    from tests.test_accountability import cli
    from engine.domain.errors import Msg, stored
    from engine.reads.trace import case_trace, person_trace
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    mimic = stored(Msg("outcome_reason.appraisal_vote_failed", {"votes_for": 1, "attendance": 40}))
    with pytest.raises(BadInput) as refused:
        world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2,
                   reason=mimic)
    assert refused.value.code == "input.engine_text"
    odd = '{"key": "x", "params": [1]}'
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2, reason=odd)
    assert odd in cli(world, "vs", "case", "show", case).out
    assert case_trace(world.app, world["insp"], case)["integrity"]["intact"]
    assert any(s["reason"] == odd for s in person_trace(world.app, world["insp"], "vd")["steps"])
    assert cli(world, "insp", "export", "steps", "--csv", tmp_path / "s.csv").code == 0


def test_a_replacement_or_relatives_reason_written_as_the_engines_is_refused(world):
    """An evidence replacement's reason and a relative's are a person's words too: one written as the
    engine stores its messages is refused, and nothing is written."""
    from engine.domain.errors import Msg, stored
    from engine.services.case_actions import attach_evidence, record_relative
    case = world.household()
    mimic = stored(Msg("outcome_reason.appraisal_vote_failed", {"votes_for": 1, "attendance": 40}))
    with world.app.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.audit_events)).scalar()
    with pytest.raises(BadInput) as refused:
        attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 5000.0},
                        replace=True, reason=mimic)
    assert refused.value.code == "input.engine_text"
    with pytest.raises(BadInput) as refused:
        record_relative(world.app, world["vs"], case, "ts1", "表兄", mimic)
    assert refused.value.code == "input.engine_text"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_events)).scalar() == before
