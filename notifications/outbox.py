"""Messages into the outbox, in the transaction of their cause (an alert, a day's digest).

A message is rendered when it is written (zh-CN or English, per the recipient's channel), so
what was sent is what the outbox row says. Each row's `dedupe_key` is unique: an alert's message
per recipient channel, a digest per recipient channel and day.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.reads.words import ids_masked
from engine.domain.errors import joined, noted, render_stored, translator
from engine.services.plugins import AlertMessage, PressMessage, RejectionMessage  # noqa: F401  (what enqueue_* take)

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = {"email": "txt", "file": "txt", "console": "txt", "wecom": "md", "dingtalk": "md"}
LANGS = ("zh", "en")

_ENV: list = []


def body_format(ch) -> str:
    """The format a channel's messages are written in: markdown for a group robot, except a WeCom
    robot that @-mentions someone, whose message is plain text (WeCom mentions only in text messages,
    and shows markdown there as it is typed); plain text elsewhere."""
    return format_of(ch.channel, ch.address)


def format_of(channel: str, address: str) -> str:
    """`body_format` of a channel named by its kind and address (an outbox row's)."""
    if channel == "wecom" and "/" in (address or ""):
        return "txt"
    return FORMATS.get(channel, "txt")


def _env():
    """The messages' template environment, made when a message is first rendered (a command that sends
    nothing does not load Jinja2)."""
    if not _ENV:
        import jinja2
        _ENV.append(jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                                       undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True,
                                       lstrip_blocks=True, keep_trailing_newline=False))
    return _ENV[0]


def render(name: str, lang: str, fmt: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of template `name` in format `fmt` (txt or md); its texts come from the
    catalogue through the context's `t`, bound to the recipient's language `lang`."""
    template = _env().get_template(f"{name}.{fmt}.j2")
    module = template.make_module(context)
    lines = [line.rstrip() for line in str(module).strip().splitlines()]
    # A line left empty by a condition that did not hold goes; a blank line between paragraphs stays.
    body = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    body = body.replace("\n\n\n", "\n\n")
    return " ".join(str(module.subject).split())[:300], body


# A person who left (deactivated) is reached by nothing: their channels stay on record, unused.
_CHANNELS = select(t.person_channels).join(t.persons, t.persons.c.id == t.person_channels.c.person_id).where(
    t.person_channels.c.person_id.in_(bindparam("ids", expanding=True)), t.person_channels.c.active.is_(True),
    t.persons.c.active.is_(True)).order_by(t.person_channels.c.id)
_NAMES = select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
    t.persons.c.id.in_(bindparam("ids", expanding=True)))
_REGIONS = select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(bindparam("codes", expanding=True)))


def channels_of(conn: Connection, person_ids) -> dict[int, list]:
    found: dict[int, list] = {}
    ids = sorted(set(person_ids))
    if ids:
        for c in conn.execute(_CHANNELS, {"ids": ids}):
            found.setdefault(c.person_id, []).append(c)
    return found



def _local(app, value: datetime) -> str:
    from engine.domain.deadline_rules import compiled
    return value.astimezone(compiled(app.config).tz).strftime("%Y-%m-%d %H:%M")


def days_past_due(rules, d, now: datetime) -> int:
    """How many days the office date of `now` is after the due date (negative: before), in the
    rule's own days: calendar days, or working days for a working-day rule."""
    today = now.astimezone(rules.tz).date()
    return rules.calendar.days_between(d.due_on, today, d.counting)[0]


HOLDS_SHOWN = 3      # the other conditions an owner's alert names (the rest counted, `case next` naming them all)


def holds_for_owners(app, conn: Connection, messages: Sequence[AlertMessage]):
    """holds(message, lang): what else holds the case at the step an alert tells its owner to do (an income
    too old, a check to redo: `case next`'s blockers), so that the owner does not go for a signature the
    step cannot use; [] for an alert above the owner, or about another step. Judged once a case."""
    from engine.reads.queries import holds_at_step
    from engine.services.org import load_actor
    wanted: dict[int, dict[int, Any]] = {}          # owner -> {case id: case}, as that owner would do its step
    for m in messages:
        if m.entry.get("to") == "owner" and m.deadline.owner_id and m.deadline.step_key == m.case.pending_step:
            wanted.setdefault(m.deadline.owner_id, {})[m.case.id] = m.case
    said: dict[tuple[int, int, str], list[str]] = {}
    actors: dict[int, Any] = {}

    def holds(m: AlertMessage, lang: str) -> list[str]:
        owner = m.deadline.owner_id
        if m.entry.get("to") != "owner" or m.case.id not in wanted.get(owner, {}):
            return []
        if (owner, m.case.id, lang) not in said:
            if owner not in actors:
                actors[owner] = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.id == owner)).first())
            said.update({(owner, case, lang): found for case, found in
                         holds_at_step(app, conn, actors[owner], list(wanted[owner].values()), lang).items()})
        return said.get((owner, m.case.id, lang), [])
    return holds


