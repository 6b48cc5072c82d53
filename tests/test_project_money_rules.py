"""A fund project's money rules (audit a1, findings 1, 2, 7, 9, 14, 15): who may be paid and when,
never beyond the settled final cost, retention released after completion, assets within the cost,
the project's leader does not record its money."""
from __future__ import annotations

from datetime import date

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.services.case_actions import attach_evidence
from tests.helpers.projects import D, add_project, count, enter_library, figures_of, fund, households, pay, refused
from tests.test_project_figures import run
from tests.world import World, scan_file


def funded(world: World) -> tuple[int, list[int]]:
    """A project of 300,000 allocated on 16 April 2019, funded (schedule) on 3 May, contractor 宁都县农建公司."""
    beneficiaries = households(world)
    case = add_project(world, beneficiaries)
    enter_library(world, case)
    fund(world, case)
    return case, beneficiaries


def settle(world: World, case: int, final_cost: str, tmp_path, announce: bool = True) -> None:
    """Milestones done, accepted, final accounts settled at `final_cost`, completion announced."""
    for day, milestone in ((date(2019, 6, 30), "基础完工"), (date(2019, 9, 30), "主体完工"), (date(2019, 10, 30), "竣工")):
        world.on(day)
        world.step("ts3", "milestone", "milestone", case, milestone=milestone)
    world.on(date(2019, 11, 1))
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    world.on(date(2019, 11, 10))
    attach_evidence(world.app, world["cs"], case, "acceptance_report",
                    {"firm": "赣州工程咨询公司", "report_no": "YS-2019-018", "accepted_on": "2019-11-08",
                     "quality": "合格"}, scan_file(tmp_path / "acceptance.pdf", "acceptance report"))
    world.step("cd", "completion", "county_acceptance", case, decision="approve")
    world.on(date(2019, 11, 20))
    attach_evidence(world.app, world["cs"], case, "final_accounts", {"settled_on": "2019-11-20", "final_cost": final_cost})
    world.step("cs", "completion", "final_accounts", case)
    if announce:
        world.step("ts2", "completion", "completion_announcement", case)


def texts(world: World, error) -> str:
    return error.render(world.app.config, "zh") + "\n" + error.render(world.app.config, "en")


def test_after_final_accounts_nothing_is_paid_beyond_the_settled_final_cost(world, tmp_path):
    case, _ = funded(world)
    pay(world, case, "150000", on=date(2019, 6, 1))
    pay(world, case, "10000", kind="retention", on=date(2019, 6, 1))
    settle(world, case, "200000", tmp_path, announce=False)
    # 160,000 committed (retention included) of a 200,000 final cost: 40,000 is left, not 40,000.01,
    # although 140,000 of the allocation is still unpaid; before the announcement and after it.
    error = refused(world, RuleViolation, "project.over_final_cost",
                    lambda: pay(world, case, "40000.01", on=date(2019, 11, 21)))
    said = texts(world, error)
    assert "200000.00" in said and "160000.00" in said and "40000.00" in said and "40000.01" in said, said
    world.step("ts2", "completion", "completion_announcement", case)
    refused(world, RuleViolation, "project.over_final_cost", lambda: pay(world, case, "40000.01", on=date(2019, 11, 25)))
    pay(world, case, "40000", on=date(2019, 11, 25))
    # the retention held is released within the cost: it was counted already
    pay(world, case, "10000", on=date(2019, 11, 26), from_retention=True)
    figures = figures_of(world, case, date(2019, 11, 30))
    assert (figures["disbursed"], figures["retention"]) == (D("200000.00"), D("0.00"))
    refused(world, RuleViolation, "project.over_final_cost", lambda: pay(world, case, "0.01", on=date(2019, 11, 27)))


def test_only_the_projects_contractor_or_a_beneficiary_is_paid_as_spent(world):
    case, beneficiaries = funded(world)
    wrong = refused(world, RuleViolation, "project.payee_not_contractor",
                    lambda: pay(world, case, "1000", payee="别的公司"))
    assert "别的公司" in texts(world, wrong) and "宁都县农建公司" in texts(world, wrong)
    assert "`--payee-kind other`" in wrong.render(world.app.config, "zh")
    stranger = refused(world, RuleViolation, "project.payee_not_beneficiary",
                       lambda: pay(world, case, "1000", kind="beneficiary", payee="王不相干"))
    said = texts(world, stranger)
    assert all(f"{b} 成员{i}-0" in said for i, b in enumerate(beneficiaries, start=1)), said
    # a beneficiary by its head's name or its case number; a transfer (not spent) to anyone
    pay(world, case, "1000", kind="beneficiary", payee="成员1-0")
    pay(world, case, "1000", kind="beneficiary", payee=str(beneficiaries[1]))
    pay(world, case, "500", kind="other", payee="镇财政所")
    assert figures_of(world, case, date(2019, 5, 10))["disbursed"] == D("2000.00")
    # the command line says it too, and writes nothing
    before = count(world, t.disbursements)
    code, _, err = run(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "1000", "--payee-kind", "contractor",
                       "--payee", "别的公司", "--date", "2019-05-10")
    assert code == 1 and "宁都县农建公司" in err and "Traceback" not in err, err
    assert count(world, t.disbursements) == before


