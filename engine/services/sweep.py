"""The sweep: alerts for every ladder level that fell due, and the daily digest (DOMAIN §6).

The sweep writes at most one alert per (deadline, ladder level) (a unique constraint on the level's
stable key, so a ladder changed later neither repeats a level nor skips one) and the alert's
messages to the outbox in the same transaction; two sweeps at once, or a sweep killed half way and
run again, neither lose nor duplicate an alert. On PostgreSQL batches are claimed with
FOR UPDATE SKIP LOCKED; on SQLite a sweep batch takes the write lock before it reads.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from types import SimpleNamespace
from typing import Any, Iterable

from sqlalchemy import bindparam, func, or_, select, text, update
from sqlalchemy.engine import Connection

from config.deadlines import OwnerSpec
from engine.adapters import tables as t
from engine.domain.exit_years import EXITED_STAGES
from engine.domain.deadline_rules import Rules, aware, compiled, key_of, nearest_owner, parse_at, roles_at
from engine.domain.errors import BadInput
from engine.domain.regions import ancestors_of, covers, prefix
from engine.services.deadlines import CLOSE, FIRST_CADRES, HOLDERS, PAIRING, POSTS_OF
from engine.services.plugins import AlertMessage
from engine.adapters.one_of import one_of

BATCH = 1000
_DUE = (select(t.deadlines).where(t.deadlines.c.status == "open", t.deadlines.c.next_alert_at <= bindparam("now"))
        .order_by(t.deadlines.c.next_alert_at).limit(bindparam("limit")))
CASES = select(t.cases.c.id, t.cases.c.title, t.cases.c.kind, t.cases.c.stage, t.cases.c.region_code,
                t.cases.c.open_procedure_id, t.cases.c.pending_procedure, t.cases.c.pending_step).where(
    one_of(t.cases.c.id))
_MOVE_ON = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == "open",
                                     t.deadlines.c.next_level == bindparam("b_old")).values(
    next_level=bindparam("b_next"), next_alert_at=bindparam("b_next_at"))
_PERSONS = select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
    one_of(t.persons.c.id))
MODES = ("all", "overdue", "reminders")


def _due_statement(conn: Connection, mode: str):
    stmt = _DUE
    if mode == "overdue":   # a reminder whose moment passed unsent is skipped, not sent late
        stmt = stmt.where(or_(t.deadlines.c.next_level >= 0, t.deadlines.c.due_at <= bindparam("now")))
    elif mode == "reminders":
        stmt = stmt.where(t.deadlines.c.next_level == -1, t.deadlines.c.due_at > bindparam("now"))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


def take_write_lock(conn: Connection) -> None:
    """SQLite: take the database's write lock before reading, so two sweeps run one after the other."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE deadlines SET id = id WHERE 0 = 1"))


@dataclass
class SweepResult:
    alerts: int = 0
    messages: int = 0
    reminders: int = 0
    cancelled: int = 0
    batches: int = 0
    by_level: Counter = field(default_factory=Counter)

    def count(self, level: int) -> None:
        self.by_level[level] += 1
        self.reminders += level < 0

    def as_dict(self) -> dict[str, Any]:
        return {"alerts": self.alerts, "messages": self.messages, "reminders": self.reminders,
                "cancelled": self.cancelled, "batches": self.batches,
                "by_level": {str(k): v for k, v in sorted(self.by_level.items())}}


def sweep(app, now: datetime | None = None, mode: str = "all", batch: int = BATCH,
          stop_after: int | None = None, timings: dict | None = None) -> SweepResult:
    """Alert every ladder level that has fallen due, once; batches of `batch` deadlines, each
    committed with its alerts and their messages. `stop_after` (batches) is for tests;
    `timings` (a dict) gets the seconds spent selecting due deadlines (for the benchmark)."""
    if mode not in MODES:
        raise BadInput("alerts.bad_mode", mode=mode, known=", ".join(MODES))
    now = aware(now or app.clock.now())
    rules = compiled(app.config)
    result = SweepResult()
    if rules is None:
        return result
    _hand_over_leavers(app, rules, now)
    while stop_after is None or result.batches < stop_after:
        with app.transaction() as conn:
            take_write_lock(conn)
            began = perf_counter()
            rows = conn.execute(_due_statement(conn, mode), {"now": now, "limit": batch}).all()
            if timings is not None:
                timings["select"] = timings.get("select", 0.0) + perf_counter() - began
            if not rows:
                break
            _alert_batch(app, conn, rules, rows, now, mode, result)
        result.batches += 1
        if len(rows) < batch:
            break
    return result


