"""Reading deadlines and alerts in the reader's jurisdiction (DOMAIN §6), and what the
configuration's calendar cannot count yet."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import Text, and_, cast, exists, func, or_, select
from sqlalchemy.engine import Connection

from config import Config
from config.deadlines import DaysParam
from engine.adapters import tables as t
from engine.domain.deadline_rules import aware, compiled, lapse, office_zone, overdue_by
from engine.domain.errors import BadInput, Codes, render_stored, render_text
from engine.reads.case_lists import within
from engine.reads.handed import Handovers
from engine.services.org import require_reader
from engine.adapters.one_of import one_of

BATCH = 1000
_PERSONS = select(t.persons.c.id, t.persons.c.code).where(one_of(t.persons.c.id))

_DEADLINES = (select(t.deadlines, t.cases.c.title, t.persons.c.code.label("owner_code"),
                     t.persons.c.name.label("owner_name"))
              .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
              .outerjoin(t.persons, t.persons.c.id == t.deadlines.c.owner_id)
              .order_by(t.deadlines.c.due_at, t.deadlines.c.id))


def deadline_rows(app, actor, *, mine: bool = False, status: str | None = "open", overdue: bool = False,
                  region: str | None = None, rule: str | None = None, case_id: int | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Deadlines in the reader's jurisdiction, oldest due first."""
    return list(deadlines_streamed(app, actor, mine=mine, status=status, overdue=overdue, region=region, rule=rule,
                                   case_id=case_id, limit=limit))


def deadlines_streamed(app, actor, *, limit: int | None = None, **wanted: Any) -> Iterator[dict[str, Any]]:
    """deadline_rows one by one as they are read (`BATCH` rows at a time): memory does not grow with
    a city's deadlines (`deadline list --overdue` over 150,000 held 300 MB). A filter it refuses (a
    region outside the jurisdiction) is refused here, before the first row is asked for."""
    now = aware(app.clock.now())
    q = _deadlines_wanted(app, actor, now, **wanted)
    if limit:                 # the jurisdiction is in the query: the limit can be too
        q = q.limit(limit)
    return _streamed(app, q.execution_options(yield_per=BATCH), now)


def _streamed(app, q, now: datetime) -> Iterator[dict[str, Any]]:
    with app.engine.connect() as conn:
        named = Handovers(app, conn, now)
        for r in conn.execute(q):
            yield _deadline_dict(app.config, r, now, named)


def deadline_page(app, actor, limit: int, after: str | None = None, **wanted: Any) -> tuple[list[dict[str, Any]],
                                                                                          str | None]:
    """One page of deadline_rows (`wanted`: its filters), at most `limit`, after the keyset cursor
    `after` (due_cursor; None: the first page): its rows and the cursor of the next page, None on the
    last. A page read later goes on from where the last one ended, whatever was added before it."""
    now = aware(app.clock.now())
    q = _deadlines_wanted(app, actor, now, **wanted).where(*after_cursor(after)).limit(limit + 1)
    with app.engine.connect() as conn:
        rows = conn.execute(q).all()
        named = Handovers(app, conn, now)
        found = [_deadline_dict(app.config, r, now, named) for r in rows[:limit]]
    more = len(rows) > limit
    return found, due_cursor(rows[limit - 1]) if more else None


def _deadlines_wanted(app, actor, now, *, mine: bool = False, status: str | None = "open", overdue: bool = False,
                      region: str | None = None, rule: str | None = None, case_id: int | None = None):
    if region:        # a region out of reach is refused, as a case list's is (it answered an empty list)
        require_reader(app, actor, region)
    return _DEADLINES.where(*_deadline_filters(actor, now, mine=mine, status=status, overdue=overdue, region=region,
                                               rule=rule, case_id=case_id),
                            within([a.region_code for a in actor.assignments], t.deadlines.c.region_code))


def due_cursor(row) -> str:
    """The keyset cursor of a list of deadlines oldest due first, at `row` (its due_at and id): `due_at
    (epoch seconds).id` (due times are whole seconds). The overdue page and GET /deadlines page by it."""
    return f"{int(aware(row.due_at).timestamp())}.{row.id}"


def after_cursor(cursor: str | None) -> list:
    """The keyset condition of the deadlines after `cursor` (due_cursor); a cursor that is none is refused."""
    if not cursor:
        return []
    try:
        stamp, _, ident = cursor.partition(".")
        due, last = datetime.fromtimestamp(int(stamp), timezone.utc), int(ident)
        if not 0 < last < 2 ** 62:
            raise ValueError(ident)
    except (ValueError, OverflowError, OSError):
        raise BadInput("supervise.bad_cursor") from None
    d = t.deadlines.c
    return [or_(d.due_at > due, and_(d.due_at == due, d.id > last))]