def _brief(text: str) -> str:
    """A hold without its advice (what follows its first bracket): a line of an alert."""
    cut = min((i for i in (text.find("（"), text.find(" (")) if i > 0), default=len(text))
    return text[:cut].rstrip("，, ")


def alert_context(app, m: AlertMessage, lang: str, now: datetime, owners: dict, regions: dict,
                  holds=None) -> dict[str, Any]:
    from engine.domain.deadline_rules import aware, compiled
    config = app.config
    L = lambda key: config.label(key, lang)  # noqa: E731
    d, case, level = m.deadline, m.case, m.entry["level"]
    due_at = aware(d.due_at)
    past = days_past_due(compiled(config), d, now)

    def who(to) -> str:
        if to == "owner":
            return L("deadline.owner")
        return "、".join(config.role_label(r, lang) for r in to) if lang == "zh" else \
            ", ".join(config.role_label(r, lang) for r in to)

    later = [e for e in d.ladder if e["level"] > level and e["level"] > 0]
    owner = owners.get(d.owner_id)
    procedure, to_start = work_of(config, d, case)
    if to_start:        # the work is to start a procedure (a risk visit's monitoring): say so, link its start
        needs = translator(config, lang)("notify.alert.needs_start", procedure=L(f"procedure.{to_start}"),
                                         step=L(f"step.{d.step_key}") if d.step_key else "-")
    else:
        needs = (f"{L('procedure.' + case.pending_procedure)} / {L('step.' + case.pending_step)}"
                 if case.pending_procedure else L("deadline.nothing_pending"))
    found_holds = holds(m, lang) if holds is not None and not to_start else []
    rules = compiled(config)
    unknown = sorted({y for y in range(d.start_on.year, d.due_on.year + 2) if not rules.calendar.knows(y)})
    return {
        "lang": lang, "t": translator(config, lang), "level": level, "level_to": who(m.entry["to"]),
        "alert_id": m.alert_id, "deadline_id": d.id,
        "rule": L(f"rule.{d.rule}"), "case": case.id, "title": render_stored(config, case.title, lang),
        "case_kind": L(f"kind.{case.kind}"),
        "region": noted(regions.get(case.region_code, case.region_code), case.region_code, lang),
        "procedure": L(f"procedure.{procedure}") if procedure else "", "step": L(f"step.{d.step_key}") if d.step_key else "",
        "subject_label": d.subject if d.type == "step" and d.subject else "",   # e.g. a milestone's name
        "due_on": d.due_on.isoformat(), "overdue_since": _local(app, due_at),
        "days_overdue": max(0, past), "days_left": max(0, -past),
        "days_unit": L(f"deadline.days.{d.counting}"), "days_unit_one": L(f"deadline.day.{d.counting}"),
        "counting": L(f"deadline.counting.{d.counting}"), "provisional": bool(d.provisional),
        "provisional_years": joined(map(str, unknown), lang),
        "owner": (noted(owner[1], owner[0], lang) + handed_said(app, d, lang, now, owners)) if owner else "",
        "needs": needs,
        # what else holds the step the owner is told to do, shortly; the rest counted
        "holds": [_brief(h) for h in found_holds[:HOLDS_SHOWN]], "holds_more": max(0, len(found_holds) - HOLDS_SHOWN),
        "next_level": later[0]["level"] if later else None,
        "next_level_on": _local(app, datetime.fromisoformat(later[0]["at"])) if later else "",
        "next_level_to": who(later[0]["to"]) if later else "",
        # its time gone by already (a backlog swept at once): the next sweep escalates it, said so
        "next_level_due": bool(later) and aware(datetime.fromisoformat(later[0]["at"])) <= aware(now),
        "case_url": case_url(case.id, to_start),
    }


def work_of(config, d, case) -> tuple[str | None, str | None]:
    """(the procedure a deadline's step belongs to, the procedure its owner is to start): a deadline
    a risk visit started (no procedure yet, its rule `starts` one: 防返贫监测识别) is about starting
    that procedure, which the case does not wait for yet."""
    from engine.domain.deadline_rules import compiled
    rule = compiled(config).rules.get(d.rule) if compiled(config) else None
    starts = rule.started_procedure if rule is not None else None
    if starts and d.procedure_id is None and case.pending_procedure != starts:
        return starts, starts
    return (case.pending_procedure if d.step_key else None), None


