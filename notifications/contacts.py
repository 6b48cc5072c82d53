"""Each person's channels and addresses: part of their record, changed by an administrator."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.domain.errors import BadInput, Msg
from .channels import KINDS, check_address


def parse_channel(spec: str, lang: str = "zh") -> tuple[str, str, str]:
    """`KIND:ADDRESS` (e.g. email:wang@example.cn, wecom:meijiang/13800001111, file:wang) -> row values."""
    kind, sep, address = spec.partition(":")
    kind, address = kind.strip().lower(), address.strip()
    if kind == "console" and not sep:
        address = "-"
    elif not sep:
        raise BadInput("channel.bad", spec=spec, problem=Msg("channel.problem.format", {"known": ", ".join(KINDS)}))
    if lang not in ("zh", "en"):
        raise BadInput("channel.bad_lang", lang=lang)
    problem = check_address(kind, address)
    if problem:
        raise BadInput("channel.bad", spec=spec, problem=problem)
    return kind, address or "-", lang


def channel_rows(person_id: int, channels: Iterable[tuple[str, str, str]], now) -> list[dict]:
    return [{"person_id": person_id, "channel": kind, "address": address, "lang": lang, "active": True,
             "created_at": now} for kind, address, lang in dict.fromkeys(channels)]


def add_channels(conn: Connection, person_id: int, channels: Sequence[tuple[str, str, str]], now) -> None:
    if channels:
        conn.execute(insert(t.person_channels), channel_rows(person_id, channels, now))


def set_channels(app, actor, code: str, add: Sequence[tuple[str, str, str | None]] = (),
                 remove: Sequence[tuple[str, str]] = (), clear: bool = False, lang: str | None = None,
                 refuse_unchanged: bool = False) -> list[dict]:
    """Add or end a person's channels (ended rows are kept inactive); an administrator over every
    post the person holds; one audit event. Returns the person's channels in force.

    The language of alerts is the person's: `lang` sets it for every channel they have and every one
    added; a channel added with no language (None) takes the one their channels have. Asked by an
    administrator (`refuse_unchanged`: the command, the page), a call that changes nothing is refused
    (channel.unchanged), never a silent success; a program's call may repeat itself."""
    from engine.services.org import person_by_code, require_admin
    from engine.domain.regions import ROOT
    if lang is not None and lang not in ("zh", "en"):
        raise BadInput("channel.bad_lang", lang=lang)
    with app.unit_of_work() as uow:
        conn = uow.conn
        person = person_by_code(conn, code)
        regions = [r.region_code for r in conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.person_id == person.id, t.role_assignments.c.revoked_at.is_(None)))]
        for region in regions or [ROOT]:
            assignment = require_admin(app, actor, region, "person channel")
        current = conn.execute(select(t.person_channels).where(t.person_channels.c.person_id == person.id,
                                                               t.person_channels.c.active.is_(True))
                               .order_by(t.person_channels.c.id)).all()
        ending = [c.id for c in current if clear or (c.channel, c.address) in set(remove)]
        missing = [f"{k}:{a}" for k, a in remove if not any((c.channel, c.address) == (k, a) for c in current)]
        if missing:
            raise BadInput("channel.not_found", person=code, channel=", ".join(missing))
        staying = [c for c in current if c.id not in ending]
        theirs = lang or (staying[-1].lang if staying else current[-1].lang if current else "zh")
        relang = [c.id for c in staying if lang is not None and c.lang != lang]
        if ending:
            conn.execute(update(t.person_channels).where(t.person_channels.c.id.in_(ending)).values(active=False))
        if relang:
            conn.execute(update(t.person_channels).where(t.person_channels.c.id.in_(relang)).values(lang=lang))
        kept = {(c.channel, c.address) for c in staying}
        new = [(k, a, lang or chosen or theirs) for k, a, chosen in add if (k, a) not in kept]
        changed = bool(ending or relang or new)
        if not changed and refuse_unchanged:
            raise BadInput("channel.unchanged", person=code, lang=Msg(f"alert_lang.{theirs}"))
        add_channels(conn, person.id, new, app.clock.now())
        # Kinds only: addresses are personal data and stay in person_channels.
        uow.append_org_event(actor, "channels_changed", assignment.role, assignment.region_code, person=code,
                             added=sorted({k for k, _, _ in new}), ended=len(ending),
                             **({"lang": lang, "relanguaged": len(relang)} if relang else {}))
        rows = conn.execute(select(t.person_channels).where(t.person_channels.c.person_id == person.id,
                                                            t.person_channels.c.active.is_(True))
                            .order_by(t.person_channels.c.id)).all()
    return [{"channel": r.channel, "address": r.address, "lang": r.lang} for r in rows]


def add_channels_many(app, actor, channels: dict[str, Sequence[tuple[str, str, str]]]) -> int:
    """Give many people channels at once (an office's contact list): one transaction, one audit
    event; an administrator over the whole installation. Returns the number of channels added."""
    from engine.services.org import person_ids, require_admin
    from engine.domain.regions import ROOT
    assignment = require_admin(app, actor, ROOT, "person channel")
    with app.unit_of_work() as uow:
        conn = uow.conn
        ids = person_ids(conn, list(channels))
        now = app.clock.now()
        rows = [r for code, chans in channels.items() for r in channel_rows(ids[code], chans, now)]
        if rows:
            conn.execute(insert(t.person_channels), rows)
        uow.append_org_event(actor, "channels_changed", assignment.role, assignment.region_code,
                             persons=len(channels), added=sorted({r["channel"] for r in rows}))
    return len(rows)
