"""The inspector's flags page (issue 11): the weightiest first, a count per kind, a page at a time."""
from __future__ import annotations

import re

import pytest

from engine.reads.inspection import ranked
from entrypoints.web import routes_inspector
from tests.web.test_inspector import actor_of, text_of


def test_flags_are_ranked_counted_by_kind_and_paged(signed_in, core, demo_home, monkeypatch):
    inspector = signed_in("inspector")
    expected = ranked(core, actor_of(core, demo_home[1]["inspector"][0]))
    assert len(expected) >= 3, "the demo plants leads"
    page = inspector.get("/inspect/flags")
    kinds = re.findall(r'data-kind="(\w+)"', page.text)
    assert kinds == [f.kind for f in expected][:routes_inspector.FLAGS_PAGE]
    summary = text_of(page.text[page.text.index('id="flag-summary"'):page.text.index("</table>")])
    for kind in set(kinds):
        n = sum(1 for f in expected if f.kind == kind)
        assert f"{core.config.label('flag.' + kind, 'zh')} {n}" in summary
    assert kinds[0] == "relative_signed"             # the planted relative's review leads the list
    assert "石上村" in text_of(page.text)               # its village by name

    monkeypatch.setattr(routes_inspector, "FLAGS_PAGE", 2)
    first, second = inspector.get("/inspect/flags"), inspector.get("/inspect/flags", params={"page": 2})
    assert re.findall(r'data-kind="(\w+)"', first.text) == [f.kind for f in expected[:2]]
    assert re.findall(r'data-kind="(\w+)"', second.text) == [f.kind for f in expected[2:4]]
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
    assert 'id="flag-3"' in second.text              # numbered across pages: events load into their own box
    assert inspector.get("/inspect/flags", params={"page": 0}).status_code in (400, 422)


@pytest.mark.browser
def test_the_flags_page_fits_a_phone_and_filters_by_kind(phone, demo_home):
    phone.sign_in(*demo_home[1]["inspector"])
    page = phone.go("/inspect/flags")
    rows = page.locator("#flag-summary tbody tr")
    assert rows.count() >= 3
    first = rows.first.locator("a")
    kind_name = first.inner_text()
    first.click()                                        # a kind's count opens that kind's flags only
    page.wait_for_url("**/inspect/flags?kinds=*")
    shown = page.locator("article.flag")
    assert shown.count() >= 1 and all(kind_name in shown.nth(i).inner_text() for i in range(shown.count()))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("inspector-flags-phone")


def test_the_events_page_says_what_an_evidence_replacement_changed_beside_a_members(world, world_clients):
    """An income figure replaced, and a member's health changed, on the events page behind a flag: who, in
    which post, when, the case, old → new and the reason, as the case trace says them."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.services.case_actions import attach_evidence
    from workflows.household import update_member
    case = world.household(income_2018=5253)
    with world.app.engine.connect() as conn:
        head, number = conn.execute(select(t.household_members.c.name, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "head")).one()
        old = conn.execute(select(t.evidence.c.id).where(t.evidence.c.case_id == case,
                                                          t.evidence.c.type == "income_check")).scalar()
    new = attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 3100},
                          replace=True, reason="漏记一笔医疗支出，重新核算")
    update_member(world.app, world["vs"], case, number, {"health": "serious"}, "县医院确诊")
    with world.app.engine.connect() as conn:
        seqs = dict(conn.execute(select(t.audit_events.c.action, t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action.in_(("evidence_replaced", "member_updated")))).all())
    page, _api = world_clients
    inspector = page("insp")
    shown = inspector.get("/inspect/events", params={"seqs": f"{seqs['evidence_replaced']},{seqs['member_updated']}"})
    assert shown.status_code == 200
    replaced = text_of(re.search(rf'<tr data-seq="{seqs["evidence_replaced"]}">.*?</tr>', shown.text, re.S).group(0))
    assert f"#{case}" in replaced and "村党支部书记" in replaced and "2019-" in replaced, replaced
    assert "更换材料: 漏记一笔医疗支出，重新核算" in replaced, replaced
    assert f"#{old} → #{new}" in replaced and "收支核查表：家庭纯收入 5,253 → 3,100" in replaced, replaced
    member = text_of(re.search(rf'<tr data-seq="{seqs["member_updated"]}">.*?</tr>', shown.text, re.S).group(0))
    assert "县医院确诊" in member and f"{head}：健康状况 健康 → 患有大病" in member, member
    inspector.cookies.set("lang", "en")
    english = text_of(inspector.get("/inspect/events", params={"seqs": seqs["evidence_replaced"]}).text)
    assert "evidence replaced: 漏记一笔医疗支出，重新核算" in english
    assert "income and assets check: net income 5,253 → 3,100" in english, english