FOLD_OVER = 3     # more alerts than this to one person on one channel in one sweep: one summary message
# the items a summary lists one by one, the highest level first; the rest counted, with the overdue page's
# address (a county's 139 items were 900 lines, and a WeCom robot takes at most 4,096 bytes a message)
SUMMARY_SHOWN = 15


def enqueue_alerts(app, conn: Connection, messages: Sequence[AlertMessage], now: datetime,
                   channels: dict[int, list] | None = None) -> int:
    """The outbox rows of new alerts: one per recipient channel. A person this sweep alerts of more
    than FOLD_OVER items on one channel gets one summary message (kind `alerts`, each item a line:
    case, what, due, level, link) instead of one message each; each alert's own row stays, folded
    into the summary (`folded_into`), and takes its outcome when the summary is sent. Returns how
    many messages will be sent. `channels`: the recipients' channels when the caller has read them."""
    from engine.services.enrolment import GROUP_CHANNELS
    if not messages:
        return 0
    if channels is None:
        channels = channels_of(conn, [p[0] for m in messages for p in m.recipients])
    owners, regions = _owners_regions(conn, messages)
    holds = holds_for_owners(app, conn, messages)
    per_channel: dict[int, list] = {}        # channel id -> [(channel, message)]
    for m in messages:
        for pid, _code, _name in m.recipients:
            for ch in channels.get(pid, ()):
                per_channel.setdefault(ch.id, []).append((ch, m))
    rows, folded, cache = [], 0, {}
    for items in per_channel.values():
        ch = items[0][0]
        fmt = body_format(ch)
        if len(items) > FOLD_OVER:
            summary = _summary_row(app, conn, ch, [m for _, m in items], now, owners, regions)
            folded += 1
        for _, m in items:
            key = (m.alert_id, ch.lang, fmt)
            if key not in cache:
                context = alert_context(app, m, ch.lang, now, owners, regions, holds)
                if ch.channel in GROUP_CHANNELS:     # a group reads the case by number and village only
                    context["title"] = ""
                cache[key] = render("alert", ch.lang, fmt, context)
            subject, body = cache[key]
            row = _row("alert", m.alert_id, ch, subject, body, f"alert:{m.alert_id}:{ch.id}", now, m.deadline.id)
            if len(items) > FOLD_OVER:
                row["folded_into"] = summary
            rows.append(row)
    if rows:
        conn.execute(insert(t.outbox), rows)
    return sum(1 for r in rows if r.get("folded_into") is None) + folded


def handed_said(app, d, lang: str, now: datetime, people: dict) -> str:
    """After an alert's owner, when the deadline was handed to them (a leaver's, a vacant post's, a13 #4):
    on which day, from whom, and who held it when it lapsed (`people`: id -> (code, name)); "" else."""
    from engine.domain.deadline_rules import handed_to, office_zone
    found = handed_to(d.owner_id, getattr(d, "owner_changes", None), d.due_at, now)
    if found is None:
        return ""
    nobody = app.config.label("m3.late.nobody", lang)
    name = lambda i: people[i][1] if i in people else nobody  # noqa: E731
    said = app.config.label("q2.handed.lapsed" if "lapsed_under" in found else "q2.handed", lang).format(
        day=found["at"].astimezone(office_zone(app.config)).date().isoformat(), person=name(found["came_from"]),
        lapsed=name(found.get("lapsed_under")))
    return said if lang == "zh" else " " + said


def _held_before(messages: Sequence[AlertMessage]) -> set[int]:
    """Whoever held the messages' deadlines before they were handed to their owner now (`handed_said`)."""
    from engine.domain.deadline_rules import handed_to
    found = set()
    for m in messages:
        h = handed_to(m.deadline.owner_id, getattr(m.deadline, "owner_changes", None), m.deadline.due_at)
        found |= {i for i in ((h or {}).get("came_from"), (h or {}).get("lapsed_under")) if i is not None}
    return found


def _owners_regions(conn: Connection, messages: Sequence[AlertMessage]) -> tuple[dict, dict]:
    owner_ids = sorted({m.deadline.owner_id for m in messages if m.deadline.owner_id} | _held_before(messages))
    owners = {p.id: (p.code, p.name) for p in conn.execute(_NAMES, {"ids": owner_ids})} if owner_ids else {}
    codes = sorted({m.case.region_code for m in messages})
    regions = {r.code: r.name for r in conn.execute(_REGIONS, {"codes": codes})}
    return owners, regions


