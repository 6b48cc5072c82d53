"""督办 on the overdue page: a button on each row for those whose posts may press, its answer in place
of the form (or the refusal, the note kept), the times pressed on the row, the inspectors' log."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from engine.adapters import tables as t
from tests.web.test_supervisor import rows_of

HX = {"HX-Request": "true"}


def press_forms(text: str) -> list[str]:
    return re.findall(r'hx-post="/supervise/deadlines/(\d+)/press"', text)


def test_a_supervisor_presses_an_overdue_row_and_the_answer_replaces_its_form(signed_in, core):
    client = signed_in("supervisor")
    page = client.get("/supervise/overdue")
    assert page.status_code == 200
    rows, forms = rows_of(page.text), press_forms(page.text)
    assert forms and set(forms) <= set(rows)
    deadline = forms[0]
    with core.engine.connect() as conn:
        owner = conn.execute(select(t.persons.c.name).join(t.deadlines, t.deadlines.c.owner_id == t.persons.c.id)
                             .where(t.deadlines.c.id == int(deadline))).scalar()
        before = conn.execute(select(t.outbox.c.id).where(t.outbox.c.kind == "press")).all()
    answer = client.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": client.csrf, "note": "请本周办结"},
                         headers=HX)
    assert answer.status_code == 200, answer.text
    said = html.unescape(answer.text)
    assert f'id="press-{deadline}"' in answer.text and "<form" not in answer.text
    assert re.search(rf"已督办 {re.escape(owner)}（(已发至 \d+ 个渠道|此人没有通知渠道，未能送达)）", said), said
    with core.engine.connect() as conn:
        sent = conn.execute(select(t.outbox.c.body).where(t.outbox.c.kind == "press")).all()
    assert len(sent) > len(before) or "未能送达" in said
    assert all("请本周办结" in r.body for r in sent[len(before):])
    again = client.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": client.csrf, "note": "再催一次"},
                        headers=HX)
    assert again.status_code in (400, 409), again.status_code
    assert "今天已督办过" in html.unescape(again.text) and 'value="再催一次"' in again.text and "<form" in again.text
    page = client.get("/supervise/overdue")
    row = re.search(rf'<tr data-deadline="{deadline}".*?</tr>', page.text, re.S).group(0)
    assert "已督办 1 次，最近" in row
    # pressed today, the row offers no second press (it had, and each was refused) and says when it was
    assert deadline not in press_forms(page.text) and "今天不再督办" in row and "data-pressed-today" in row
    other = signed_in("county").get("/supervise/overdue").text          # another person may still press it
    assert deadline in press_forms(other) and "今天不再督办" not in other
    # The inspectors read it in the activity log, with its deadline, case and note.
    log = signed_in("inspector").get("/inspect/activity", params={"action": "deadline_pressed"})
    assert log.status_code == 200
    entry = html.unescape(log.text)
    assert "督办" in entry and f"期限：{deadline}" in entry and "督办意见：请本周办结" in entry and "案件：" in entry


def pressed_count(core) -> int:
    with core.engine.connect() as conn:
        return len(conn.execute(select(t.audit_events.c.seq).where(t.audit_events.c.action == "deadline_pressed")).all())


def test_only_posts_that_may_press_see_the_button_and_the_others_are_refused(signed_in, core):
    before = pressed_count(core)
    for kind in ("township", "inspector"):        # township staff, a read-only inspector
        client = signed_in(kind)
        page = client.get("/supervise/overdue")
        assert page.status_code == 200 and press_forms(page.text) == [], kind
        deadline = rows_of(page.text)[0]
        answer = client.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": client.csrf}, headers=HX)
        assert answer.status_code == 403, (kind, answer.status_code)
    client = signed_in("cadre")
    assert client.post("/supervise/deadlines/1/press", data={"csrf": client.csrf}, headers=HX).status_code == 403
    assert pressed_count(core) == before


def test_a_press_without_the_form_token_or_out_of_reach_is_refused(signed_in, core):
    client = signed_in("supervisor")
    page = client.get("/supervise/overdue")
    deadline = press_forms(page.text)[-1]
    assert client.post(f"/supervise/deadlines/{deadline}/press", data={"note": "x"}, headers=HX).status_code == 403
    with core.engine.connect() as conn:
        outside = conn.execute(select(t.deadlines.c.id).where(~t.deadlines.c.region_code.startswith("360730100"))
                               .limit(1)).scalar()
    assert outside is not None
    answer = client.post(f"/supervise/deadlines/{outside}/press", data={"csrf": client.csrf}, headers=HX)
    assert answer.status_code == 404
    answer = client.post("/supervise/deadlines/999999999/press", data={"csrf": client.csrf}, headers=HX)
    assert answer.status_code == 404


def test_the_press_button_is_a_thumb_s_target_on_a_phone():
    from pathlib import Path
    css = (Path(__file__).resolve().parents[2] / "entrypoints/web/static/supervise.css").read_text(encoding="utf-8")
    assert re.search(r"\.press-form button \{[^}]*min-height: 40px", css)
