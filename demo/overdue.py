"""The demo's overdue scene (DOMAIN §6): work left undone, a sweep weeks later, a file mailbox."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from rich.console import Console
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.cases import StepInput
from engine.services.case_actions import EvidenceItem, attach_evidence_many
from engine.services.procedures import perform_step

from .people import each_vote


def overdue_scene(app: App, demo: Any, admin: Actor, console: Console, lang: str) -> dict:
    """Autumn 2020: risk clues on a few consolidated households are left unidentified past their
    15 days, a monitoring notice runs out with no township review across the National Day week,
    and last year's housing measures of households that did not exit are still not done. A sweep
    on 20 October alerts every ladder level once, the supervisors get their digest, and the
    messages are delivered to a file mailbox, one folder per person."""
    from engine.services.sweep import digest, sweep
    from notifications.channels import NotifySettings
    from notifications.contacts import add_channels_many
    from notifications.dispatcher import dispatch
    with app.engine.connect() as conn:
        everyone = [r.code for r in conn.execute(select(t.persons.c.code).where(t.persons.c.code != "admin"))]
    add_channels_many(app, admin, {code: [("file", code, lang)] for code in everyone})
    v = demo.villages[0]
    with app.engine.connect() as conn:
        calm = [r.id for r in conn.execute(select(t.cases.c.id).where(
            t.cases.c.id.in_(v.cases), t.cases.c.stage == "consolidated", t.cases.c.open_procedure_id.is_(None))
            .order_by(t.cases.c.id).limit(4))]
    if calm:
        demo.on(date(2020, 9, 14))
        attach_evidence_many(app, v.staff["secretary"], [EvidenceItem(c, "monitoring_clue", {
            "source": "visit", "clue_date": "2020-09-12", "monitoring_type": "突发严重困难户",
            "description": "户主突发重病住院，医疗支出大"}) for c in calm])
        perform_step(app, v.staff["secretary"], "monitoring", "clue", calm, StepInput())
        further = calm[:2]      # these get as far as their village notice; the others stop at the clue
        demo.on(date(2020, 9, 15))
        perform_step(app, v.staff["leader"], "monitoring", "verification", further,
                     StepInput(decision="approve", verifiers=(v.staff["member"].code,)))
        demo.on(date(2020, 9, 16))
        perform_step(app, v.staff["director"], "monitoring", "appraisal", further,
                     StepInput(attendance=30, votes=each_vote(further, 26, 1), minutes=demo.minutes(v, "monitoring")))
        demo.on(date(2020, 9, 17))
        perform_step(app, v.staff["first"], "monitoring", "village_notice", further, StepInput())
    now = datetime(2020, 10, 20, 1, 0, tzinfo=timezone.utc)      # 09:00 in China
    demo.on(date(2020, 10, 20))
    swept = sweep(app, now=now)
    digested = digest(app, now=now)
    mailbox = app.settings.home / "mailbox"
    delivered = dispatch(app, NotifySettings(mailbox=mailbox), now=now)
    with app.engine.connect() as conn:
        overdue = conn.execute(select(func.count()).select_from(t.deadlines).where(
            t.deadlines.c.status == "open", t.deadlines.c.due_at <= now)).scalar()
        by_rule = dict(conn.execute(select(t.deadlines.c.rule, func.count()).where(
            t.deadlines.c.status == "open", t.deadlines.c.due_at <= now).group_by(t.deadlines.c.rule)).all())
    result = {"as_of": now.isoformat(), "overdue": overdue, "by_rule": by_rule, "alerts": swept.alerts,
              "by_level": {str(k): n for k, n in sorted(swept.by_level.items())}, "digests": digested["messages"],
              "delivered": delivered.delivered, "mailbox": str(mailbox),
              "example": sorted(p.name for p in mailbox.iterdir())[:1] if mailbox.exists() else []}
    return result