def earliest_due(app, case_ids: Sequence[int], rules: Sequence[str] | None = None) -> dict[int, tuple[date, str, int, str]]:
    """The earliest due date of each case's open deadlines, with that deadline's rule (a page of "my
    work": its cases' index; the rule says which time limit it is), the days it is overdue (0: not yet)
    and their kind (`counting`: calendar or working days, the deadline's own, as its mail says them).
    `rules`: those rules' deadlines only (`risk_due`)."""
    if not case_ids:
        return {}
    d = t.deadlines.c
    today = app.clock.today()
    found: dict[int, tuple[date, str, int, str]] = {}
    mine = [d.rule.in_(list(rules))] if rules is not None else []
    with app.engine.connect() as conn:       # a page's cases' few open deadlines, the earliest kept
        for case_id, due_on, rule, counting in conn.execute(select(d.case_id, d.due_on, d.rule, d.counting).where(
                d.case_id.in_(list(case_ids)), d.status == "open", *mine).order_by(d.case_id, d.due_on, d.id)):
            if case_id not in found:
                found[case_id] = (due_on, rule, overdue_by(app.config, due_on, today, counting), counting)
    return found


def stalled_elsewhere(app, actor, case_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each case's open deadlines past due that are not `actor`'s own (a pairing cadre's household held up at
    the township or the county): {case: [{rule, procedure, step, owner_name, owner_role, region, due_on,
    days, counting, limit}]}, the oldest first (`limit`: the procedure's own time limit, monitoring's 15 days, not a
    step's wait); read by the deadlines' (case_id, status) index."""
    if not case_ids:
        return {}
    d, p, o = t.deadlines.c, t.procedures.c, t.persons.c
    today, now = app.clock.today(), app.clock.now()
    found: dict[int, list[dict[str, Any]]] = {}
    with app.engine.connect() as conn:
        rows = conn.execute(select(d.case_id, d.rule, d.type, d.step_key, d.owner_role, d.region_code, d.due_on, d.counting,
                                   p.kind.label("procedure"), o.name.label("owner_name"))
                            .outerjoin(t.procedures, p.id == d.procedure_id).outerjoin(t.persons, o.id == d.owner_id)
                            .where(d.case_id.in_(list(case_ids)), d.status == "open", d.due_at < now,
                                   or_(d.owner_id.is_(None), d.owner_id != actor.person_id))
                            .order_by(d.case_id, d.due_on, d.id)).all()
    for r in rows:
        found.setdefault(r.case_id, []).append({
            "rule": r.rule, "procedure": r.procedure, "step": r.step_key, "owner_name": r.owner_name,
            "owner_role": r.owner_role, "region": r.region_code, "due_on": r.due_on,
            "days": overdue_by(app.config, r.due_on, today, r.counting), "counting": r.counting,
            "limit": r.type == "procedure"})
    return found


def risk_due(app, case_ids: Sequence[int], procedure: str) -> dict[int, tuple[date, str, int, str]]:
    """`earliest_due` of the deadlines that lead to `procedure` (a risk found on a visit: the 15 days to
    identify a monitored household), not another procedure's open meanwhile (the township's approval of
    a revised plan), which the risk's row had shown as its date."""
    rules = compiled(app.config)
    names = sorted(n for n, r in rules.rules.items() if r.started_procedure == procedure) if rules else []
    return earliest_due(app, case_ids, names) if names else {}


def _deadline_filters(actor, now, *, mine, status, overdue, region, rule, case_id) -> list:
    c = t.deadlines.c
    wanted = [(status, lambda: c.status == status), (overdue, lambda: c.due_at <= now),
              (region, lambda: within([region], c.region_code)), (rule, lambda: c.rule == rule),
              (case_id, lambda: c.case_id == case_id), (mine, lambda: c.owner_id == actor.person_id)]
    return [make() for given, make in wanted if given]


def _deadline_dict(config: Config, r, now, named: Handovers) -> dict[str, Any]:
    late = lapse(config, r)
    held = named.person(late["held_by"]) if late else (None, None)
    handed = named.of(r) if r.status == "open" else None
    return {
        "id": r.id, "case": r.case_id, "title": r.title, "rule": r.rule, "step": r.step_key,
        "subject": r.subject or None, "region": r.region_code, "owner": r.owner_code, "owner_name": r.owner_name,
        "owner_role": r.owner_role, "start_on": r.start_on.isoformat(), "due_on": r.due_on.isoformat(),
        "counting": r.counting, "provisional": bool(r.provisional), "status": r.status,
        "overdue": r.status == "open" and aware(r.due_at) <= now,
        "next_level": r.next_level, "next_alert_at": aware(r.next_alert_at).isoformat() if r.next_alert_at else None,
        "closed_reason": r.closed_reason, "rules_version": r.rules_version,
        # met late, or ended once overdue: when it closed, how late (its own days), who held it when it lapsed
        "closed_on": aware(r.closed_at).astimezone(office_zone(config)).date().isoformat() if r.closed_at else None,
        # closed by a step entered after the fact: the date it bears, by which the deadline was met or late
        "met_on": r.met_on.isoformat() if r.met_on else None,
        "late_by": late["late_by"] if late else None, "lapsed_owner": held[0], "lapsed_owner_name": held[1],
        # handed to its owner now (a leaver's, a vacant post's): on which day, from whom, who held it when it lapsed
        "handed_on": handed["on"] if handed else None, "handed_from": handed["from"] if handed else None,
        "handed_from_name": handed["from_name"] if handed else None, "handed_lapsed": bool(handed and handed["lapsed"]),
        "lapsed_under": handed["lapsed_under"] if handed and handed["lapsed"] else None,
        "lapsed_under_name": handed["lapsed_under_name"] if handed and handed["lapsed"] else None}


ALERT_STATUSES = ("pending", "delivered", "failed", "not_needed")
_OF_ALERT = t.outbox.c.alert_id == t.alerts.c.id
_N_RECIPIENTS = func.json_array_length(t.alerts.c.recipients)
# Failed: a message failed for good, a recipient no channel reaches (fewer people messaged than
# named), or nobody to send it to. Pending: else, a message still waits (or is being sent).
_FAILED = or_(exists().where(_OF_ALERT, t.outbox.c.status == "failed"), _N_RECIPIENTS == 0,
              select(func.count(t.outbox.c.person_id.distinct())).where(_OF_ALERT).scalar_subquery() < _N_RECIPIENTS)
_WAITING = exists().where(_OF_ALERT, t.outbox.c.status.in_(("pending", "sending")))
_ALERT_MESSAGES = select(t.outbox.c.id, t.outbox.c.alert_id, t.outbox.c.person_id, t.outbox.c.channel, t.outbox.c.status,
                         t.outbox.c.attempts, t.outbox.c.last_error).where(
    one_of(t.outbox.c.alert_id)).order_by(t.outbox.c.id)


def alert_rows(app, actor, *, mine: bool = False, level: int | None = None, status: str | None = None,
               region: str | None = None, limit: int | None = None, lang: str = "zh",
               before: int | None = None) -> list[dict[str, Any]]:
    """Alerts in the reader's jurisdiction, newest first, with how their messages fared; every
    filter is in the query, which is read in batches and stops at `limit`; `before` (an alert's id):
    only the alerts older than it (the next page after the one that ended with it).

    status: pending (a message still waits), delivered (all delivered), failed (a message failed
    for good, or a recipient has no channel to reach them). Pending and failed also list the messages
    of no alert in that state (digests, first sign-in codes, 督办…), each by its kind, after the alerts."""
    if not actor.assignments:
        return []
    if region:
        require_reader(app, actor, region)
    q = _alert_query(actor, level, region, status, mine, limit)
    if before is not None:
        q = q.where(t.alerts.c.id < before)
    rows: list[dict[str, Any]] = []
    with app.engine.connect() as conn:
        for part in conn.execute(q.execution_options(yield_per=BATCH)).partitions():
            part = _mine_only(part, actor) if mine else part
            rows += _alert_dicts(conn, part[:limit - len(rows)] if limit else part)
            if limit and len(rows) >= limit:
                break
        if status in _OTHER_STATUS and (not limit or len(rows) < limit):
            rows += _other_messages(conn, actor, mine, status, limit - len(rows) if limit else None)
    return _errors_in(app.config, rows, lang)


def _errors_in(labels, rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The messages' stored delivery errors in the reader's language (an old plain text as it is), and
    the case's title (a sample check's problem item: 抽查 #3 错退…)."""
    for row in rows:
        if "title" in row:
            row["title"] = render_stored(labels, row["title"], lang)
        if row.get("id") is None:      # a message of no alert: what it is, and what to do if it failed
            row["what"] = render_text(labels, f"outbox.kind.{row['kind']}", {}, lang) or row["kind"]
            if row["status"] == "failed":
                row["advice"] = render_text(labels, "outbox.advice." + (
                    "new_code" if row["kind"] in SECRET_KINDS else "resend"),
                    {"person": row["recipients"][0], "message": row["outbox"]}, lang)
        for m in row["messages"]:
            m["error"] = render_stored(labels, m["error"], lang)
    return rows


# not needed: every message of it dropped, its work done before it could be sent (notifications/dispatcher.py)
_NOT_NEEDED = and_(exists().where(_OF_ALERT, t.outbox.c.status == "not_needed"),
                   ~exists().where(_OF_ALERT, t.outbox.c.status != "not_needed"))
_BY_STATUS = {"failed": (_FAILED,), "pending": (~_FAILED, _WAITING), "delivered": (~_FAILED, ~_WAITING, ~_NOT_NEEDED),
              "not_needed": (~_FAILED, ~_WAITING, _NOT_NEEDED)}


def _alert_query(actor, level: int | None, region: str | None, status: str | None, mine: bool, limit: int | None):
    q = (select(t.alerts, t.deadlines.c.owner_id, t.deadlines.c.due_on, t.deadlines.c.status.label("deadline_status"),
                t.deadlines.c.step_key, t.deadlines.c.counting, t.cases.c.title)
         .join(t.deadlines, t.deadlines.c.id == t.alerts.c.deadline_id)
         .join(t.cases, t.cases.c.id == t.alerts.c.case_id)
         .where(within([a.region_code for a in actor.assignments], t.alerts.c.region_code),
                *_BY_STATUS.get(status, ()))
         .order_by(t.alerts.c.id.desc()))
    if level is not None:
        q = q.where(t.alerts.c.level == level)
    if region:
        q = q.where(within([region], t.alerts.c.region_code))
    if mine:   # the recipients are JSON [[id, code, name], …]: the text narrows, Python confirms
        return q.where(or_(t.deadlines.c.owner_id == actor.person_id,
                           cast(t.alerts.c.recipients, Text).like(f"%[{int(actor.person_id)},%")))
    return q.limit(limit) if limit else q


def _mine_only(part: Sequence, actor) -> list:
    return [r for r in part if r.owner_id == actor.person_id or any(p[0] == actor.person_id for p in r.recipients)]


def _alert_dicts(conn: Connection, part: Sequence) -> list[dict[str, Any]]:
    if not part:
        return []
    messages: dict[int, list] = defaultdict(list)
    for m in conn.execute(_ALERT_MESSAGES, {"ids": [r.id for r in part]}):
        messages[m.alert_id].append(m)
    owner_ids = sorted({r.owner_id for r in part if r.owner_id})
    owners = {p.id: p.code for p in conn.execute(_PERSONS, {"ids": owner_ids})} if owner_ids else {}
    return [_alert_dict(r, messages.get(r.id, []), owners) for r in part]


def _alert_dict(r, msgs: list, owners: dict[int, str]) -> dict[str, Any]:
    reached = {m.person_id for m in msgs}
    unreachable = [p[1] for p in r.recipients if p[0] not in reached]
    return {
        "id": r.id, "deadline": r.deadline_id, "level": r.level, "case": r.case_id, "title": r.title,
        "rule": r.rule, "step": r.step_key, "region": r.region_code, "owner": owners.get(r.owner_id),
        "due_on": r.due_on.isoformat(), "overdue_since": aware(r.due_at).isoformat(),
        "created_at": aware(r.created_at).isoformat(), "provisional": bool(r.provisional),
        "recipients": [p[1] for p in r.recipients], "unreachable": unreachable,
        "status": _alert_state(r, msgs, unreachable), "deadline_status": r.deadline_status, "counting": r.counting,
        "messages": [_message_dict(m) for m in msgs]}


def _alert_state(r, msgs: list, unreachable: list) -> str:
    if any(m.status == "failed" for m in msgs) or unreachable or not r.recipients:
        return "failed"
    if msgs and all(m.status == "not_needed" for m in msgs):
        return "not_needed"      # its work was done before it could be sent (notifications/dispatcher.py)
    return "pending" if any(m.status in ("pending", "sending") for m in msgs) else "delivered"


def _message_dict(m) -> dict[str, Any]:
    return {"outbox": m.id, "person": m.person_id, "channel": m.channel, "status": m.status,
            "attempts": m.attempts, "error": m.last_error}


# Messages carrying a secret (a one-time enrolment code): the dispatcher replaces their body once delivered
# or given up, so no copy of the code stays in the database or its backups; one that failed for good is not
# sent again (`alerts resend`), a new code is issued instead.
SECRET_KINDS = ("enrolment",)
_OTHER_STATUS = {"failed": ("failed",), "pending": ("pending", "sending")}


def _other_messages(conn: Connection, actor, mine: bool, status: str, limit: int | None = None
                    ) -> list[dict[str, Any]]:
    """The messages of no alert (a digest, a first sign-in code, a 督办, a rejection…) that failed, or
    still wait (`status`), each named by its kind; never their text (a sign-in code's is the code)."""
    q = (select(t.outbox.c.id, t.outbox.c.kind, t.outbox.c.person_id, t.outbox.c.channel, t.outbox.c.status,
                t.outbox.c.attempts, t.outbox.c.last_error, t.outbox.c.created_at, t.persons.c.code)
         .join(t.persons, t.persons.c.id == t.outbox.c.person_id)
         .where(t.outbox.c.alert_id.is_(None), t.outbox.c.status.in_(_OTHER_STATUS[status]),
                t.outbox.c.kind != "alerts")     # a summary of alerts: each of its alerts is listed, with its outcome
         .order_by(t.outbox.c.id.desc()))
    admin_like = any(a.region_code == "000000000000" for a in actor.assignments)
    if mine or not admin_like:
        q = q.where(t.outbox.c.person_id == actor.person_id)
    if limit:
        q = q.limit(limit)
    return [{"id": None, "kind": m.kind, "outbox": m.id, "recipients": [m.code], "status": status,
             "created_at": aware(m.created_at).isoformat(), "provisional": False, "level": None,
             "resend": status == "failed" and m.kind not in SECRET_KINDS,
             "messages": [_message_dict(m)]}
            for m in conn.execute(q)]


def provisional_open(app) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.deadlines).where(
            t.deadlines.c.status == "open", t.deadlines.c.provisional.is_(True))).scalar()