# The persons who left (no longer active); a deadline has no owner in office when it has nobody or one
# of them (each read through the deadlines' (owner, status) index: engine/services/handover.py,
# engine/reads/leaving.py).
LEFT = select(t.persons.c.id).where(t.persons.c.active.is_(False)).scalar_subquery()
NO_OWNER_IN_OFFICE = (t.deadlines.c.owner_id.is_(None), t.deadlines.c.owner_id.in_(LEFT))
# Open deadlines still owned by a person who left (deactivated before leaving handed them over at once): few.
_LEAVERS = (select(t.deadlines).where(t.deadlines.c.owner_id.in_(LEFT), t.deadlines.c.status == "open")
            .order_by(t.deadlines.c.id).limit(BATCH))


def _hand_over_leavers(app, rules: Rules, now: datetime) -> None:
    """Deadlines left with a person who left (before leaving handed them over, engine/services/handover.py)
    go to the holder of the post that owned them, else to nobody: never listed, pressed nor alerted as
    the leaver's. Each records the change (`owner_changes`)."""
    while True:
        with app.transaction() as conn:
            take_write_lock(conn)
            rows = [SimpleNamespace(**r._asdict()) for r in conn.execute(_LEAVERS)]
            if not rows:
                return
            cases = {c.id: c for c in conn.execute(CASES, {"ids": sorted({r.case_id for r in rows})})}
            if not refind_owners(app, conn, rules, rows, cases, now) or len(rows) < BATCH:
                return


def _alert_batch(app, conn: Connection, rules: Rules, rows: list, now: datetime, mode: str,
                 result: SweepResult) -> None:
    cases = {c.id: c for c in conn.execute(CASES, {"ids": sorted({r.case_id for r in rows})})}
    moves, cancels, alerts = [], [], []
    rows = [SimpleNamespace(**r._asdict()) for r in rows]     # the owner may be re-found below
    for r in rows:
        reason = _stale(rules, r, cases.get(r.case_id))
        if reason:
            cancels.append({"b_id": r.id, "b_status": "cancelled", "b_at": now, "b_reason": reason})
            continue
        handled, nxt = _levels_due(r, now, mode)
        alerts.extend((r, e) for e in handled)
        moves.append({"b_id": r.id, "b_old": r.next_level, "b_next": nxt["level"] if nxt else None,
                      "b_next_at": parse_at(nxt["at"]) if nxt else None})
    if cancels:
        conn.execute(CLOSE, cancels)
        result.cancelled += len(cancels)
    if alerts:
        _send(app, conn, rules, alerts, cases, now, result)
    if moves:
        conn.execute(_MOVE_ON, moves)


def _levels_due(r, now: datetime, mode: str) -> tuple[list[dict], dict | None]:
    """The ladder levels of `r` to alert now, and the level after them (None: the ladder is done)."""
    due_at, handled = aware(r.due_at), []
    for entry in r.ladder:
        if entry["level"] < r.next_level:
            continue
        at = parse_at(entry["at"])
        if entry["level"] < 0:
            if due_at <= now:
                continue      # the reminder's moment passed unswept: it is overdue now, say that
            if mode == "overdue" or at > now:
                return handled, entry
        elif mode == "reminders" or at > now:
            return handled, entry
        handled.append(entry)
    return handled, None


def _send(app, conn: Connection, rules: Rules, alerts: list, cases: dict, now: datetime,
          result: SweepResult) -> None:
    """Write the alerts not written yet and their messages to the outbox."""
    refind_owners(app, conn, rules, {r.id: r for r, e in alerts if e["to"] == "owner"}.values(), cases, now)
    recipients = _recipients(conn, [(r, e, cases[r.case_id]) for r, e in alerts])
    channels = app.plugins.channels_of(conn, [p[0] for ps in recipients.values() for p in ps])
    created = _insert_alerts(conn, [_alert_row(r, e, recipients, now) for r, e in alerts])
    by_key = {(r.id, key_of(e)): (r, e) for r, e in alerts}
    messages = []
    for alert_id, deadline_id, rung in created:
        r, e = by_key[(deadline_id, rung)]
        messages.append(AlertMessage(alert_id, r, e, cases[r.case_id], recipients[(deadline_id, e["level"])]))
        result.count(e["level"])
    result.alerts += len(created)
    result.messages += app.plugins.enqueue_alerts(app, conn, messages, now, channels)


