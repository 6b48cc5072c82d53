"""The case page and the JSON API change evidence and members through the same service as the
command line, and say the same: a step that relied on the old facts (the village's proposal, not
only a sign-off) is named, and voided only when the reader ticks the box (the API: void_signoffs)."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.refusals import assisted_household, walk

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def voided_steps(world, case: int) -> list[str]:
    with world.app.engine.connect() as conn:
        return list(conn.execute(select(t.steps.c.step_key).where(
            t.steps.c.case_id == case, t.steps.c.voided_at.is_not(None)).order_by(t.steps.c.id)).scalars())


def test_income_replaced_after_the_proposal_is_refused_on_the_page_and_the_api_until_voided(world, tmp_path,
                                                                                            world_clients):
    page, api = world_clients
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="acknowledgement")           # proposed and verified: no sign-off yet
    form = {"type": "income_assessment", "f_year": "2019", "f_net_income": "7600", "replace": "1",
            "reason": "更正收入"}
    cadre = page("vs")
    refused = cadre.post(f"/cases/{case}/evidence", headers=HX, data={"csrf": cadre.csrf, **form})
    assert refused.status_code == 409, refused.text
    assert "「评议并提出退出」" in refused.text and "共 2 步" in refused.text
    assert "请勾选「同意作废这些步骤」" in refused.text and "--void-signoffs" not in refused.text
    answer = api("vs", "en").post(f"/api/v1/cases/{case}/evidence", json={
        "type": "income_assessment", "fields": {"year": 2019, "net_income": 7600}, "replace": True,
        "reason": "更正收入"})
    assert answer.status_code == 409 and answer.json()["error"] == "evidence.frozen"
    assert "relied on by step" in answer.json()["message"] and "(2 in all" in answer.json()["message"]
    assert voided_steps(world, case) == []
    done = cadre.post(f"/cases/{case}/evidence", headers=HX, data={"csrf": cadre.csrf, **form, "void_signoffs": "1"})
    assert done.status_code == 200, done.text
    assert voided_steps(world, case) == ["proposal", "verification"]


def test_a_member_change_after_the_proposal_is_refused_on_the_page_until_voided(world, tmp_path, world_clients):
    page, _api = world_clients
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="verification")
    with world.app.engine.connect() as conn:
        member = conn.execute(select(t.household_members).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "spouse")).one()
    cadre = page("vs")
    form = {"csrf": cadre.csrf, "m_insured_critical": "否", "was_insured_critical": "是", "reason": "大病保险断缴"}
    refused = cadre.post(f"/cases/{case}/members/{member.id}", headers=HX, data=form)
    assert refused.status_code == 409, refused.text
    assert "「评议并提出退出」" in refused.text and "请勾选「同意作废这些步骤」" in refused.text
    assert voided_steps(world, case) == []
    assert cadre.post(f"/cases/{case}/members/{member.id}", headers=HX, data={**form, "void_signoffs": "1"}).status_code == 200
    assert voided_steps(world, case) == ["proposal"]


def test_a_confirmation_signed_before_the_proposal_is_refused_on_the_page_and_the_api(world, tmp_path, world_clients):
    from tests.world import scan_file
    page, api = world_clients
    case = assisted_household(world, tmp_path, confirm=False)
    walk(world, "exit", case, until="acknowledgement")           # proposed on 20 November
    scan = scan_file(tmp_path / "确认书.pdf").read_bytes()
    cadre = page("pc1")
    refused = cadre.post(f"/cases/{case}/evidence", headers=HX, data={"csrf": cadre.csrf, "type": "household_confirmation",
                                                          "f_signed_on": "2019-11-18"},
                         files={"file": ("确认书.pdf", scan, "application/pdf")})
    assert refused.status_code == 409, refused.text
    assert "签字日期为 2019-11-18，早于「评议并提出退出」（2019-11-20）" in refused.text
    answer = api("pc1", "en").post(f"/api/v1/cases/{case}/evidence", data={
        "type": "household_confirmation", "fields": '{"signed_on": "2019-11-18"}'},
        files={"file": ("confirmation.pdf", scan, "application/pdf")})
    assert answer.status_code == 409 and answer.json()["error"] == "date.evidence_before_step"
    assert "2019-11-18, before step" in answer.json()["message"] and "2019-11-20" in answer.json()["message"]
    done = cadre.post(f"/cases/{case}/evidence", headers=HX, data={"csrf": cadre.csrf, "type": "household_confirmation",
                                                       "f_signed_on": "2019-11-20"},
                      files={"file": ("确认书.pdf", scan, "application/pdf")})
    assert done.status_code == 200, done.text