def render_summary(app, conn: Connection, person_id: int, channel: str, address: str, lang: str,
                   messages: Sequence[AlertMessage], now: datetime, owners: dict | None = None,
                   regions: dict | None = None) -> tuple[str, str]:
    """(subject, body) of one summary of `messages` (alerts) to a person on a channel, in `lang`: how
    many, then each item (case, what, due or days overdue, level, the case's page), soonest level first.
    A group robot (WeCom, DingTalk) reads each case by number and village, never the household's name."""
    from engine.services.enrolment import GROUP_CHANNELS
    if owners is None or regions is None:
        owners, regions = _owners_regions(conn, messages)
    name = conn.execute(select(t.persons.c.name).where(t.persons.c.id == person_id)).scalar() or ""
    items = [alert_context(app, m, lang, now, owners, regions)
             for m in sorted(messages, key=lambda m: (-m.entry["level"], m.deadline.due_on, m.case.id))]
    group = channel in GROUP_CHANNELS
    for item in items:
        if group:
            item["title"] = ""
    levels = [i["level"] for i in items]
    context = {"t": translator(app.config, lang), "name": "" if group else name, "total": len(items),
               "items": items[:SUMMARY_SHOWN], "more": max(0, len(items) - SUMMARY_SHOWN),
               "overdue": sum(1 for v in levels if v >= 0),
               "escalated": sum(1 for v in levels if v > 0), "soon": sum(1 for v in levels if v < 0),
               "at": _local(app, now), "overdue_url": overdue_url()}
    return render("alerts", lang, format_of(channel, address), context)


_ALERTS_OF = select(t.alerts.c.id, t.alerts.c.level, t.alerts.c.detail, t.alerts.c.recipients, t.alerts.c.deadline_id,
                    t.alerts.c.case_id).where(t.alerts.c.id.in_(bindparam("ids", expanding=True)))


def summary_again(app, conn: Connection, row, alert_ids: list[int], now: datetime) -> tuple[str, str]:
    """(subject, body) of summary message `row` said again with only the alerts `alert_ids` (the
    others' work was done before it was sent)."""
    from engine.services.sweep import CASES
    alerts = conn.execute(_ALERTS_OF, {"ids": alert_ids}).all()
    deadlines = {d.id: d for d in conn.execute(select(t.deadlines).where(
        t.deadlines.c.id.in_(sorted({a.deadline_id for a in alerts}))))}
    cases = {c.id: c for c in conn.execute(CASES, {"ids": sorted({a.case_id for a in alerts})})}
    messages = [AlertMessage(a.id, deadlines[a.deadline_id], {"level": a.level, **(a.detail or {})},
                             cases[a.case_id], [tuple(p) for p in a.recipients]) for a in alerts]
    return render_summary(app, conn, row.person_id, row.channel, row.address, row.lang, messages, now)


def _summary_row(app, conn: Connection, ch, messages: list, now: datetime, owners: dict, regions: dict) -> int:
    """Queue one summary of `messages` to channel `ch`; returns its outbox id."""
    subject, body = render_summary(app, conn, ch.person_id, ch.channel, ch.address, ch.lang, messages, now, owners, regions)
    key = f"alerts:{min(m.alert_id for m in messages)}:{ch.id}"
    return conn.execute(insert(t.outbox).values(_row("alerts", None, ch, subject, body, key, now))).inserted_primary_key[0]


def _row(kind: str, alert_id: int | None, ch, subject: str, body: str, key: str, now: datetime,
         deadline_id: int | None = None) -> dict[str, Any]:
    return {"alert_id": alert_id, "kind": kind, "deadline_id": deadline_id, "folded_into": None, "person_id": ch.person_id, "channel": ch.channel,
            "address": ch.address, "lang": ch.lang, "subject": subject, "body": body, "dedupe_key": key,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "claimed_by": None, "claimed_until": None,
            "created_at": now, "delivered_at": None, "last_error": None}


