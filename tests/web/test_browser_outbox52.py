"""The administrator's view of the outbox on a 360 px phone (a8 #2, #9): a failed message named by its
kind, sent again with a thumb-sized button, in place; a person's alert language set once."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, insert, select

from engine.adapters import tables as t


def fits_a_phone(page, *targets: str) -> None:
    """Nothing wider than the screen; each of `targets` (what this change added) a thumb's height.
    (The page's filter links are 24 px: older than this change, and left to it.)"""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]
    for target in targets:
        for n in range(page.locator(target).count()):
            assert page.locator(target).nth(n).bounding_box()["height"] >= 40, target


def test_the_administrator_sends_a_failed_message_again_and_sets_a_language_on_a_phone(phone, demo_home, core):
    admin, password = demo_home[1]["admin"]
    person = demo_home[1]["county"][0]
    now = datetime(2020, 10, 20, tzinfo=timezone.utc)
    with core.engine.begin() as conn:
        pid = conn.execute(select(t.persons.c.id).where(t.persons.c.code == person)).scalar()
        message = conn.execute(insert(t.outbox).values(
            alert_id=None, kind="press", person_id=pid, channel="email", address="nobody@example.cn", lang="zh",
            subject="s", body="b", dedupe_key="test-h7-press", status="failed", attempts=8, next_attempt_at=now,
            created_at=now, last_error="h7-refused")).inserted_primary_key[0]
    try:
        phone.sign_in(admin, password)
        page = phone.page
        page.goto(phone.base + "/supervise/alerts?status=failed")
        row = page.locator(f"#resend-{message}").locator("xpath=ancestor::tr")
        assert "督办" in row.inner_text() and "（共尝试 8 次）" in row.inner_text()
        assert f"`jingzhun alerts resend {message}`" in row.inner_text()
        fits_a_phone(page, f"#resend-{message} button")
        phone.shot("admin-outbox-failed-360")
        page.click(f"#resend-{message} button")
        page.locator(f"#resend-{message} [role=status]").wait_for()
        assert "已重新放入待发队列" in page.locator(f"#resend-{message}").inner_text()
        with core.engine.connect() as conn:
            assert conn.execute(select(t.outbox.c.status).where(t.outbox.c.id == message)).scalar() == "pending"
        page.goto(phone.base + f"/admin/people/{person}")
        fits_a_phone(page, "#channel-lang select", "#channel-lang button")
        assert page.locator("#channel-lang").count() == (1 if page.locator("#channels li").count() else 0)
    finally:
        with core.engine.begin() as conn:
            conn.execute(delete(t.outbox_attempts).where(t.outbox_attempts.c.outbox_id == message))
            conn.execute(delete(t.outbox).where(t.outbox.c.dedupe_key == "test-h7-press"))
