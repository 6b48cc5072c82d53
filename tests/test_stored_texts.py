"""Texts stored in the database for later readers (delivery errors, void and outcome reasons, why a
member left) are kept as a catalogue key and params, and shown in the reader's language; an old row
holding plain text is shown as it is."""
from __future__ import annotations

from sqlalchemy import update

from config import load_config
from engine.adapters import tables as t
from engine.domain.errors import Msg, render_stored, stored, stored_msg
from engine.reads.case_record import case_detail
from engine.services.case_actions import attach_evidence
from tests.helpers.refusals import walk

CONFIG = load_config()


def test_a_stored_text_round_trips_with_nested_messages():
    why = Msg("delivery.channel_down", {"route": "email", "error": Msg("delivery.smtp_lost", {"detail": "EOF"})})
    text = stored(Msg("delivery.not_tried", {"why": why}))
    assert stored_msg(text) == Msg("delivery.not_tried", {"why": why})
    assert render_stored(CONFIG, text) == "未尝试：渠道 email 不可用（与 SMTP 服务器的连接中断：EOF）"
    assert render_stored(CONFIG, text, "en") == "not tried: email down (SMTP connection lost: EOF)"


def test_old_plain_texts_and_nothing_are_shown_as_they_are():
    for old in ("recipient refused (550)", '{"not": "ours"}', '{"key": broken', None, ""):
        assert render_stored(CONFIG, old) == old and render_stored(CONFIG, old, "en") == old


def test_stored_reasons_read_in_either_language():
    upheld = stored(Msg("outcome_reason.objection_upheld", {"objection": 3, "reason": "收入漏报"}))
    assert render_stored(CONFIG, upheld) == "异议 #3 成立：收入漏报"
    assert render_stored(CONFIG, upheld, "en") == "objection #3 upheld: 收入漏报"
    removed = stored(Msg("left_reason.household_removed", {"procedure": "removal"}))
    assert render_stored(CONFIG, removed).startswith("该户已销户")
    assert render_stored(CONFIG, removed, "en").startswith("household removed")
    changed = stored(Msg("void_reason.facts_changed", {"what": "members", "reason": "新生儿"}))
    assert "已变动：新生儿" in render_stored(CONFIG, changed) and "changed: 新生儿" in render_stored(CONFIG, changed, "en")


def test_a_replaced_evidence_voids_steps_with_a_reason_case_show_renders(world):
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 4200},
                    replace=True, void_signoffs=True, reason="漏报工资")
    voided = lambda lang: [s["voided"] for p in case_detail(world.app, world["vs"], case, lang=lang)["procedures"]  # noqa: E731
                           for s in p["steps"] if s["voided"]]
    zh, en = voided("zh"), voided("en")
    assert len(zh) == 6 and all("已更换：漏报工资" in v and "replaced" not in v for v in zh)   # from the application on
    assert all("replaced: 漏报工资" in v for v in en)
    with world.app.transaction() as conn:    # a row written before reasons were stored as keys
        conn.execute(update(t.steps).where(t.steps.c.case_id == case, t.steps.c.voided_at.is_not(None))
                     .values(voided_reason="evidence income_check #1 replaced: 漏报工资"))
    assert voided("zh") == ["evidence income_check #1 replaced: 漏报工资"] * 6