def calendar_warnings(config: Config, today: date, lang: str = "zh") -> list[str]:
    """Working-day rules that reach into a year no calendar knows (their deadlines are provisional)."""
    rules = compiled(config)
    if rules is None:
        return []
    working = [n for n, r in rules.rules.items() if r.counting == "working"]
    if not working:
        return []
    reach = max(_reach(rules, rules.rules[name]) for name in working)
    # Working days are at most 5 of 7 calendar days; holidays stretch that a little more.
    horizon = today + timedelta(days=reach * 7 // 5 + 14)
    unknown = [y for y in range(today.year, horizon.year + 1) if not rules.calendar.knows(y)]
    if not unknown:
        return []
    params = {"rules": Codes("rule", tuple(working)), "years": ", ".join(map(str, unknown)),
              "last": rules.calendar.last_known_year}
    return [render_text(config, "calendar_warning.unknown_years", params, lang)]


def _reach(rules, rule) -> int:
    """How many working days after its start a rule's last ladder level can fall."""
    days = rule.days.by_level.values() if isinstance(rule.days, DaysParam) and rule.days.by_level else \
        [rule.days] if isinstance(rule.days, int) else [60]
    ladders = [rules.file.ladders[rule.ladder]] + [rules.file.ladders[n] for n in rule.ladder_by_level.values()]
    return max(days, default=0) + max((lv.after for ld in ladders for lv in ld), default=0)


def clocks_before_start(app, conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """The case's open deadlines that run before the procedure they lead to has started (a first clue —
    a risk found on a visit, a department's list — starts the 15 days to identify): {procedure, step,
    rule, start_on, due_on, overdue (days, 0 not yet), counting, owner, owner_name, owner_role}, the
    earliest due first; read by the deadlines' (case_id, status) index."""
    rules = compiled(app.config)
    leading = {n: r.started_procedure for n, r in (rules.rules.items() if rules else ()) if r.started_procedure}
    if not leading:
        return []
    d, o = t.deadlines.c, t.persons.c
    rows = conn.execute(select(d.rule, d.step_key, d.start_on, d.due_on, d.counting, d.owner_role,
                               o.code.label("owner"), o.name.label("owner_name"))
                        .outerjoin(t.persons, o.id == d.owner_id)
                        .where(d.case_id == case_id, d.status == "open", d.procedure_id.is_(None),
                               d.rule.in_(sorted(leading)))
                        .order_by(d.due_on, d.id)).all()
    today = app.clock.today()
    return [{"procedure": leading[r.rule], "step": r.step_key, "rule": r.rule, "start_on": r.start_on.isoformat(),
             "due_on": r.due_on.isoformat(), "overdue": overdue_by(app.config, r.due_on, today, r.counting),
             "counting": r.counting, "owner": r.owner, "owner_name": r.owner_name, "owner_role": r.owner_role}
            for r in rows]