def enqueue_digests(app, conn: Connection, digests: list[dict], day: date, now: datetime) -> tuple[int, list[str]]:
    """A day's digest per supervisor channel; a second run the same day adds nothing. Returns how
    many were queued and the codes of supervisors no channel reaches."""
    if not digests:
        return 0, []
    config = app.config
    channels = channels_of(conn, [d["person"][0] for d in digests])
    unreachable = sorted(d["person"][1] for d in digests if not channels.get(d["person"][0]))
    owner_ids = sorted({o.owner_id for d in digests for o in d["oldest"] if o.owner_id})
    owners = {p.id: (p.code, p.name) for p in conn.execute(_NAMES, {"ids": owner_ids})} if owner_ids else {}
    keys = [f"digest:{day.isoformat()}:{ch.id}" for d in digests for ch in channels.get(d["person"][0], ())]
    if not keys:
        return 0, unreachable
    existing = {r.dedupe_key for r in conn.execute(select(t.outbox.c.dedupe_key).where(
        t.outbox.c.dedupe_key.in_(keys)))}   # (saves rendering; a digest written meanwhile is skipped below)
    head = _signed_head(app)                 # each digest carries the record's latest signed head: a witness
    from engine.services.enrolment import GROUP_CHANNELS
    villages = _place_names(conn, {o.region_code for d in digests for o in d["oldest"]})
    from engine.domain.deadline_rules import overdue_by
    late = {o.id: overdue_by(config, o.due_on, day, o.counting) for d in digests for o in d["oldest"]}
    rows = []
    for d in digests:
        pid, code, name = d["person"]
        for ch in channels.get(pid, ()):
            key = f"digest:{day.isoformat()}:{ch.id}"
            if key in existing:
                continue
            L = lambda k, lang=ch.lang: config.label(k, lang)  # noqa: E731
            context = {
                "t": translator(config, ch.lang), "day": day.isoformat(), "name": name, "code": code, "total": d["total"],
                "at": _local(app, now), "provisional": d["provisional"], "overdue_url": overdue_url(), "head": head,
                "by_rule": sorted(((L(f"rule.{r}"), n) for r, n in d["by_rule"].items()), key=lambda x: -x[1]),
                "oldest": [{"case": o.case_id, "title": villages.get(o.region_code, o.region_code)
                            if ch.channel in GROUP_CHANNELS else render_stored(config, o.title, ch.lang),
                            "rule": L(f"rule.{o.rule}"),
                            "step": L(f"step.{o.step_key}") if o.step_key else "", "due_on": o.due_on.isoformat(),
                            "days": late[o.id], "unit": L(f"deadline.{'day' if late[o.id] == 1 else 'days'}.{o.counting}"),
                            "owner": _named_owner(owners.get(o.owner_id), ch.lang),      # by name, as alerts say
                            "provisional": bool(o.provisional)} for o in d["oldest"]],
            }
            subject, body = render("digest", ch.lang, body_format(ch), context)
            rows.append(_row("digest", None, ch, subject, body, key, now))
    if not rows:
        return 0, unreachable
    if conn.dialect.name == "postgresql":   # two digests at once: the second writes nothing, and fails not
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
        stmt = dialect_insert(t.outbox).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(t.outbox.c.id)
        return len(conn.execute(stmt, rows).all()), unreachable
    conn.execute(insert(t.outbox), rows)      # SQLite: the digest holds the write lock since it began
    return len(rows), unreachable


def _named_owner(owner: tuple[str, str] | None, lang: str) -> str | None:
    if owner is None:
        return None
    code, name = owner
    return noted(name, code, lang)


def _signed_head(app) -> dict | None:
    from engine.reads.audit_seal import signed_head
    return signed_head(app)


def case_url(case_id: int, procedure: str | None = None) -> str:
    """A case's page on the server (env JINGZHUN_PUBLIC_URL, its public address); `procedure`: the page
    where that procedure is started (as `/work` links a household a visit found at risk)."""
    import os
    return os.environ.get("JINGZHUN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/") + f"/cases/{case_id}" + (
        f"?procedure={procedure}" if procedure else "")


def overdue_url() -> str:
    """The supervisor's overdue page on the server (env JINGZHUN_PUBLIC_URL, its public address)."""
    import os
    return os.environ.get("JINGZHUN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/") + "/supervise/overdue"


def retry_at(now: datetime, attempts: int) -> datetime:
    """Back off: 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h."""
    steps = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
    return now + timedelta(seconds=steps[min(attempts, len(steps)) - 1])


def enqueue_credential_notice(app, conn: Connection, person, channels: list, what: str, now: datetime) -> None:
    """Tells a person, over each of their channels, that their login was activated, their token
    renewed or their password changed (`what`), and what to do if it was not them: whoever spent a
    code meant for them is found out by the person themselves."""
    rows = []
    for ch in channels:
        context = {"t": translator(app.config, ch.lang), "name": person.name, "code": person.code, "what": what,
                   "at": _local(app, now)}
        subject, body = render("credential", ch.lang, body_format(ch), context)
        rows.append(_row("credential", None, ch, subject, body, f"credential:{now.isoformat()}:{what}:{ch.id}", now))
    if rows:
        conn.execute(insert(t.outbox), rows)


