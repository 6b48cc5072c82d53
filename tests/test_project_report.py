"""A fund project's monthly disbursement report (资金支出月报) on the command line: `project show`
says what a report of that day covers (spent since the last report, the first since the allocation),
and the report records the same."""
from __future__ import annotations

import json
from datetime import date

from tests.helpers.projects import pay
from tests.test_project_figures import ok
from tests.test_project_money_rules import funded


def test_project_show_says_what_a_monthly_report_of_that_day_reports(world):
    case, _ = funded(world)                                           # 300,000 allocated on 16 April
    pay(world, case, "90000", on=date(2019, 5, 10))
    shown = ok(world, "cs", "project", "show", case, "--as-of", "2019-06-05")
    assert "本期支出（月报期间 2019-04-16 至 2019-06-05，自上次月报次日起，首次自资金下达日起）：90,000.00" in shown, shown
    ok(world, "cs", "step", "disbursement_report", "disbursement_report", case, "--date", "2019-06-05")
    pay(world, case, "20000", on=date(2019, 6, 20))
    said = json.loads(ok(world, "cs", "project", "show", case, "--as-of", "2019-07-04", "--json"))
    assert said["report_period"] == {"from": "2019-06-06", "to": "2019-07-04", "disbursed": "20000.00",
                                     "entered_late": [], "disbursed_late": "0.00"}     # none recorded late
    english = ok(world, "cs", "--lang", "en", "project", "show", case, "--as-of", "2019-07-04")
    assert "spent in the period (2019-06-06 to 2019-07-04" in english and "20,000.00" in english, english
