"""A payment dated into a month already reported (补录): a monthly disbursement report (资金支出月报) was
filed, then a payment dated on or before it is recorded. It is recorded as paid (its voucher's date);
the filed report stays as it was; the next report lists it apart, entered late, with its date and the
report it belonged to, so that no payment falls outside every report and none is reported twice; the
payment's and the report's lines in the inspector's trace say so."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from engine.reads.trace import case_trace
from tests.helpers.projects import pay
from tests.test_project_figures import ok
from tests.test_project_money_rules import funded


def report(world, case: int, day: date) -> dict:
    """File the monthly report dated `day`; the data it recorded."""
    world.on(day)
    world.step("cs", "disbursement_report", "disbursement_report", case)
    return reports(world, case)[day.isoformat()]


def reports(world, case: int) -> dict:
    """The project's monthly reports as the inspector's trace reads them: date -> recorded data."""
    trace = case_trace(world.app, world["insp"], case)
    return {s["date"]: s["data"] for p in trace["procedures"] for s in p["steps"]
            if s["step"] == "disbursement_report"}


def trace_text(world, case: int, lang: str = "zh") -> str:
    return ok(world, "insp", *(["--lang", "en"] if lang == "en" else []), "trace", case)


def test_a_payment_dated_into_a_reported_month_is_reported_once_by_the_next_report(world):
    case, _ = funded(world)                                           # 300,000 allocated on 16 April
    pay(world, case, "90000", on=date(2019, 5, 10))
    first = report(world, case, date(2019, 6, 5))                     # period 16 April to 5 June: 90,000
    assert (first["period_from"], first["disbursed_period"], first["disbursed"]) == ("2019-04-16", "90000.00", "90000.00")
    # On 20 June the county office records a payment made on 3 June (the voucher came late): its day is
    # in the period of the report filed on 5 June; and one of 20 June, in the new period.
    world.on(date(2019, 6, 20))
    said = ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "10000", "--payee-kind", "contractor",
              "--payee", "宁都县农建公司", "--reference", "记-0603", "--date", "2019-06-03")
    assert "补录" in said and "2019-06-05" in said and "2019-06-06" in said, said
    pay(world, case, "20000", on=date(2019, 6, 20))
    # what a report of 4 July would report, before it is filed (project show, its JSON)
    shown = json.loads(ok(world, "cs", "project", "show", case, "--as-of", "2019-07-04", "--json"))
    assert shown["report_period"]["disbursed"] == "20000.00"
    assert shown["report_period"]["disbursed_late"] == "10000.00"
    assert [(p["paid_on"], p["amount"], p["report"]) for p in shown["report_period"]["entered_late"]] == [
        ("2019-06-03", "10000.00", "2019-06-05")]
    # the payment itself is marked, in the project's payments
    listed = ok(world, "cs", "project", "show", case, "--as-of", "2019-07-04")
    assert "支付 2019-06-03 10,000.00 施工单位 宁都县农建公司 (记-0603) 补录（应属 2019-06-05 月报）" in listed, listed
    assert "支付 2019-06-20 20,000.00 施工单位 宁都县农建公司 (记-2019-001)\n" in listed, listed          # in its own period: not
    assert [p["entered_late"] for p in shown["disbursements"]] == [
        None, {"report": "2019-06-05", "report_from": "2019-04-16"}, None]
    # the filed report is not changed; the next one reports the late payment, apart from its period's
    assert reports(world, case)["2019-06-05"]["disbursed_period"] == "90000.00"
    second = report(world, case, date(2019, 7, 4))
    assert (second["period_from"], second["disbursed_period"], second["disbursed_late"], second["disbursed"]) == (
        "2019-06-06", "20000.00", "10000.00", "120000.00")
    assert [(p["paid_on"], p["amount"], p["payee"], p["reference"], p["report"], p["report_from"])
            for p in second["entered_late"]] == [("2019-06-03", "10000.00", "宁都县农建公司", "记-0603", "2019-06-05",
                                                  "2019-04-16")]
    # every payment reported once: the last report's spent to date + this period's + the late ones
    assert sum(Decimal(x) for x in (first["disbursed"], second["disbursed_period"], second["disbursed_late"])) == \
        Decimal(second["disbursed"])
    # the report after it reports nothing again
    third = report(world, case, date(2019, 8, 5))
    assert (third["disbursed_period"], third["disbursed_late"], third["entered_late"]) == ("0.00", "0.00", [])
    # the inspector's trace says it, at the payment and at the report, in both languages
    zh, en = trace_text(world, case), trace_text(world, case, "en")
    assert "补录：支付日期 2019-06-03 在 2019-06-05 月报已报送的期间（2019-04-16 至 2019-06-05）内" in zh, zh
    assert "2019-06-03 宁都县农建公司（施工单位）10,000.00 元，凭证号 记-0603，应属 2019-06-05 月报" in zh, zh
    assert "entered late: paid on 2019-06-03, in the period of the report of 2019-06-05" in en, en
    assert "10,000.00 yuan" in en and "belongs to the report of 2019-06-05" in en, en


def test_a_payment_dated_into_a_reported_month_is_an_inspection_flag(world):
    from engine.reads.inspection import flags
    case, _ = funded(world)
    pay(world, case, "90000", on=date(2019, 5, 10))
    report(world, case, date(2019, 6, 5))
    pay(world, case, "20000", on=date(2019, 6, 20))                    # in the new period: no flag
    pay(world, case, "10000", on=date(2019, 6, 3), payee="宁都县农建公司")   # recorded 20 June, dated 3 June
    (flag,) = list(flags(world.app, world["insp"], kinds=["payment_entered_late"]))
    assert (flag.case_id, flag.person[0], len(flag.events), flag.weight) == (case, "cs", 1, 4)
    zh, en = flag.text(world.app.config, "zh"), flag.text(world.app.config, "en")
    assert "支付 10,000.00 元（收款方 宁都县农建公司，支付日期 2019-06-03）在 2019-06-05 月报报送之后才登记" in zh, zh
    assert "(2019-04-16 至 2019-06-05)" not in zh and "（2019-04-16 至 2019-06-05）" in zh, zh
    assert "paid on 2019-06-03, was recorded on 2019-06-20" in en and "report of 2019-06-05" in en, en
    # by its name in either language too, as the other kinds
    assert len(list(flags(world.app, world["insp"], kinds=["补录支付（日期在已报送月报的期间内）"]))) == 1


def test_a_report_filed_before_it_kept_its_last_payment_is_judged_by_when_it_was_recorded(world):
    """A home's reports filed before this release keep no `payments_through`: a payment recorded after
    such a report (by the time each was recorded) and dated in its period is entered late all the same."""
    from sqlalchemy import update
    from engine.adapters import tables as t
    from workflows.project import PaymentInput, record_disbursement
    case, _ = funded(world)
    pay(world, case, "90000", on=date(2019, 5, 10))
    report(world, case, date(2019, 6, 5))
    with world.app.engine.begin() as conn:        # as an earlier release recorded it
        data = {k: v for k, v in reports(world, case)["2019-06-05"].items() if k != "payments_through"}
        conn.execute(update(t.steps).where(t.steps.c.case_id == case, t.steps.c.step_key == "disbursement_report")
                     .values(data=data))
    world.clock.at += timedelta(hours=3)                      # recorded on 5 June, three hours after the report
    record_disbursement(world.app, world["cs"], case, PaymentInput("10000", "contractor", "宁都县农建公司", date(2019, 6, 3),
                                                                   "记-0603"))
    world.on(date(2019, 6, 6))
    pay(world, case, "5000", on=date(2019, 6, 1))              # recorded on 6 June
    shown = json.loads(ok(world, "cs", "project", "show", case, "--as-of", "2019-07-04", "--json"))
    assert [(p["paid_on"], p["amount"]) for p in shown["report_period"]["entered_late"]] == [
        ("2019-06-01", "5000.00"), ("2019-06-03", "10000.00")]
    assert [p["entered_late"] and p["entered_late"]["report"] for p in shown["disbursements"]] == [
        None, "2019-06-05", "2019-06-05"]
