"""What the engine is given rather than imports: the case kinds' rules and the notification side.

The engine never imports `workflows` or `notifications`; the composition root
(`entrypoints/bootstrap.py`) builds one `Plugins` from them and hands it to the `App`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass
class AlertMessage:
    """One alert to tell its recipients about, handed to the outbox."""
    alert_id: int
    deadline: Any            # the deadlines row
    entry: dict              # the ladder level alerted
    case: Any                # the case row (id, title, kind, stage, region_code, pending_*)
    recipients: list         # [(person id, code, name)]


@dataclass
class PressMessage:
    """A supervisor's press (督办) of an open deadline, to tell its owner about."""
    event: int               # the audit event's seq (deadline_pressed)
    deadline: Any            # the deadlines row
    case: Any                # the case row (id, kind, title, region_code, pending_*)
    presser: tuple           # (person id, code, name)
    role: str                # the presser's post used
    owner: tuple             # (person id, code, name)
    note: str | None
    days_overdue: int


@dataclass
class ObjectionMessage:
    """An objection raised during a notice, to tell those who may resolve it (the township's posts)."""
    objection: int           # the objection's id
    notice: int              # the notice's id
    case: Any                # the case row (id, kind, title, region_code)
    recorder: tuple          # (person id, code, name) of who recorded it
    objector: str
    content: str


@dataclass
class PairingMessage:
    """A cadre paired with a household (结对帮扶), to tell the cadre about."""
    case: Any                # the case row (id, kind, title, region_code)
    slot: str                # first, second
    cadre: int               # the cadre's person id
    by: str                  # who paired them (a name)
    day: Any                 # the pairing's start date
    procedure: int | None = None     # the procedure whose pairing step it was (a household's pairing may change twice a day)
    ended: bool = False              # the cadre is no longer paired with it (a change of pairing cadres)
    reopened: str | None = None      # the household they are paired with is back under assistance, by this
                                     # procedure (返贫, 错退): a new plan is due
    other: str | None = None         # by name: who took their slot over (ended), or whom they took it over from


@dataclass
class RejectionMessage:
    """A step that ended its procedure rejected, to tell those who did the procedure's earlier steps
    and, for a household, its pairing cadres (not who rejected it)."""
    procedure_id: int
    case: Any                # the case row (id, kind, title, region_code)
    procedure: str           # the procedure's key
    step: str                # the key of the step that rejected it
    rejecter: tuple          # (person id, code, name)
    role: str                # the rejecter's post used
    reason: str | None       # the reason as the step stored it (a person's words or the engine's text)
    day: Any                 # the step's effective date
    recipients: list         # [person id], each once


@dataclass
class HandoverMessage:
    """An open deadline handed to a new owner (its owner left, lost the post, or a post was filled), to
    tell the new owner what they now hold: the work, the case, when it is due or since when overdue,
    and whom it came from."""
    deadline: Any            # the deadlines row (its new owner)
    case: Any                # the case row (id, kind, title, region_code, pending_*)
    owner: tuple             # (person id, code, name) of the new owner
    came_from: tuple | None  # (code, name) of the owner before (None: nobody owned it)
    why: str                 # person_deactivated, role_revoked, role_granted, press
    days_overdue: int        # in the deadline's own days (0: not yet)


def _no_references(config) -> None:
    return None


def _no_channels(conn, person_ids) -> dict:
    return {}


def _no_notice(*args, **kwargs) -> None:
    return None


def _refuse(*args, **kwargs):
    raise RuntimeError("this application was built without the notification side (entrypoints.bootstrap)")


@dataclass(frozen=True)
class Plugins:
    """The workflows' checks, handlers and effects per case kind, and how alerts become messages."""
    rules: Mapping[str, Any]
    # (config): raises ConfigError naming what a configuration names that the rules lack; at once
    check_references: Callable[[Any], None] = _no_references
    # the same for an application's own configuration as it starts: may wait until a rule is first
    # used (a read needs none); the check above when not given
    check_at_start: Callable[[Any], None] | None = None
    # notifications: (app, conn, [AlertMessage], now, channels) -> messages queued
    enqueue_alerts: Callable[..., int] = _refuse
    # (app, conn, digests, day, now) -> (sent, unreachable)
    enqueue_digests: Callable[..., tuple] = _refuse
    # (conn, person ids) -> {person id: [channel rows]}
    channels_of: Callable[..., dict] = _no_channels
    # (conn, person id, [(kind, address, lang)], now)
    add_channels: Callable[..., None] = _refuse
    # (app, conn, person row, [channel rows], code, expires_at, now): a one-time enrolment code
    enqueue_enrolment: Callable[..., None] = _refuse
    # (app, conn, person row, [channel rows], what, now): tells a person their credential changed
    enqueue_credential_notice: Callable[..., None] = _no_notice
    # (app, conn, PressMessage, [channel rows], now) -> messages queued: a supervisor's press to the owner
    enqueue_press: Callable[..., int] = _refuse
    # (app, conn, ObjectionMessage, [channel rows], now) -> messages queued: an objection to its resolvers
    enqueue_objection: Callable[..., int] = _no_notice
    # (app, conn, PairingMessage, [channel rows], now) -> messages queued: a new pairing to its cadre
    enqueue_pairing: Callable[..., int] = _no_notice
    # (app, conn, [RejectionMessage], {person id: [channel rows]}, now) -> messages queued: a procedure
    # rejected, to those who did its earlier steps and the household's pairing cadres
    enqueue_rejection: Callable[..., int] = _no_notice
    # (app, conn, HandoverMessage, [channel rows], now) -> messages queued: work handed to its new owner
    enqueue_handover: Callable[..., int] = _no_notice
    # (app, conn, the seal's refusal audit.seal_witness_ahead, [channel rows], now) -> messages queued: a
    # forked witness (an older backup restored) to the administrators, once per fork
    enqueue_fork: Callable[..., int] = _no_notice
    # (app, conn, the backup's folder, why it failed {key, params}, [channel rows], now) -> messages queued:
    # a backup kept by number (the nightly one, `backup --keep`) failed, to the administrators
    enqueue_backup_failed: Callable[..., int] = _no_notice