def _alert_row(r, e: dict, recipients: dict, now: datetime) -> dict[str, Any]:
    return {"deadline_id": r.id, "level": e["level"], "rung": key_of(e), "case_id": r.case_id, "rule": r.rule,
            "region_code": r.region_code, "created_at": now, "due_at": aware(r.due_at),
            "provisional": bool(r.provisional), "recipients": [list(p) for p in recipients[(r.id, e["level"])]],
            "detail": {"to": e["to"], "after": e["after"], "at": e["at"], "due_on": r.due_on.isoformat(),
                       "owner_id": r.owner_id, "step": r.step_key}}


def _stale(rules: Rules, r, case) -> str | None:
    """A deadline whose work no longer applies is cancelled by the sweep instead of alerted."""
    if case is None:
        return "case gone"
    rule = rules.rules.get(r.rule)
    if rule is None:
        return None
    if r.type == "waiting" and (case.open_procedure_id != r.procedure_id or case.pending_step != r.step_key):
        return "no longer waiting"
    if r.type == "sample" and case.open_procedure_id is not None:      # the office cannot register it now
        return "procedure under way"
    if r.type == "sample" and case.stage not in EXITED_STAGES:          # nor ever: no longer exited
        return f"stage:{case.stage}"
    if r.type == "stage" and case.stage not in {tr.enters for tr in rule.when if tr.enters}:
        return f"stage:{case.stage}"
    return None


# --- the owner, as of the alert ------------------------------------------------------------------

_ACTIVE = select(t.persons.c.id, t.persons.c.active).where(one_of(t.persons.c.id))
_SIGNERS = select(t.steps.c.procedure_id, t.steps.c.person_id, t.steps.c.data).where(
    one_of(t.steps.c.procedure_id), t.steps.c.voided_at.is_(None))
_SET_OWNER = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id")).values(
    owner_id=bindparam("b_owner"), owner_role=bindparam("b_role"), owner_changes=bindparam("b_changes"))


def refind_owners(app, conn: Connection, rules: Rules, rows: Iterable, cases: dict, now: datetime) -> list[dict]:
    """An owner is named when the deadline is made; when their alert falls due they may have left
    the post over the case's region (or be inactive, or no longer the household's first pairing
    cadre). Then the owner is found again: the nearest holder of the post that owned it (its
    `owner_role`), or nobody until that post is filled (无责任人: the ladder goes on to the
    supervisors), never another post's holder, who may not do the step. A deadline no person ever
    owned (nobody held any of the rule's posts when it was made) goes, as at creation, to the nearest
    holder of the rule's owner roles once one is held. A person named with no role to find another
    by (a rectification's assignee) stays the owner until the work is assigned again. The sweep calls
    it as alerts fall due; a person leaving, a post ended or filled calls it at once
    (engine/services/handover.py): both by this one rule.
    Returns the changes written: {b_id, b_owner, b_role, b_changes} each."""
    rows = list(rows)
    if not rows:
        return []
    held = _holding(conn, rules, rows)
    lost = [(r, reason) for r in rows if (reason := _why_not(rules, r, held))]
    if not lost:
        return []
    wanted = {r.id: _posts_wanted(r, _owner_roles(app, rules, r, cases.get(r.case_id))) for r, _ in lost}
    roles = sorted({role for spec in wanted.values() if spec for role in spec})
    holders = conn.execute(HOLDERS, {"roles": roles, "regions": sorted(
        {a for r, _ in lost for a in ancestors_of(r.region_code)})}).all() if roles else []
    took_part = _took_part(conn, [r for r, _ in lost])
    changes = [change for r, reason in lost if (change := _new_owner(
        rules, r, reason, held.cadres, wanted[r.id], holders, took_part, now))]
    if changes:
        conn.execute(_SET_OWNER, changes)
    return changes