def test_retention_money_is_released_only_after_the_completion_is_announced(world, tmp_path):
    case, _ = funded(world)
    pay(world, case, "100000", on=date(2019, 6, 1))
    pay(world, case, "10000", kind="retention", on=date(2019, 6, 1))
    early = refused(world, RuleViolation, "project.retention_before_completion",
                    lambda: pay(world, case, "5000", on=date(2019, 10, 19), from_retention=True))
    assert "实施中" in early.render(world.app.config, "zh")
    settle(world, case, "200000", tmp_path, announce=False)
    refused(world, RuleViolation, "project.retention_before_completion",      # settled, not yet announced
            lambda: pay(world, case, "5000", on=date(2019, 11, 20), from_retention=True))
    world.step("ts2", "completion", "completion_announcement", case)
    pay(world, case, "5000", on=date(2019, 11, 21), from_retention=True)
    assert figures_of(world, case, date(2019, 11, 30))["retention"] == D("5000.00")


def test_a_payment_before_the_allocation_names_the_allocations_date(world):
    case, _ = funded(world)         # allocated 16 April, funded (schedule) 3 May
    error = refused(world, RuleViolation, "project.paid_before_allocation",
                    lambda: pay(world, case, "1000", on=date(2019, 4, 10)))
    said = texts(world, error)
    assert "2019-04-16" in said and "2019-05-03" not in said, said
    pay(world, case, "1000", on=date(2019, 4, 20))       # allocated by then: an advance to the contractor


def test_the_projects_leader_does_not_record_its_payments(world):
    case, _ = funded(world)         # leader ts3, a township cadre who may record other projects' payments
    error = refused(world, RuleViolation, "project.leader_pays", lambda: pay(world, case, "1000", who="ts3"))
    assert "项目负责人" in error.render(world.app.config, "zh")
    pay(world, case, "1000", who="ts1")


def test_assets_handed_over_are_within_the_settled_final_cost(world, tmp_path):
    case, beneficiaries = funded(world)
    pay(world, case, "20000", on=date(2019, 6, 1))
    settle(world, case, "20000", tmp_path)
    world.on(date(2019, 12, 1))
    error = refused(world, RuleViolation, "project.assets_over_cost", lambda: world.step(
        "ts4", "handover", "asset_handover", case, assets=(
            ("public_welfare", "道路", "100000", "洋塘村村民委员会", None),
            ("household", "到户类", "5000", "成员1-0", beneficiaries[0]))))
    said = texts(world, error)
    assert "105000.00" in said and "20000.00" in said, said
    world.step("ts4", "handover", "asset_handover", case, assets=(
        ("public_welfare", "道路", "15000", "洋塘村村民委员会", None),
        ("household", "到户类", "5000", "成员1-0", beneficiaries[0])))


def test_a_project_handed_over_with_its_target_not_met_is_flagged_for_the_inspectors(world, tmp_path):
    from engine.reads.inspection import flags
    case, beneficiaries = funded(world)
    pay(world, case, "20000", on=date(2019, 6, 1))
    settle(world, case, "20000", tmp_path)
    world.on(date(2019, 12, 1))
    world.step("ts4", "handover", "asset_handover", case, assets=(("public_welfare", "道路", "20000", "洋塘村村民委员会", None),))
    world.on(date(2019, 12, 10))
    attach_evidence(world.app, world["cs"], case, "performance_evaluation",
                    {"evaluated_on": "2019-12-10", "target_met": "no", "summary": "增收目标未完成"})
    world.step("cd", "handover", "performance_evaluation", case, decision="approve")
    (flag,) = list(flags(world.app, world["insp"], kinds=["project_target_missed"]))
    assert (flag.case_id, flag.person[0]) == (case, "cd") and flag.events
    assert "未实现" in flag.text(world.app.config, "zh") and "2019-12-10" in flag.text(world.app.config, "zh")
    assert "not met" in flag.text(world.app.config, "en")


def test_the_monthly_disbursement_report_is_owned_by_someone_who_may_file_it(world):
    from sqlalchemy import select
    case, _ = funded(world)         # leader ts3, a township cadre: the report is the county's to file
    with world.app.engine.connect() as conn:
        owner, role = conn.execute(select(t.persons.c.code, t.deadlines.c.owner_role).join(
            t.persons, t.persons.c.id == t.deadlines.c.owner_id).where(
            t.deadlines.c.case_id == case, t.deadlines.c.rule == "disbursement_report",
            t.deadlines.c.status == "open")).one()
    assert (owner, role) == ("cs", "county_office_staff")
    world.on(date(2019, 6, 5))
    refused(world, RuleViolation, "auth.wrong_role",
            lambda: world.step("ts3", "disbursement_report", "disbursement_report", case))
    world.step(owner, "disbursement_report", "disbursement_report", case)


def test_a_monthly_report_never_filed_lapses_when_the_project_leaves_construction_it_is_not_done(world, tmp_path):
    """A project that completes without its monthly disbursement report filed: the report's deadline was
    closed as done ("status": "done", "closed_reason": "stage:exited"), as if it had been filed."""
    from sqlalchemy import select
    case, _ = funded(world)
    world.on(date(2019, 6, 5))
    world.step("cs", "disbursement_report", "disbursement_report", case)     # May's, filed
    settle(world, case, "300000", tmp_path)                                    # the later months' never
    with world.app.engine.connect() as conn:
        rows = conn.execute(select(t.deadlines.c.status, t.deadlines.c.closed_reason).where(
            t.deadlines.c.case_id == case, t.deadlines.c.rule == "disbursement_report")
            .order_by(t.deadlines.c.id)).all()
    assert [tuple(r) for r in rows] == [("done", "step:disbursement_report"), ("cancelled", "stage:exited")], rows