def enqueue_enrolment(app, conn: Connection, person, channels: list, code: str, expires: datetime,
                      now: datetime) -> None:
    """A person's one-time enrolment code, to each of their channels (never a group robot's). The
    database keeps its SHA-256; the message's text holds it only until it is delivered or given up
    (the dispatcher replaces it: SECRET_KINDS, engine/reads/deadlines.py)."""
    rows = []
    for ch in channels:
        context = {"t": translator(app.config, ch.lang), "name": person.name, "code": person.code,
                   "enrolment_code": code, "expires": _local(app, expires)}
        subject, body = render("enrolment", ch.lang, body_format(ch), context)
        rows.append(_row("enrolment", None, ch, subject, body, f"enrolment:{now.isoformat()}:{ch.id}", now))
    conn.execute(insert(t.outbox), rows)


def enqueue_press(app, conn: Connection, m: PressMessage, channels: list, now: datetime) -> int:
    """A supervisor's press (督办) to each channel of the deadline's owner: who presses, the case (its
    household's name and village, never an ID number), the step and rule, the due date and days
    overdue, the note, and the case's page. Returns how many messages were queued."""
    from engine.services.enrolment import GROUP_CHANNELS
    config, d, case = app.config, m.deadline, m.case
    rows, cache = [], {}
    for ch in channels:
        fmt = body_format(ch)
        if (ch.lang, fmt, ch.channel in GROUP_CHANNELS) not in cache:
            L = lambda key, lang=ch.lang: config.label(key, lang)  # noqa: E731
            procedure, to_start = work_of(config, d, case)
            context = {
                "t": translator(config, ch.lang), "presser": m.presser[2], "presser_code": m.presser[1],
                "presser_post": config.role_label(m.role, ch.lang), "owner": m.owner[2],
                "case": case.id, "title": render_stored(config, case.title, ch.lang),
                "case_kind": L(f"kind.{case.kind}"),
                "place": _place(conn, case.region_code, ch.lang),
                "rule": L(f"rule.{d.rule}"), "procedure": L(f"procedure.{procedure}") if procedure else "",
                "step": L(f"step.{d.step_key}") if d.step_key else "",
                "subject_label": d.subject if d.type == "step" and d.subject else "",
                "due_on": d.due_on.isoformat(), "days_overdue": m.days_overdue,
                "days_unit": L(f"deadline.days.{d.counting}"), "days_unit_one": L(f"deadline.day.{d.counting}"),
                "note": m.note or "", "at": _local(app, now), "case_url": case_url(case.id, to_start), "deadline_id": d.id,
            }
            if ch.channel in GROUP_CHANNELS:     # a group reads the case by number and village only
                context["title"] = ""
            cache[(ch.lang, fmt, ch.channel in GROUP_CHANNELS)] = render("press", ch.lang, fmt, context)
        subject, body = cache[(ch.lang, fmt, ch.channel in GROUP_CHANNELS)]
        rows.append(_row("press", None, ch, subject, body, f"press:{m.event}:{ch.id}", now, d.id))
    if rows:
        conn.execute(insert(t.outbox), rows)
    return len(rows)


HANDOVER_WHY = ("person_deactivated", "role_revoked", "role_granted", "press")


def enqueue_handover(app, conn: Connection, m, channels: list, now: datetime) -> int:
    """Work handed to a new owner (a HandoverMessage), on each of their channels in its language: the
    work (rule, step), the case (its household's name and village, never an ID number), when it was
    due and since when it is overdue (the deadline's own days), whom it came from and why, the case's
    page. Returns how many messages were queued."""
    from engine.domain.deadline_rules import aware
    config, d, case = app.config, m.deadline, m.case
    rows, cache = [], {}
    for ch in channels:
        fmt = FORMATS.get(ch.channel, "txt")
        if (ch.lang, fmt) not in cache:
            L = lambda key, lang=ch.lang: config.label(key, lang)  # noqa: E731
            procedure = case.pending_procedure if d.step_key else None
            context = {
                "t": translator(config, ch.lang), "owner": m.owner[2], "case": case.id,
                "title": render_stored(config, case.title, ch.lang), "case_kind": L(f"kind.{case.kind}"),
                "place": _place(conn, case.region_code, ch.lang), "rule": L(f"rule.{d.rule}"),
                "procedure": L(f"procedure.{procedure}") if procedure else "",
                "step": L(f"step.{d.step_key}") if d.step_key else "",
                "came_from": f"{m.came_from[1]}（{m.came_from[0]}）" if m.came_from and ch.lang == "zh"
                else f"{m.came_from[1]} ({m.came_from[0]})" if m.came_from else "",
                "why": L(f"h2.handover.why.{m.why if m.why in HANDOVER_WHY else 'press'}"),
                "due_on": d.due_on.isoformat(), "days_overdue": m.days_overdue,
                "overdue_since": _local(app, aware(d.due_at)),
                "days_unit": L(f"deadline.days.{d.counting}"), "days_unit_one": L(f"deadline.day.{d.counting}"),
                "at": _local(app, now), "case_url": case_url(case.id), "deadline_id": d.id,
            }
            cache[(ch.lang, fmt)] = render("handover", ch.lang, fmt, context)
        subject, body = cache[(ch.lang, fmt)]
        rows.append(_row("handover", None, ch, subject, body, f"handover:{d.id}:{m.owner[0]}:{now.isoformat()}:{ch.id}",
                         now))
    if rows:
        conn.execute(insert(t.outbox), rows)
    return len(rows)


