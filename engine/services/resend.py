"""An administrator sends a message that failed for good once more (`jingzhun alerts resend`, the
alerts page): it goes back to the outbox with its attempts counted from nought, recorded in the
organisation's log. A first sign-in code is never sent again (its code is not kept): a new one is
issued with `person enrol`."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import Msg, NotFound, RuleViolation
from engine.domain.regions import ROOT
from engine.reads.deadlines import SECRET_KINDS
from engine.services.org import refuse_read_only, require_admin

ACTION = "message_resent"


def resend_message(app: App, actor: Actor, message_id: int) -> dict[str, Any]:
    """Queue the failed message `message_id` (an outbox row) again, to the address the person has on that
    kind of channel now (the one it was written for if they have none); returns {message, kind, person,
    channel}."""
    refuse_read_only(app, actor, "alerts resend")
    used = require_admin(app, actor, ROOT, "alerts resend")
    now = app.clock.now()
    o = t.outbox.c
    with app.unit_of_work() as uow:
        conn = uow.conn
        m = conn.execute(select(o.id, o.kind, o.status, o.channel, o.address, o.person_id, o.alert_id, o.attempts,
                                t.persons.c.code,
                                t.persons.c.active).join(t.persons, t.persons.c.id == o.person_id)
                         .where(o.id == message_id)).first()
        if m is None:
            raise NotFound("resend.unknown", message=message_id)
        if m.kind in SECRET_KINDS:
            raise RuleViolation("resend.secret", message=message_id, who=m.code)
        if m.status != "failed":
            raise RuleViolation("resend.not_failed", message=message_id,
                                state=Msg(f"supervise.delivery.{'pending' if m.status == 'sending' else m.status}"))
        if not m.active:
            raise RuleViolation("resend.left", message=message_id, who=m.code)
        # to the person's address on that kind of channel now (an address corrected since it failed)
        pc = t.person_channels.c
        address = conn.execute(select(pc.address).where(pc.person_id == m.person_id, pc.channel == m.channel,
                                                         pc.active.is_(True)).order_by(pc.id.desc()).limit(1)
                               ).scalar() or m.address
        done = conn.execute(update(t.outbox).where(o.id == message_id, o.status == "failed").values(
            status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None,
            address=address)).rowcount
        if not done:          # resent meanwhile by another administrator
            raise RuleViolation("resend.not_failed", message=message_id, state=Msg("supervise.delivery.pending"))
        uow.append_org_event(actor, ACTION, used.role, ROOT, message=message_id, kind=m.kind, person=m.code,
                             channel=m.channel, alert=m.alert_id, attempts_before=m.attempts,
                             readdressed=address != m.address)
    return {"message": message_id, "kind": m.kind, "person": m.code, "channel": m.channel}
