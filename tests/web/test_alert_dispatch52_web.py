"""/supervise/alerts says of an alert whose work was done before it was sent that it was not needed
(a8 #7), in both languages."""
from __future__ import annotations

import re

from sqlalchemy import select, update

from engine.adapters import tables as t


def test_an_alert_not_sent_because_its_work_was_done_says_so(signed_in, core):
    page = signed_in("county").get("/supervise/alerts").text
    newest = int(re.findall(r'<tr data-alert="(\d+)"', page)[0])
    with core.engine.begin() as conn:
        kept = conn.execute(select(t.outbox.c.id, t.outbox.c.status).where(t.outbox.c.alert_id == newest)).all()
        conn.execute(update(t.outbox).where(t.outbox.c.alert_id == newest).values(status="not_needed"))
    try:
        page = signed_in("county").get("/supervise/alerts").text
        row = page.split(f'<tr data-alert="{newest}"')[1].split("</tr>")[0]
        assert "无需发送（已办结）" in row and "已送达" not in row, row
        client = signed_in("county")
        client.cookies.set("lang", "en")
        english = client.get("/supervise/alerts").text
        row = english.split(f'<tr data-alert="{newest}"')[1].split("</tr>")[0]
        assert "Not needed (done)" in row, row
    finally:
        with core.engine.begin() as conn:
            for r in kept:
                conn.execute(update(t.outbox).where(t.outbox.c.id == r.id).values(status=r.status))