def _place(conn: Connection, village: str, lang: str) -> str:
    """A village as people say it: its township's and its own names (梅江镇洋塘村)."""
    return _said_place(_place_names(conn, [village]), village, lang)


def _place_names(conn: Connection, villages) -> dict[str, str]:
    """The names of the villages and of their townships, in one read."""
    codes = sorted({code for village in villages for code in (village, village[:9] + "000")})
    return {r.code: r.name for r in conn.execute(_REGIONS, {"codes": codes})}


def _said_place(names: dict[str, str], village: str, lang: str) -> str:
    township = village[:9] + "000"
    return ("" if lang == "zh" else " ").join(names[c] for c in dict.fromkeys((township, village)) if c in names) \
        or village


def enqueue_pairing(app, conn: Connection, m, channels: list, now: datetime) -> int:
    """A cadre paired with a household, on each of the cadre's channels: the household (its head's
    name and village, never an ID number), the slot, who paired them and since when, the case's page."""
    config, case, rows = app.config, m.case, []
    for ch in channels:
        context = {"t": translator(config, ch.lang), "case": case.id, "title": case.title,
                   "case_kind": config.label(f"kind.{case.kind}", ch.lang), "place": _place(conn, case.region_code, ch.lang),
                   "slot": config.label(f"cli.pairing_kind.{m.slot}", ch.lang), "by": m.by, "day": str(m.day),
                   "case_url": case_url(case.id),
                   "procedure": config.label(f"procedure.{m.reopened}", ch.lang) if m.reopened else "",
                   "other": getattr(m, "other", None)}
        # paired with it, no longer, or back under assistance (a new plan due)
        said = "reopened" if m.reopened else "unpairing" if m.ended else "pairing"
        subject, body = render(said, ch.lang, body_format(ch), context)
        rows.append(_row(said, None, ch, subject, body,
                         f"{said}:{case.id}:{m.cadre}:{m.slot}:{m.day}:{m.procedure}:{ch.id}", now))
    if rows:
        conn.execute(insert(t.outbox), rows)
    return len(rows)


def enqueue_objection(app, conn: Connection, m, channels: list, now: datetime) -> int:
    """An objection raised during a notice, to each channel of those who may resolve it: the case
    (its household's name and village, never an ID number), the notice, who recorded it, and what it
    says; a group robot (WeCom, DingTalk) is told that there is one, not what it says. Returns how
    many messages were queued."""
    from engine.services.enrolment import GROUP_CHANNELS
    config, case = app.config, m.case
    rows = []
    for ch in channels:
        said = ch.channel not in GROUP_CHANNELS
        context = {"t": translator(config, ch.lang), "case": case.id, "title": case.title,
                   "case_kind": config.label(f"kind.{case.kind}", ch.lang),
                   "place": _place(conn, case.region_code, ch.lang), "notice": m.notice,
                   "objection": m.objection, "recorder": m.recorder[2], "objector": m.objector if said else "",
                   "content": m.content if said else "", "at": _local(app, now), "case_url": case_url(case.id)}
        subject, body = render("objection", ch.lang, body_format(ch), context)
        rows.append(_row("objection", None, ch, subject, body, f"objection:{m.objection}:{ch.id}", now))
    if rows:
        conn.execute(insert(t.outbox), rows)
    return len(rows)


GENERIC_ADVICE = "notify.rejection.todo"     # a procedure with no advice of its own (a village's, a project's)


