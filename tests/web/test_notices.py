"""Notices as pages: the text as posted, its dates, days and households, the objections with their
state; an objection entered and then resolved through the same services as `notice object` and
`notice resolve`; printable; never an ID number; a notice outside the reader's jurisdiction is a 404."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.adapters import tables as t
from tests.web.bulk_world import OTHER_TOWNSHIP_VILLAGE, core, demo_home, township_list, web  # noqa: F401

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def _notice_of(core, case_id):
    with core.engine.connect() as conn:
        return conn.execute(select(t.notices).join(t.notice_cases, t.notice_cases.c.notice_id == t.notices.c.id)
                            .where(t.notice_cases.c.case_id == case_id).order_by(t.notices.c.id.desc())).first()


def test_a_notice_page_shows_the_text_as_posted_its_days_and_households(signed_in, core):
    cases = township_list(core, 3, not_ready=False).ready
    notice = _notice_of(core, cases[0])
    client = signed_in("cadre")
    page = client.get(f"/notices/{notice.id}")
    assert page.status_code == 200
    assert notice.rendered.splitlines()[0] in page.text          # the stored text, as posted
    assert all(f'<tr data-case="{c}">' in page.text for c in cases)
    last = notice.end_date - timedelta(days=1)      # its last day, as the board says it (end: the day after)
    assert f"{notice.start_date} – {last}" in page.text and "已期满" in page.text
    assert 'data-print' in page.text and 'class="noprint"' in page.text
    assert "没有异议" in page.text and 'hx-post="/notices/' in page.text
    assert not ID_NUMBER.search(page.text)
    board = client.get(f"/notices/{notice.id}/print")
    assert board.status_code == 200 and "<table>" in board.text and "@media print" in board.text
    assert all(title in board.text for title in re.findall(r'<a href="/cases/\d+">([^<]+)</a>', page.text))
    assert not ID_NUMBER.search(board.text)
    # on a phone (no print menu in WeChat's browser): a button to print or save it, and the way back; the
    # page's one script is the app's own (no inline script), the bar hidden on paper
    assert "打印或保存为 PDF" in board.text and f'href="/notices/{notice.id}"' in board.text
    assert board.text.count("<script") == 1 and '<script src="/static/app.js"' in board.text
    assert "@media print { .noprint { display: none; } }" in board.text
    client.cookies.set("lang", "en")
    english = client.get(f"/notices/{notice.id}")
    assert "Notice" in english.text and not ID_NUMBER.search(english.text)


def test_a_notice_counted_in_working_days_says_its_working_days(signed_in, core):
    """The page counts a working-day notice's days by the calendar, not its span's calendar days."""
    from sqlalchemy import update
    cases = township_list(core, 1, not_ready=False).ready
    notice = _notice_of(core, cases[0])
    client = signed_in("cadre")
    span = (notice.end_date - notice.start_date).days
    assert f"{span} 天（规定不少于 {notice.days_required} 天）" in client.get(f"/notices/{notice.id}").text
    with core.engine.begin() as conn:     # as a policy listing its kind under notice_working_days posts it
        conn.execute(update(t.notices).where(t.notices.c.id == notice.id).values(working_days=True))
    import chinese_calendar
    weekdays = sum(chinese_calendar.is_workday(notice.start_date + timedelta(days=d)) for d in range(1, span + 1))
    assert weekdays < span
    page = client.get(f"/notices/{notice.id}").text
    assert f"{weekdays} 个工作日（规定不少于 {notice.days_required} 个工作日）" in page


def test_an_objection_is_entered_then_resolved_and_the_page_shows_its_state(signed_in, core):
    cases = township_list(core, 2, not_ready=False).ready
    notice = _notice_of(core, cases[1])
    cadre, head = signed_in("cadre"), signed_in("supervisor")
    filed_on = (notice.start_date + timedelta(days=2)).isoformat()
    entered = cadre.post(f"/notices/{notice.id}/objections", data={
        "csrf": cadre.csrf, "case": str(cases[1]), "objector": "村民 张某", "content": "该户在县城有门面房",
        "filed_on": filed_on}, headers={"HX-Request": "true"})
    assert entered.status_code == 200 and "已登记异议" in entered.text
    oid = int(re.search(r'data-objection="(\d+)" data-state="open"', entered.text).group(1))
    assert 'hx-swap-oob="true"' in entered.text
    with core.engine.connect() as conn:
        row = conn.execute(select(t.objections).where(t.objections.c.id == oid)).first()
    assert (row.case_id, row.objector, row.filed_on.isoformat(), row.resolution) == \
        (cases[1], "村民 张某", filed_on, None)
    assert f'hx-post="/objections/{oid}/resolve"' in head.get(f"/notices/{notice.id}").text
    # sent without HTMX (its script not loaded): the whole notice page says it, the objection resolved
    resolved = head.post(f"/objections/{oid}/resolve", data={"csrf": head.csrf, "outcome": "dismissed",
                                                             "reason": "经入户核实，门面房为租用"})
    assert resolved.status_code == 200 and f"异议 {oid} 已处理" in resolved.text and "</html>" in resolved.text
    assert f'data-objection="{oid}" data-state="dismissed"' in resolved.text
    again = head.post(f"/objections/{oid}/resolve", data={"csrf": head.csrf, "outcome": "upheld", "reason": "再议"})
    assert again.status_code == 409 and "已处理" in again.text
    page = cadre.get(f"/notices/{notice.id}")
    assert f'data-objection="{oid}" data-state="dismissed"' in page.text and "该户在县城有门面房" in page.text
    assert "处理，理由：经入户核实，门面房为租用" in page.text        # how and by whom it was resolved


def test_objections_are_refused_with_the_reason_in_the_readers_language(signed_in, core):
    cases = township_list(core, 1, not_ready=False).ready
    notice = _notice_of(core, cases[0])
    cadre = signed_in("cadre")
    late = cadre.post(f"/notices/{notice.id}/objections", data={
        "csrf": cadre.csrf, "case": str(cases[0]), "objector": "村民", "content": "有异议",
        "filed_on": notice.end_date.isoformat()})
    assert late.status_code == 409 and "不在公示" in late.text
    empty = cadre.post(f"/notices/{notice.id}/objections", data={"csrf": cadre.csrf, "case": str(cases[0]),
                                                                 "objector": "", "content": ""})
    assert empty.status_code == 400 and "异议须写明提出人和内容" in empty.text
    no_token = cadre.post(f"/notices/{notice.id}/objections", data={"case": str(cases[0]), "objector": "甲",
                                                                    "content": "乙"})
    assert no_token.status_code == 403


def test_a_notice_or_objection_outside_the_jurisdiction_is_not_found(signed_in, core):
    with core.engine.connect() as conn:
        far = conn.execute(select(t.notices.c.id).where(
            t.notices.c.region_code.like(OTHER_TOWNSHIP_VILLAGE[:9] + "%"))).scalar()
        far_objection = conn.execute(select(t.objections.c.id).join(
            t.notices, t.notices.c.id == t.objections.c.notice_id).where(
            t.notices.c.region_code.like(OTHER_TOWNSHIP_VILLAGE[:9] + "%"))).scalar()
        far_case = conn.execute(select(t.notice_cases.c.case_id).where(t.notice_cases.c.notice_id == far)).scalar()
    township = signed_in("township")
    assert township.get(f"/notices/{far}").status_code == 404
    assert township.get("/notices/99999999").status_code == 404
    assert township.get(f"/notices/{far}/print").status_code == 404
    refused = township.post(f"/notices/{far}/objections", data={"csrf": township.csrf, "case": str(far_case),
                                                               "objector": "甲", "content": "乙"})
    assert refused.status_code == 404
    resolve = township.post(f"/objections/{far_objection}/resolve",
                            data={"csrf": township.csrf, "outcome": "dismissed", "reason": "甲"})
    assert resolve.status_code == 404
    assert township.post("/objections/99999999/resolve", data={"csrf": township.csrf, "outcome": "dismissed",
                                                               "reason": "甲"}).status_code == 404
    assert signed_in("county").get(f"/notices/{far}").status_code == 200


def test_a_case_held_by_an_objection_links_to_its_notice(signed_in, core):
    """'公示 37 有未处理的异议…' on the case page: the notice is one tap away, where it is resolved."""
    prepared = township_list(core, 2)
    notice = _notice_of(core, prepared.objected)
    page = signed_in("township").get(f"/cases/{prepared.objected}").text
    assert "未处理的异议" in page and f'<a href="/notices/{notice.id}">公示 {notice.id}</a>' in page


def test_a_villages_notices_are_listed_on_its_list_page_in_both_languages(signed_in, core):
    """A villager objects days after a notice went up: the cadre reaches it from the village's page,
    not through one of its households."""
    cases = township_list(core, 1, not_ready=False).ready
    notice = _notice_of(core, cases[0])
    with core.engine.connect() as conn:
        village = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == cases[0])).scalar()
    client = signed_in("cadre")
    page = client.get(f"/villages/{village}/list")
    listed = re.search(r'<section id="village-notices">.*?</section>', page.text, re.S).group(0)
    assert "本村公示" in listed and f'<a href="/notices/{notice.id}">' in listed
    assert f"{notice.start_date} – {notice.end_date - timedelta(days=1)}" in listed
    client.cookies.set("lang", "en")
    assert "The village&#39;s notices" in client.get(f"/villages/{village}/list").text
