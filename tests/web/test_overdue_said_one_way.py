"""How long a piece of work is overdue is said one way everywhere (a8 #11): in the deadline's own kind of
days, the unit named, as its mail says it. Case 5's 农户认可签字 (a working-day rule) read "已逾期 221 个工作日"
in mail, "逾期天数 328" with no unit on /supervise/overdue and "已逾期 328 天" on /work."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.deadline_rules import compiled

UNITS = {"calendar": "天", "working": "个工作日"}


def _said(core, ids) -> dict[int, str]:
    """deadline id -> how its mail says it is overdue: '<days> <unit>' in the deadline's own days."""
    d = t.deadlines.c
    today = core.clock.today()
    with core.engine.connect() as conn:
        rows = conn.execute(select(d.id, d.case_id, d.due_on, d.counting).where(d.id.in_(list(ids)))).all()
    days = compiled(core.config).calendar.days_between     # working days: those in (due, today]
    return {r.id: (f"{max(0, days(r.due_on, today, r.counting)[0])} {UNITS[r.counting]}", r.case_id, r.counting)
            for r in rows}


def test_the_overdue_page_names_the_unit_in_the_deadline_s_own_days(signed_in, core):
    page = signed_in("supervisor").get("/supervise/overdue").text
    cells = dict(re.findall(r'<tr data-deadline="(\d+)".*?<td class="num" data-label="已逾期">([^<]*)</td>', page, re.S))
    assert cells and "逾期天数" not in page
    said = _said(core, [int(i) for i in cells])
    assert {i: c for i, c in cells.items()} == {str(i): s for i, (s, _c, _k) in said.items()}
    assert {k for _s, _c, k in said.values()} == {"calendar", "working"}, "both kinds shown, each in its own days"


def test_my_work_says_the_earliest_deadline_overdue_as_its_mail_does(signed_in, core):
    page = signed_in("township").get("/work").text
    d = t.deadlines.c
    listed = [int(c) for c in re.findall(r'data-case="(\d+)"', page)]
    with core.engine.connect() as conn:
        first = {}
        for r in conn.execute(select(d.id, d.case_id).where(d.case_id.in_(listed), d.status == "open")
                              .order_by(d.case_id, d.due_on, d.id)):
            first.setdefault(r.case_id, r.id)
    said = _said(core, first.values())
    late = [(s, case) for s, case, k in said.values() if k == "working" and not s.startswith("0 ")]
    assert late, "the demo has work overdue by working days on this list"
    for words, case in late:
        row = page.split(f'data-case="{case}"', 1)[1].split("</li>", 1)[0]
        assert f"已逾期 {words}" in re.sub(r"\s+", " ", row), row


def test_the_alerts_page_says_it_in_the_deadline_s_own_days_too(signed_in, core):
    """/supervise/alerts said "已逾期 329 天" of a deadline its mail said 221 working days of."""
    page = signed_in("supervisor").get("/supervise/alerts?limit=200").text
    assert "已逾期" in page
    d = t.deadlines.c
    with core.engine.connect() as conn:        # the open working-day deadlines: some of them are on the page
        working = conn.execute(select(d.id).where(d.status == "open", d.counting == "working")).scalars().all()
    said = _said(core, working)
    texts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert any(f"已逾期 {s}" in texts for s, _c, k in said.values() if k == "working" and not s.startswith("0 ")), texts[:3000]
