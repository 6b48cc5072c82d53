"""A step the case page says cannot be taken now: no form inviting the cadre to fill it in and be
refused again, but words saying when it opens; kept open where the refusal leaves something to
record (a village meeting's failed vote, a reviewer's rejection: the workflow's checks bind only a
step that passes), and said so beside it, as `case next` and the API say it."""
from __future__ import annotations

from tests.helpers.notifications import cli
from tests.helpers.refusals import MAR5, walk


def test_a_township_review_while_the_notice_runs_shows_no_form_only_when_it_opens(world, world_clients):
    page, api = world_clients
    case = world.household(income_2018=4000)
    walk(world, "identification", case, until="township_review")
    world.on(MAR5)                                     # the first notice (from March 1) still runs
    shown = page("ts1").get(f"/cases/{case}").text
    assert "尚不能办理" in shown and "公示期" in shown
    assert 'id="step-form"' not in shown and 'id="step-closed"' in shown and "刷新本页即可办理" in shown
    assert api("ts1").get(f"/api/v1/cases/{case}/next").json()["next"]["rejection_only"] is False
    world.on(MAR5.replace(day=8))                      # run its days: the form is there
    opened = page("ts1").get(f"/cases/{case}").text
    assert 'id="step-form"' in opened and 'id="step-closed"' not in opened and 'id="step-rejection-only"' not in opened


def test_an_appraisal_over_the_line_keeps_its_form_for_a_failed_vote_and_says_so(world, world_clients):
    page, api = world_clients
    case = world.household(income_2018=8000)           # 4,000 a head, over the 3,535 line
    walk(world, "identification", case, until="appraisal")
    shown = page("vd").get(f"/cases/{case}").text
    assert "尚不能办理" in shown and "3,535" in shown
    assert 'id="step-form"' in shown and 'id="step-closed"' not in shown
    assert 'id="step-rejection-only"' in shown and "记为评议未通过" in shown
    assert api("vd").get(f"/api/v1/cases/{case}/next").json()["next"]["rejection_only"] is True
    said = cli(world, "vd", "case", "next", case)
    assert said.code == 0 and "仍可记录评议未通过" in said.out, said.out + said.err
    english = cli(world, "vd", "--lang", "en", "case", "next", case)
    assert "a failed vote may still be recorded" in english.out


def test_a_step_waiting_only_for_evidence_keeps_its_form_and_promises_no_rejection(world, world_clients, tmp_path):
    """The household's acknowledgement, missing only its signed confirmation: the form stays (the evidence
    is added above it) but it said 「仍可在此记录「不同意」」 of a step that has no approve or reject."""
    page, _ = world_clients
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, confirm=False, tmp=tmp_path)
    world.exit(case, through="verification")
    shown = page("pc1").get(f"/cases/{case}").text
    assert 'id="step-form"' in shown and 'id="step-closed"' not in shown
    assert 'id="step-rejection-only"' not in shown and "不同意" not in shown