def _posts_wanted(r, roles: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The posts `r`'s owner is found among: the one that owned it, once a person owned it (a
    household's own pairing cadre is found through its pairing, not as any holder of the role), else
    the rule's `roles`, as at creation."""
    if roles and r.owner_role in roles and r.owner_role != PAIRING and _owned_once(r):
        return (r.owner_role,)
    return roles


def _owned_once(r) -> bool:
    """Whether a person ever owned the deadline at the step it waits for (its owner now, or one its
    changes name since it moved to that step: a step done hands it to that step's posts, none of whose
    holders owned it yet)."""
    if r.owner_id is not None:
        return True
    changes = list(r.owner_changes or ())
    moved = [i for i, c in enumerate(changes) if str(c.get("reason") or "").startswith("step:")]
    if moved:
        changes = changes[moved[-1]:]
        if changes[0].get("to") is not None:
            return True
        changes = changes[1:]
    return any(c.get("from") is not None or c.get("to") is not None for c in changes)


@dataclass
class _Holding:
    """Who holds what, for the owners of some deadlines: posts, being active, first pairing cadres."""
    posts: dict[int, list]
    active: dict[int, bool]
    cadres: dict[int, int]


def _holding(conn: Connection, rules: Rules, rows: list) -> _Holding:
    ids = sorted({r.owner_id for r in rows if r.owner_id is not None})
    posts: dict[int, list] = defaultdict(list)
    for p in (conn.execute(POSTS_OF, {"ids": ids}) if ids else ()):
        posts[p.person_id].append(p)
    active = {p.id: bool(p.active) for p in conn.execute(_ACTIVE, {"ids": ids})} if ids else {}
    return _Holding(posts, active, _first_cadres(conn, sorted({r.case_id for r in rows if _by_pairing(rules, r)})))


def _first_cadres(conn: Connection, case_ids: list[int]) -> dict[int, int]:
    cadres: dict[int, int] = {}
    for c in (conn.execute(FIRST_CADRES, {"ids": case_ids}) if case_ids else ()):
        cadres.setdefault(c.case_id, c.person_id)
    return cadres


def _by_pairing(rules: Rules, r) -> bool:
    """Owned by the household's first pairing cadre in force: by its rule, or (`follows_pairing`, set by a
    pairing change) a step's deadline the pairing cadre owned (the exit's acknowledgement), which the new one takes."""
    rule = rules.rules.get(r.rule)
    return rule is not None and (rule.owner == "pairing_cadre" or getattr(r, "follows_pairing", False))


def _why_not(rules: Rules, r, held: _Holding) -> str | None:
    """Why the deadline's owner is no longer its owner (None: they still are)."""
    if r.owner_id is None:
        return "no owner"
    if not held.active.get(r.owner_id, False):
        return "inactive"
    if _by_pairing(rules, r) and held.cadres.get(r.case_id) != r.owner_id:
        return "pairing changed"
    if not any(covers(p.region_code, r.region_code) and (r.owner_role is None or p.role == r.owner_role)
               for p in held.posts.get(r.owner_id, ())):
        return "post ended"
    return None


def _took_part(conn: Connection, rows: list) -> dict[int, set]:
    """Who took part in the procedures the deadlines wait in: they may not review (as at creation)."""
    waiting = sorted({r.procedure_id for r in rows if r.type in ("waiting", "procedure") and r.procedure_id})
    took_part: dict[int, set] = defaultdict(set)
    for s in (conn.execute(_SIGNERS, {"ids": waiting}) if waiting else ()):
        took_part[s.procedure_id].add(s.person_id)
        took_part[s.procedure_id].update((s.data or {}).get("verifier_ids", []))
    return took_part


def _new_owner(rules: Rules, r, reason: str, cadres: dict, roles, holders: list, took_part: dict,
               now: datetime) -> dict | None:
    """The deadline's owner found again, recorded on `r`; its UPDATE's values (None: no change)."""
    if _by_pairing(rules, r):
        owner, role = cadres.get(r.case_id), "pairing_cadre"
    elif roles:
        owner, role = nearest_owner(holders, roles, r.region_code, frozenset(took_part.get(r.procedure_id, ())))
    elif reason == "inactive":   # a named person who left, and no role to find another by: nobody
        owner, role = None, r.owner_role
    else:   # a named person and no role to find another by (a rectification's assignee): kept
        return None
    if owner == r.owner_id:
        return None
    record = {"at": now.isoformat(), "from": r.owner_id, "from_role": r.owner_role, "to": owner, "role": role,
              "reason": reason}
    r.owner_changes = list(r.owner_changes or []) + [record]
    r.owner_id, r.owner_role = owner, role
    return {"b_id": r.id, "b_owner": owner, "b_role": role, "b_changes": r.owner_changes}


def _owner_roles(app, rules: Rules, r, case) -> tuple[str, ...] | None:
    rule = rules.rules.get(r.rule)
    if rule is None:
        return None
    if rule.owner == "step_roles":
        workflow = app.config.workflows.get(case.kind) if case is not None else None
        # the step waited for: in the open procedure, else the one a first clue leads to, or the stage's
        names = (case.pending_procedure, rule.started_procedure, workflow.main_path.get(case.stage)) if workflow else ()
        steps = [s for n in names if n in workflow.procedures for s in workflow.procedures[n].steps] if names else []
        step = next((s for s in steps if s.key == r.step_key), None)
        # a pairing cadre found again would be any of the village's: the household's own only is its owner;
        # a step whose approver level is by province: that level's posts only (engine/domain roles_at)
        roles = roles_at(app.config, step, r.region_code, r.start_on) if step else ()
        return tuple(role for role in roles if role != PAIRING) or None if step else None
    if isinstance(rule.owner, OwnerSpec) and rule.owner.roles:
        return tuple(rule.owner.roles)
    return None


def _recipients(conn: Connection, items: list) -> dict[tuple[int, int], list[tuple[int, str, str]]]:
    """(deadline, level) -> [(person id, code, name)]: the owner, or for each of the level's roles its
    nearest holders over the case (a county inspector, not also the province's)."""
    roles = sorted({role for _, e, _ in items if e["to"] != "owner" for role in e["to"]})
    holders = []
    if roles:
        regions = sorted({a for r, _, _ in items for a in ancestors_of(r.region_code)})
        holders = conn.execute(HOLDERS, {"roles": roles, "regions": regions}).all()
    depth = {h.region_code: len(prefix(h.region_code)) for h in holders}
    found: dict[tuple[int, int], list[int]] = {}
    for r, e, _ in items:
        if e["to"] == "owner":
            ids = [r.owner_id] if r.owner_id is not None else []
        else:
            ids = []
            for role in e["to"]:
                over = [h for h in holders if h.role == role and covers(h.region_code, r.region_code)]
                nearest = max((depth[h.region_code] for h in over), default=None)
                ids.extend(h.person_id for h in over if depth[h.region_code] == nearest)
            ids = list(dict.fromkeys(ids))
        found[(r.id, e["level"])] = ids
    all_ids = sorted({i for ids in found.values() for i in ids})
    people = {p.id: (p.id, p.code, p.name) for p in conn.execute(_PERSONS, {"ids": all_ids})} if all_ids else {}
    return {k: [people[i] for i in ids if i in people] for k, ids in found.items()}


def _insert_alerts(conn: Connection, rows: list[dict]) -> list[tuple[int, int, str]]:
    """Insert alerts that do not exist yet; returns (id, deadline id, rung) of those inserted."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(t.alerts).on_conflict_do_nothing(index_elements=["deadline_id", "rung"]).returning(
        t.alerts.c.id, t.alerts.c.deadline_id, t.alerts.c.rung)
    return [tuple(r) for r in conn.execute(stmt, rows)]


# --- the daily digest ----------------------------------------------------------------------------

_OVERDUE_GROUPS = select(t.deadlines.c.region_code, t.deadlines.c.rule, t.deadlines.c.provisional,
                         func.count().label("n"), func.min(t.deadlines.c.due_at).label("oldest")).where(
    t.deadlines.c.status == "open", t.deadlines.c.due_at <= bindparam("now")).group_by(
    t.deadlines.c.region_code, t.deadlines.c.rule, t.deadlines.c.provisional)
# The digest's items, what to act on first (README "Daily digest"): escalated highest first (to the end of its
# ladder, the discipline inspector, then by the rungs passed); at the same height, a procedure's own time limit
# (monitoring's 15 days from the first clue: a household at risk not yet identified) before the rest; then the
# oldest due. A year-old signature no longer buries a monitoring lapse escalated as high.
_D = t.deadlines.c
_OVERDUE_ITEMS = select(_D.id, _D.case_id, _D.rule, _D.type, _D.step_key, _D.due_on, _D.counting, _D.owner_id,
                        _D.provisional, _D.next_level, _D.region_code).where(
    _D.status == "open", _D.due_at <= bindparam("now"))
_TITLES = select(t.cases.c.id, t.cases.c.title).where(one_of(t.cases.c.id))
FIRST = 10          # a digest's items
_KEEP = 100         # a region's candidates kept before they are cut to FIRST again


def first_in_digest(o) -> tuple:
    """The order a digest's items come in (README "Daily digest"): escalated highest first (to the end of its
    ladder, then by the rungs passed), a procedure's own limit before a wait at the same height, then the
    oldest due."""
    return (o.next_level is not None, -(o.next_level or 0), o.type != "procedure", o.due_on, o.id)


def _no_digest() -> dict:
    return {"supervisors": 0, "messages": 0, "unreachable": []}


_SUPERVISORS = (select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code,
                       t.persons.c.code, t.persons.c.name)
                .join(t.persons, t.persons.c.id == t.role_assignments.c.person_id)
                .where(t.role_assignments.c.role.in_(bindparam("roles", expanding=True)),
                       t.role_assignments.c.revoked_at.is_(None), t.persons.c.active.is_(True))
                .order_by(t.role_assignments.c.person_id))


def digest(app, now: datetime | None = None) -> dict[str, int]:
    """One message per supervisor and day: what is overdue in their jurisdiction (idempotent per day)."""
    now = aware(now or app.clock.now())
    rules = compiled(app.config)
    if rules is None or not rules.file.digest_roles:
        return _no_digest()
    with app.transaction() as conn:
        take_write_lock(conn)
        groups = conn.execute(_OVERDUE_GROUPS, {"now": now}).all()
        if not groups:
            return _no_digest()
        supervisors = _supervisors(conn, rules)
        first = _first_items(conn, {reg for entry in supervisors.values() for reg in entry["regions"]}, now)
        digests = [d for entry in supervisors.values() if (d := _digest_of(entry, groups, first)) is not None]
        sent, unreachable = app.plugins.enqueue_digests(app, conn, digests, now.astimezone(rules.tz).date(), now)
    return {"supervisors": len(digests), "messages": sent, "unreachable": unreachable}


def _supervisors(conn: Connection, rules: Rules) -> dict[int, dict]:
    """person id -> {"person": (id, code, name), "regions": the regions of their digest roles}."""
    posts: dict[int, dict] = {}
    for s in conn.execute(_SUPERVISORS, {"roles": list(rules.file.digest_roles)}):
        entry = posts.setdefault(s.person_id, {"person": (s.person_id, s.code, s.name), "regions": set()})
        entry["regions"].add(s.region_code)
    return posts


def _first_items(conn: Connection, regions: set[str], now: datetime) -> dict[str, list]:
    """{region: its overdue items to act on first (`first_in_digest`), at most FIRST}, for every supervisor's
    region in one pass over the overdue deadlines (streamed), the cases' titles read once for those kept.
    (Asked region by region in that order, each region's query read every overdue deadline of the database:
    no index serves an order by escalation.)"""
    kept: dict[str, list] = {r: [] for r in regions}
    streamed = conn.execute(_OVERDUE_ITEMS.execution_options(yield_per=2000), {"now": now})
    lists: dict[str, list] = {}          # a deadline's region -> the lists of the supervisors' regions over it
    for row in streamed:
        into = lists.get(row.region_code)
        if into is None:
            into = lists[row.region_code] = [kept[r] for r in ancestors_of(row.region_code) if r in kept]
        if not into:
            continue
        item = (first_in_digest(row), row)
        for found in into:
            found.append(item)
            if len(found) >= _KEEP:
                found.sort(key=_by_key)
                del found[FIRST:]
    ids = sorted({row.case_id for found in kept.values() for _, row in found})
    titles = {}
    for start in range(0, len(ids), 1000):
        titles.update(conn.execute(_TITLES, {"ids": ids[start:start + 1000]}).all())
    return {region: [SimpleNamespace(**row._mapping, title=titles.get(row.case_id))
                     for _, row in sorted(found, key=_by_key)[:FIRST]]
            for region, found in kept.items() if found}


def _by_key(pair: tuple) -> tuple:
    return pair[0]


def _digest_of(entry: dict, groups: list, first: dict[str, list]) -> dict | None:
    """What is overdue in one supervisor's regions (None: nothing)."""
    mine = [g for g in groups if any(covers(reg, g.region_code) for reg in entry["regions"])]
    if not mine:
        return None
    by_rule: Counter = Counter()
    for g in mine:
        by_rule[g.rule] += g.n
    oldest = [o for reg in sorted(entry["regions"]) for o in first.get(reg, ())]
    oldest = sorted({o.id: o for o in oldest}.values(), key=first_in_digest)[:FIRST]
    return {"person": entry["person"], "total": sum(by_rule.values()), "by_rule": dict(by_rule),
            "provisional": sum(g.n for g in mine if g.provisional), "oldest": oldest}
