"""A household voted down (or excluded) applies again: the new identification is not done on the
application form the earlier, ended procedure was done with (`application` is `per_procedure`), nor on
an income check years old. The step refuses it, saying a new signed form (and a current income check)
is due, wherever the step is judged: the CLI's step and `case next`, a village's list (`--each`, the
page's list and each row's "needs"), the JSON API. The audit a7 found the list saying 可以办理 and the
2020 procedure based on the 2019 application, dated 2019-01-08."""
from __future__ import annotations

from tests.test_cli import home, template  # noqa: F401  (fixtures)

APPLY = ("step", "identification", "application")
NEW_FORM = "这次办理须有它自己的一份贫困户申请书"


def _voted_down(home, seed: int) -> int:  # noqa: F811
    case = home.register(seed=seed)
    home.ok("vs", *APPLY, case, "--date", "2019-03-01")
    home.ok("vd", "step", "identification", "appraisal", case, "--date", "2019-03-01", "--attendance", "41",
            "--for", "3", "--against", "35", "--minutes", home.minutes())
    return case


def test_a_new_application_on_the_rejected_procedures_form_is_refused_on_the_cli(home):  # noqa: F811
    case = _voted_down(home, seed=91)
    before = home.snapshot(case)
    refused = home("vs", *APPLY, case, "--date", "2020-10-12")
    assert refused.code != 0 and "Traceback" not in refused.err
    assert "[evidence.earlier_procedure]" in refused.err and NEW_FORM in refused.err, refused.err
    assert f"`evidence add {case} application`" in refused.err
    assert home.snapshot(case) == before
    english = home("vs", *APPLY, case, "--date", "2020-10-12", lang="en")
    assert "needs its own signed application" in english.err, english.err
    assert NEW_FORM in home.ok("vs", "case", "next", case).out

    # a new signed form: the income check of 2018 is still refused, for a 2020 application
    home.ok("vs", "evidence", "add", case, "application", "--field", "applicant=王大山91",
            "--field", "applied_on=2020-10-10")
    stale = home("vs", *APPLY, case, "--date", "2020-10-12")
    assert stale.code != 0 and "[income.wrong_year]" in stale.err and "2018 年的收入" in stale.err, stale.err
    home.ok("vs", "evidence", "add", case, "income_check", "--field", "year=2020", "--field", "net_income=5000")
    home.ok("vs", *APPLY, case, "--date", "2020-10-12")
    trace = home.ok("insp", "trace", case).out
    assert trace.count("申请日期：2020-10-10") == 1 and trace.count("申请日期：2019-02-01") == 1


def test_a_village_list_refuses_the_earlier_form_and_does_the_others(home):  # noqa: F811
    again, fresh = _voted_down(home, seed=92), home.register(seed=93)
    home.ok("vs", "evidence", "add", fresh, "income_check", "--field", "year=2020", "--field", "net_income=5000")
    result = home("vs", *APPLY, again, fresh, "--date", "2020-10-12", "--each")
    assert result.code == 1 and "1 件已办理，1 件被拒绝" in result.out, result.out + result.err
    assert "[evidence.earlier_procedure]" in result.err and NEW_FORM in result.err
