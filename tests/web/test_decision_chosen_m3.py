"""A sign-off means what the signer chose (audit a12 #3). Before, a verification given neither `--approve`
nor `--reject` was recorded as 同意 in the leader's name, even with a reason arguing for refusal, and on the
web 同意 was the checked choice of every 审核/审定/入户核实 form. Now no choice given is refused in words (CLI
exit 2, the API 400, the form with nothing chosen and the browser asking for one), and nothing is recorded.
SQLite and PostgreSQL; Chromium for the form."""
from __future__ import annotations

from datetime import date

from engine.reads.queries import next_for
from entrypoints.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_monitoring_shown import cli
from tests.web.test_verifier_pairs51 import at_verification, phone_signed_in

NO_RISK = "经入户核实，该户收入稳定，无返贫风险"


def _waiting_at(world, case: int) -> str:
    return next_for(world.app, world["tl"], case)["next"]["step"]


def test_a_verification_without_a_decision_is_refused_on_the_cli_and_the_api(world, tmp_path, world_clients):
    case = at_verification(world, tmp_path)
    said = cli(world, "tl", "step", "monitoring", "verification", str(case), "--verifier", "tm", "--reason", NO_RISK)
    assert said.code == 2, (said.code, said.out, said.err)
    assert "须给出决定" in said.err and "`--approve`" in said.err and "Traceback" not in said.err, said.err
    english = cli(world, "tl", "--lang", "en", "step", "monitoring", "verification", str(case), "--verifier", "tm")
    assert english.code == 2 and "needs a decision" in english.err, english.err
    _, api = world_clients
    answer = api("tl").post(f"/api/v1/cases/{case}/steps", json={
        "procedure": "monitoring", "step": "verification", "verifiers": ["tm"], "reason": NO_RISK})
    assert answer.status_code == 400 and "须给出决定" in answer.text, (answer.status_code, answer.text)
    assert _waiting_at(world, case) == "verification"          # nothing recorded, 同意 least of all
    done = cli(world, "tl", "step", "monitoring", "verification", str(case), "--verifier", "tm", "--approve")
    assert done.code == 0, done.err
    assert _waiting_at(world, case) == "appraisal"


def test_the_decision_form_has_no_choice_made_and_asks_for_one(world, tmp_path, browser):
    case = at_verification(world, tmp_path)
    with serving(create_app(world.app)) as url:
        context, page = phone_signed_in(world, browser, url, "tl")
        page.goto(f"{url}/cases/{case}")
        decision = page.locator("#step-form input[name=decision]")
        assert decision.count() == 2
        assert not any(decision.nth(i).is_checked() for i in range(2))        # 同意 no longer chosen for the signer
        page.check("#step-form input[name=verifiers][value=tm]")
        page.click("#step-form button[type=submit], #step-form button.primary >> nth=0")
        assert page.evaluate("document.querySelector('#step-form input[name=decision]').validity.valueMissing")
        assert _waiting_at(world, case) == "verification"      # the browser asked; nothing was sent
        page.check("#step-form input[name=decision][value=approve]")
        page.click("#step-form button[type=submit], #step-form button.primary >> nth=0")
        page.wait_for_selector("[data-outcome=approved]")
        assert _waiting_at(world, case) == "appraisal"
        context.close()


def test_a_form_posted_without_a_decision_is_refused_by_the_server(world, tmp_path, world_clients):
    case = at_verification(world, tmp_path)
    page, _ = world_clients
    tl = page("tl")
    answer = tl.post(f"/cases/{case}/step", data={"csrf": tl.csrf, "procedure": "monitoring", "step": "verification",
                                                  "verifiers": "tm", "reason": NO_RISK,
                                                  "version": str(_version(world, case))},
                     headers={"HX-Request": "true"})
    assert 400 <= answer.status_code < 500 and "须给出决定" in answer.text, (answer.status_code, answer.text[:800])
    assert _waiting_at(world, case) == "verification"


def _version(world, case: int) -> int:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.version).where(t.cases.c.id == case)).scalar()


def test_a_villages_finding_of_no_risk_goes_up_and_the_county_decides(world, tmp_path, world_clients):
    """a12 #4: one village verifier's 不同意 ended the identification at once (防返贫监测识别 [已否决]), with no
    township or county sign-off. It is now the village's finding, recorded in his name, and the township
    reviews it and the county decides (县级审定), as the form tells him before he chooses."""
    case = at_verification(world, tmp_path)
    page, _ = world_clients
    form = page("tl").get(f"/cases/{case}").text
    assert "继续报乡镇审核，由「县级审定」决定" in form or "继续报乡镇审核" in form, form[form.find("on-reject") - 100:][:600]
    said = cli(world, "tl", "step", "monitoring", "verification", str(case), "--verifier", "tm", "--reject",
               "--reason", NO_RISK)
    assert said.code == 0 and "入户核实：不同意" in said.out and "已否决" not in said.out, (said.out, said.err)
    assert _waiting_at(world, case) == "appraisal"
    world.step("vd", "monitoring", "appraisal", case, attendance=30, votes_for=25, votes_against=1)
    world.step("vs", "monitoring", "village_notice", case)
    world.on(date(2020, 4, 8))
    world.step("ts1", "monitoring", "township_review", case, decision="approve")
    [ended] = world.step("cd", "monitoring", "county_decision", case, decision="reject", reason="经县级审定，无返贫风险")
    assert (ended.step_key, ended.procedure_status) == ("county_decision", "rejected")