def enqueue_rejection(app, conn: Connection, messages: Sequence[RejectionMessage], channels: dict[int, list],
                      now: datetime) -> int:
    """A procedure ended rejected by a step, to each channel of each recipient of its message: the case
    (its household's name and village, never an ID number), the procedure and the step that rejected
    it, who rejected it (name and post), the reason, the date and the case's page; a group robot
    (WeCom, DingTalk) is told that it was rejected, not why. The villages of a list step's cases are
    read once. Returns how many messages were queued."""
    from engine.services.enrolment import GROUP_CHANNELS
    config = app.config
    names = _place_names(conn, [m.case.region_code for m in messages]) if messages else {}
    rows = []
    for m in messages:
        case, cache = m.case, {}
        # what to do next, as the procedure rejected asks (an exit: make good what fell short…)
        advice = f"notify.rejection.todo.{m.procedure}"
        advice = advice if advice in config.labels else GENERIC_ADVICE
        for pid in m.recipients:
            for ch in channels.get(pid, ()):
                said, fmt = ch.channel not in GROUP_CHANNELS, body_format(ch)
                if (ch.lang, fmt, said) not in cache:
                    L = lambda key, lang=ch.lang: config.label(key, lang)  # noqa: E731
                    context = {
                        "t": translator(config, ch.lang), "case": case.id,
                        "title": render_stored(config, case.title, ch.lang),
                        "case_kind": L(f"kind.{case.kind}"), "place": _said_place(names, case.region_code, ch.lang),
                        "procedure": L(f"procedure.{m.procedure}"), "step": L(f"step.{m.step}"),
                        "rejecter": m.rejecter[2], "post": config.role_label(m.role, ch.lang), "day": str(m.day),
                        "reason": ids_masked(render_stored(config, m.reason, ch.lang) or "") if said else "", "said": said,
                        "procedure_id": m.procedure_id, "case_url": case_url(case.id), "todo": L(advice) if advice == GENERIC_ADVICE else L("notify.rejection.you") + L(advice)}
                    cache[(ch.lang, fmt, said)] = render("rejection", ch.lang, fmt, context)
                subject, body = cache[(ch.lang, fmt, said)]
                rows.append(_row("rejection", None, ch, subject, body, f"rejection:{m.procedure_id}:{ch.id}", now))
    if rows:
        conn.execute(insert(t.outbox), rows)
    return len(rows)


def enqueue_fork(app, conn: Connection, refused, channels: list, now: datetime) -> int:
    """The nightly seal refused for a forked witness (`refused`: audit.seal_witness_ahead), to each
    administrator's channel, once per fork: a message already queued for that witness's head on that
    channel is not queued again the next night. What happened and what to do, as `jingzhun audit seal`
    says it; a group robot (WeCom, DingTalk) is told that the seal was refused, not where the witness
    is. Returns how many messages were queued."""
    import hashlib
    name = "seal" if refused.code == "audit.seal_damaged" else "fork"      # a broken chain: once per damage
    fork = refused.params.get("fingerprint") if name == "seal" else \
        hashlib.sha256(f"{refused.params.get('witness')}\n{refused.params.get('seq')}".encode()).hexdigest()[:24]
    return _to_each_once(app, conn, channels, f"{name}:{fork}", name, name, now,
                         lambda ch, said: {"problem": refused.render(app.config, ch.lang) if said else ""})


def enqueue_backup_failed(app, conn: Connection, folder: str, problem: dict, channels: list, now: datetime) -> int:
    """A backup kept by number (the server's nightly one, `backup --keep`) failed: to each administrator's
    channel, once per folder it was to write, with why and what to do; a group robot (WeCom, DingTalk) is
    told that it failed, not where or why. Returns how many messages were queued."""
    from engine.domain.errors import render_text
    return _to_each_once(app, conn, channels, f"backup:{folder[-120:]}", "backup", "backup_failed", now,
                         lambda ch, said: {"folder": folder if said else "", "problem": render_text(
                             app.config, problem["key"], problem.get("params") or {}, ch.lang) if said else ""})


def _to_each_once(app, conn: Connection, channels: list, key: str, kind: str, template: str, now: datetime,
                  context_of) -> int:
    """The message `template` of `kind` to each channel, once per `key`: one queued on that channel under
    the key already is not queued again. `context_of(channel, said)` gives what the template says beyond
    when; `said` is False for a group robot (WeCom, DingTalk), told what happened, not where or why.
    Returns how many messages were queued."""
    from engine.services.enrolment import GROUP_CHANNELS
    keys = {ch.id: f"{key}:{ch.id}" for ch in channels}
    told = {r.dedupe_key for r in conn.execute(select(t.outbox.c.dedupe_key).where(
        t.outbox.c.dedupe_key.in_(list(keys.values()))))}
    rows = []
    for ch in channels:
        if keys[ch.id] in told:
            continue
        context = {"t": translator(app.config, ch.lang), "at": _local(app, now),
                   **context_of(ch, ch.channel not in GROUP_CHANNELS)}
        subject, body = render(template, ch.lang, body_format(ch), context)
        rows.append(_row(kind, None, ch, subject, body, keys[ch.id], now))
    if rows:
        conn.execute(insert(t.outbox), rows)
    return len(rows)
