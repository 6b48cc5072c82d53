"""What an inspector's pages read besides a trace: the audit log's seals and tip, the audit events
behind a flag, the problem items and the accountability outcomes, each within the reader's
jurisdiction (rows outside it are left out, as if they did not exist)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, case, exists, false, func, null, or_, select, true

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import aware
from engine.domain.errors import BadInput, Codes, NotFound, render_known, render_stored
from engine.domain.inputs import codes_with_prefix, to_code
from engine.domain.members import member_changes
from engine.domain.regions import ancestors_of, covers, prefix
from engine.reads.case_lists import region_names_in
from engine.reads.words import event_lines
from engine.services.org import require_inspector

EVENTS_LIMIT = 200        # events shown for one flag at most
ACTIVITY_PAGE = 50        # activity log entries a page
CHECKPOINTS_LIMIT = 50    # the latest seals shown


def iso(value) -> str | None:
    """A date as it is; a time in UTC with its offset (SQLite hands stored times back without one)."""
    if isinstance(value, datetime):
        value = aware(value)
    return value.isoformat() if value is not None else None


def within(actor: Actor, column):
    """A condition: `column` (a region code) lies in one of the actor's jurisdictions."""
    prefixes = sorted({prefix(a.region_code) for a in actor.assignments})
    if "" in prefixes:
        return true()
    if not prefixes:
        return false()
    return or_(*(and_(column >= p, column < p[:-1] + chr(ord(p[-1]) + 1)) for p in prefixes))


FOUND_MAX = 50     # names found by a search: a page of them, the search made narrower past that


def id_number(text: str) -> str | None:
    """`text` as an ID number, read as the find box reads one (18 characters, the last a digit or X, or an
    old number of 15 digits; spaces and full-width digits as typed), or None when it is not one."""
    from engine.domain.errors import BadInput
    from engine.reads.find import read_query
    try:
        by, value = read_query(text)
    except BadInput:
        return None
    return value if by == "id_number" else None


def persons_named(app: App, actor: Actor, name: str, limit: int = FOUND_MAX) -> list[dict[str, Any]]:
    """People who hold or held a post in the reader's jurisdiction whose name holds `name` anywhere (a
    name may carry a title before it: 扶贫办主任 黄海军), or whose code is it, in any case, with those
    posts; those whose name begins with it first; at most `limit` (and one more)."""
    name = name.strip()
    if not name:
        return []
    p, ra = t.persons.c, t.role_assignments.c
    with app.engine.connect() as conn:
        people = conn.execute(select(p.id, p.code, p.name).where(
            or_(p.name.contains(name, autoescape=True), func.lower(p.code) == name.lower()),
            exists().where(ra.person_id == p.id, within(actor, ra.region_code)))
            .order_by(case((p.name.startswith(name, autoescape=True), 0), else_=1), p.name, p.code)
            .limit(limit + 1)).all()
        posts: dict[int, list] = {}
        for r in conn.execute(select(ra.person_id, ra.role, ra.region_code).where(
                ra.person_id.in_([x.id for x in people]), ra.revoked_at.is_(None)).order_by(ra.id)) if people else ():
            posts.setdefault(r.person_id, []).append((r.role, r.region_code))
    return [{"code": x.code, "name": x.name, "posts": posts.get(x.id, [])} for x in people]


def readable(actor: Actor, region: str | None) -> bool:
    return bool(region) and any(covers(a.region_code, region) for a in actor.assignments)


# --- the audit log: its tip and its seals --------------------------------------------------------

def log_tip(app: App) -> dict[str, Any] | None:
    """The newest event of the whole log (its seq and hash), and how many there are."""
    with app.engine.connect() as conn:
        last = conn.execute(select(t.audit_events.c.seq, t.audit_events.c.hash, t.audit_events.c.at)
                            .order_by(t.audit_events.c.seq.desc()).limit(1)).first()
        count = conn.execute(select(func.count()).select_from(t.audit_events)).scalar()
    return {"seq": last.seq, "hash": last.hash, "at": iso(last.at), "events": count} if last else None


def checkpoints(app: App, limit: int = CHECKPOINTS_LIMIT) -> list[dict[str, Any]]:
    """The latest seals, newest first, with who sealed them (code and name)."""
    cp = t.audit_checkpoints
    with app.engine.connect() as conn:
        rows = conn.execute(select(cp, t.persons.c.name.label("sealer_name"))
                            .join(t.persons, t.persons.c.code == cp.c.sealed_by, isouter=True)
                            .order_by(cp.c.upto_seq.desc()).limit(limit)).all()
    return [{"upto_seq": r.upto_seq, "events": r.events, "hash": r.hash, "prev_hash": r.prev_hash,
             "sealed_at": iso(r.sealed_at), "sealed_by": r.sealed_by, "sealer_name": r.sealer_name} for r in rows]


# --- the events behind a flag --------------------------------------------------------------------

def events(app: App, actor: Actor, seqs: Iterable[int], limit: int = EVENTS_LIMIT,
           lang: str = "zh") -> list[dict[str, Any]]:
    """The audit events with these seqs that lie in the reader's jurisdiction, in log order, each act on
    a case but a step with what it changed in words (`lines`, as the case trace says it: an item
    replaced old → new, evidence added and its values, a member's changes; a step's are its evidence)."""
    wanted = sorted({int(s) for s in seqs})[:limit]
    if not wanted:
        return []
    ae = t.audit_events
    with app.engine.connect() as conn:
        rows = conn.execute(select(ae, t.cases.c.title, t.cases.c.kind.label("case_kind"))
                            .join(t.cases, t.cases.c.id == ae.c.case_id, isouter=True)
                            .where(ae.c.seq.in_(wanted), within(actor, ae.c.region_code))
                            .order_by(ae.c.seq)).all()
        acts = [r for r in rows if r.case_id is not None and r.action != "step"]
        said = dict(zip((r.seq for r in acts), event_lines(conn, app.config, acts, lang)))
    return [{**_event(r), "title": render_stored(app.config, r.title, lang), "case_kind": r.case_kind,
             "lines": said.get(r.seq, [])} for r in rows]


def batch_seqs(app: App, actor: Actor, batch: str, seq: int) -> list[int]:
    """The step events of a village's list done as one act, `batch` as the event `seq` records it: the
    events of that person at that moment carrying that batch id, within the batch's size of `seq` on
    the log's key (never the whole log). None found if `seq` is no such event in the reader's
    jurisdiction."""
    ae = t.audit_events
    with app.engine.connect() as conn:
        seen = _batch_event(conn, actor, batch, seq)
        if seen is None:
            return []
        # a list's events are written together in one transaction: within `size` of this one on either
        # side (the log's own key), not among all the person's events (a county signer's are many)
        near = [ae.c.seq.between(seq - seen.size, seq + seen.size)] if seen.size else []
        return list(conn.execute(select(ae.c.seq).where(
            *near, ae.c.person_id == seen.person_id, ae.c.at == seen.at, ae.c.action == "step",
            ae.c.detail["batch"].as_string() == batch).order_by(ae.c.seq)).scalars())


def _batch_event(conn, actor: Actor, batch: str, seq: int):
    """(person_id, at, size) of the step event `seq` of the list `batch`, None if it is no such event in
    the reader's jurisdiction."""
    ae = t.audit_events
    return conn.execute(select(ae.c.person_id, ae.c.at, ae.c.detail["batch_size"].as_integer().label("size")).where(
        ae.c.seq == seq, ae.c.detail["batch"].as_string() == batch, within(actor, ae.c.region_code))).first()


def batch_refused(app: App, actor: Actor, batch: str, seq: int, lang: str = "zh") -> dict[str, Any] | None:
    """What the village's list `batch` (as the event `seq` records it, as `batch_seqs` reads it) refused:
    its `list_refused` event's counts and each case it refused as given, with its rules in words (a rule
    recorded by its code: its text with the case and step, the rest of what it said left out) and
    codes; None when it refused none, or its event is not in the reader's activity log."""
    ae = t.audit_events
    with app.engine.connect() as conn:
        seen = _batch_event(conn, actor, batch, seq)
        if seen is None:
            return None
        # written right after the list's step events, in their transaction: within twice its size of any
        # of them on the log's key (room for another writer's events in between), never the whole log
        row = conn.execute(select(ae.c.seq, ae.c.region_code, ae.c.detail).where(
            ae.c.seq.between(seq, seq + 2 * (seen.size or 1)), *_organisation_events(actor),
            ae.c.action == "list_refused", ae.c.person_id == seen.person_id, ae.c.at == seen.at,
            ae.c.detail["batch"].as_string() == batch)).first()
    if row is None:
        return None
    detail = row.detail
    cases = [{"case": c.get("case"), "rules": _rules_said(app, detail, c, lang)} for c in detail.get("cases") or ()]
    return {"seq": row.seq, "region": row.region_code, "procedure": detail.get("procedure"), "step": detail.get("step"),
            "done": detail.get("done"), "refused": detail.get("refused"), "cases": cases}


def _rules_said(app: App, detail: dict, refused: dict, lang: str) -> list[tuple[str, str]]:
    """(code, words) of each rule a list recorded a case refused by: its text with the case, the step and
    a policy check's failed conditions, the rest of what it said (figures, names) as …"""
    labels = app.config
    failed = "; ".join(render_known(labels, f"fail.{f}", {}, lang) or f for f in refused.get("failures") or ())
    known = {"case": refused.get("case"), "step": detail.get("step"), "procedure": detail.get("procedure"),
             "details": failed}
    # case.unknown is how the act recorded a case its person could not see (none such, or outside their
    # reach): said so to the inspector, who may well see that case
    return [(code, render_known(labels, "list_refused.unknown" if code == "case.unknown" else f"msg.{code}", known, lang)
             or code) for code in refused.get("rules") or ()]


def _event(r) -> dict[str, Any]:
    return {"seq": r.seq, "case_id": r.case_id, "case_seq": r.case_seq, "title": r.title, "at": iso(r.at),
            "person": r.person_code, "person_name": r.person_name, "role": r.role, "region": r.region_code,
            "action": r.action, "step": r.step_key, "decision": r.decision, "reason": r.reason,
            "from_stage": r.from_stage, "to_stage": r.to_stage, "policy_version": r.policy_version,
            "evidence": [e.get("hash") for e in (r.evidence_hashes or []) if isinstance(e, dict)],
            "hash": r.hash, "prev_hash": r.prev_hash, "changes": member_changes(r.action, r.detail)}


# --- the activity log: what was done outside any case ---------------------------------------------

# Who the installation itself acts as, no person: `init` keeping the record's key (engine.services.setup's
# KEYKEEPER) and the scheduler's jobs (engine.reads.audit_seal's SCHEDULER): said as 系统, read by their code.
SYSTEM_CODES = ("system", "scheduler")

# What an entry shows of its event's detail, in this order: scalars as they are, a list joined. Hashes
# of secrets (a token's, a password's) and whole documents are left out.
ACTIVITY_KEYS = ("table", "draw", "period", "as_of", "status", "format", "regions", "filter", "file", "sha256", "type", "mode", "items", "files",
                 "households", "members", "stages", "case_range",
                 "skipped_households", "removed_households", "rejected_applying", "unchanged_households",
                 "ids_confirmed_in_file", "ids_own_county", "persons", "regions_added", "count", "codes", "first", "last",
                 "person", "granted_role", "revoked_role", "roles", "posts", "findings",
                 "notice", "deadline", "case", "rule", "procedure", "step", "done", "refused", "batch", "owner", "note", "reason",
                 "delivery", "draw_id", "key_id", "folder", "head",
                 "keep", "removed", "not_removed")


def activity(app: App, actor: Actor, *, action: str | None = None, person: str | None = None,
             before: int | None = None, limit: int = ACTIVITY_PAGE) -> dict[str, Any]:
    """The organisation's events within the reader's jurisdiction, newest first: imports, exports,
    people and posts, tokens and passwords, configuration, samples, accountability. `before`: only
    entries older than this place in the organisation's chain (the page before's `older`). For those
    who read as inspectors; anybody else is refused."""
    require_inspector(app, actor)
    ae = t.audit_events
    mine = _organisation_events(actor)
    where = list(mine)
    with app.engine.connect() as conn:
        actions = _kinds(conn, mine)
        if action:       # by its code or its label as the log shows it; one never recorded here is said so
            where.append(ae.c.action == _known_action(app, action, actions))
        if person:
            if person not in SYSTEM_CODES and \
                    conn.execute(select(t.persons.c.id).where(t.persons.c.code == person)).first() is None:
                raise NotFound("person.unknown", code=person)
            where.append(ae.c.person_code == person)
        if before is not None:
            where.append(ae.c.case_seq < before)
        rows = conn.execute(select(ae, null().label("title")).where(*where).order_by(ae.c.case_seq.desc())
                            .limit(limit + 1)).all()
        names = region_names_in(conn, [r.region_code for r in rows])
    shown = rows[:limit]
    return {"events": [{**_event(r), "region_name": names.get(r.region_code),
                        "detail": _shown_detail(r.detail, r.reason),
                        "system": r.role is None and r.person_code in SYSTEM_CODES} for r in shown],
            "older": shown[-1].case_seq if len(rows) > limit else None, "actions": actions}


def activity_kinds(app: App, actor: Actor) -> list[str]:
    """The kinds of entry (action codes) in the reader's activity log: what its filter offers."""
    require_inspector(app, actor)
    with app.engine.connect() as conn:
        return _kinds(conn, _organisation_events(actor))


# Kinds of entry done over the whole of the region they are filed at, its cases read or written: an
# import (the region covering the villages or cases it wrote), an export (the regions taken out, or the
# region covering them), a sample, a village's list's refused cases (the region covering its cases).
OVER_A_REGION = ("households_imported", "pairings_imported", "evidence_imported", "exported", "sample_drawn", "list_refused",
                 "seal_refused")


def _organisation_events(actor: Actor) -> tuple:
    """The conditions of the reader's organisation events (no case): within their jurisdiction, and
    those of OVER_A_REGION filed at a region above it (the city's import or export of every county's
    households is in each county's log: it covered theirs)."""
    ae = t.audit_events
    above = sorted({a for post in actor.assignments for a in ancestors_of(post.region_code)[1:]})
    over = and_(ae.c.action.in_(OVER_A_REGION), ae.c.region_code.in_(above)) if above else false()
    return ae.c.case_id.is_(None), or_(within(actor, ae.c.region_code), over)


def _kinds(conn, mine) -> list[str]:
    ae = t.audit_events
    return list(conn.execute(select(ae.c.action).distinct().where(*mine).order_by(ae.c.action)).scalars())


def _known_action(app: App, given: str, actions: list[str]) -> str:
    """The action code a filter names: a kind of event (recorded here yet or not), by its code or its
    label in either language (导出数据, Data exported). A name of no kind is refused, listing those here."""
    kinds = codes_with_prefix(app.config.labels, "event")
    code = to_code(given, kinds)
    if code in actions or code in kinds:
        return code
    raise BadInput("activity.unknown_action", action=given, known=Codes("event", tuple(actions)))


def _shown_detail(detail: dict | None, reason: str | None = None) -> list[tuple[str, Any]]:
    """(key, value) of the detail's keys shown: text, but a post's roles (and the posts a leaver's
    deactivation ended) as [role, region] pairs and an import's households by the stage they start in
    as [stage, count] pairs (each reader labels a role and a stage in their language). `reason`: the
    event's own reason (a deactivation's, a post revoked's: what the person typed), shown as the
    detail's "reason" when the detail carries none."""
    shown: list[tuple[str, Any]] = []
    for key in ACTIVITY_KEYS:
        value = (detail or {}).get(key)
        if key == "reason" and value is None:
            value = reason or None
        if key == "filter" and isinstance(value, dict):
            shown.extend(_filter_shown(value, (detail or {}).get("regions")))
            continue
        if key == "case_range":         # the cases a registry's import created (their numbers: 案件 2005–2034)
            first, last = (detail or {}).get("first_case"), (detail or {}).get("last_case")
            if isinstance(first, int) and isinstance(last, int):
                shown.append((key, str(first) if first == last else f"{first}–{last}"))
            continue
        if key == "stages" and isinstance(value, dict) and value:
            shown.append((key, [[str(stage), str(count)] for stage, count in sorted(value.items())]))
            continue
        if value is None or value == [] or isinstance(value, dict):
            continue
        if key in ("roles", "posts") and isinstance(value, list) and all(isinstance(v, list) and len(v) == 2 for v in value):
            shown.append((key, [[str(role), str(region)] for role, region in value[:20]]))
            continue
        if isinstance(value, list):
            value = ", ".join("/".join(map(str, v)) if isinstance(v, list) else str(v) for v in value[:20]) + \
                ("…" if len(value) > 20 else "")
        shown.append((key, str(value)))
    return shown


# An overdue export's filter (engine.reads.dashboard.OverdueFilter) as the log shows it: its township,
# the owner's post, the owner, the rule and the escalation rung reached, each under a key of its own.
_FILTER_KEYS = {"township": "township", "unit": "owner_role", "person": "owner", "rule": "rule", "rung": "rung"}


def _filter_shown(narrowed: dict, regions: Any) -> list[tuple[str, Any]]:
    """The filter an export was narrowed by, as (key, text) pairs; its township left out where it is
    the export's whole scope already (范围)."""
    return [(shown, str(narrowed[key])) for key, shown in _FILTER_KEYS.items() if narrowed.get(key) is not None
            and not (key == "township" and regions == [narrowed[key]])]


# --- problem items and accountability outcomes ---------------------------------------------------

def problems(app: App, actor: Actor) -> list[dict[str, Any]]:
    """Every problem item in the reader's jurisdiction, newest first, with the cases it names."""
    c = t.cases
    with app.engine.connect() as conn:
        rows = conn.execute(select(c.c.id, c.c.title, c.c.region_code, c.c.stage, c.c.attrs)
                            .where(c.c.kind == "problem", within(actor, c.c.region_code))
                            .order_by(c.c.id.desc())).all()
        links = _links(conn, [r.id for r in rows])
        referred = _referred(conn, [r.id for r in rows])
        names = region_names_in(conn, [r.region_code for r in rows])
    return [{"id": r.id, "title": r.title, "region": r.region_code, "region_name": names.get(r.region_code),
             "stage": r.stage, "attrs": r.attrs or {}, "cases": links.get(r.id, []),
             "referred": referred.get(r.id, [])} for r in rows]


def _links(conn, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    pl = t.problem_links
    for r in conn.execute(select(pl.c.problem_id, pl.c.case_id, pl.c.finding, t.cases.c.title, t.cases.c.kind,
                                 t.cases.c.stage)
                          .join(t.cases, t.cases.c.id == pl.c.case_id).where(pl.c.problem_id.in_(ids))
                          .order_by(pl.c.problem_id, pl.c.case_id)):
        found.setdefault(r.problem_id, []).append({"case_id": r.case_id, "title": r.title, "kind": r.kind,
                                                   "stage": r.stage, "finding": r.finding})
    return found


def _referred(conn, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    dr = t.discipline_referrals
    for r in conn.execute(select(dr).where(dr.c.problem_id.in_(ids)).order_by(dr.c.id)) if ids else ():
        found.setdefault(r.problem_id, []).append({"reason": r.reason, "referred_at": iso(r.referred_at)})
    return found


def outcomes(app: App, actor: Actor) -> list[dict[str, Any]]:
    """Accountability outcomes in the reader's jurisdiction, newest decision first; one not carried out
    past its due date says by how many days (`overdue_days`)."""
    ao, person = t.accountability_outcomes, t.persons.alias("person")
    with app.engine.connect() as conn:
        rows = conn.execute(select(ao, person.c.code.label("person_code"), t.cases.c.title.label("problem_title"))
                            .join(person, person.c.id == ao.c.person_id, isouter=True)
                            .join(t.cases, t.cases.c.id == ao.c.problem_id, isouter=True)
                            .where(within(actor, ao.c.region_code))
                            .order_by(ao.c.decided_on.desc(), ao.c.id.desc())).all()
        names = region_names_in(conn, [r.region_code for r in rows])
    today = app.clock.today()
    return [{"id": r.id, "outcome": r.outcome, "person": r.person_code, "person_name": r.person_name,
             "organisation": r.organisation, "region": r.region_code, "region_name": names.get(r.region_code),
             "problem_id": r.problem_id, "problem_title": r.problem_title, "reason": r.reason,
             "decided_on": iso(r.decided_on), "due_on": iso(r.due_on), "done_on": iso(r.done_on),
             "overdue_days": (today - r.due_on).days if r.due_on and not r.done_on and r.due_on < today else None}
            for r in rows]


# --- names of regions ----------------------------------------------------------------------------

def region_codes_of(app: App, actor: Actor, values: Iterable[str | None], levels: Sequence[str] = ()
                    ) -> dict[str | None, str | BadInput]:
    """Each of `values`, a region given as its 12-digit code (as it is: the command checks it) or by
    its name, as a cadre types it (梅江镇), the names of the regions above it written before it if
    the writer likes (宁都县梅江镇, 梅江镇洋塘村), or as a form's suggestion shows it, its name and code
    (洋塘村 (360730100201)): the one region of that name (at one of `levels`, if given) in the
    reader's jurisdiction, all looked up at once (a people's file names its regions on a few hundred
    rows). value -> its code, or why it names no one region, for the caller to raise or to tell on
    its row: a name none has (or a name and a code that are not one region's), or several have (two
    villages called 新村, named with their codes to choose from). An empty value is left out."""
    from engine.reads.case_lists import within
    given = {v: " ".join((v or "").split()) for v in values}
    wanted = {g: _name_and_code(g) for g in set(given.values()) if g and not _digits(g)}
    names = sorted({name for name, _ in wanted.values()})
    r, parent = t.regions.c, t.regions.alias("parent")
    query = (select(r.name, r.code, parent.c.name.label("parent")).outerjoin(parent, parent.c.code == r.parent_code)
             .where(within([a.region_code for a in actor.assignments], r.code)))
    if levels:
        query = query.where(r.level.in_(tuple(levels)))
    with app.engine.connect() as conn:
        named = _regions_named(conn, query, names)
        named.update(_named_under(conn, query, [n for n in names if n not in named]))

    def one(g: str) -> str | BadInput:
        if _digits(g):
            return g
        name, code = wanted[g]
        found = [row for row in named.get(name, []) if code in (None, row.code)]
        return _one_named(g, found)
    return {v: one(g) for v, g in given.items() if g}


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# A form's suggestion: the region's name and its code in brackets (洋塘村 (360730100201), or （…）).
_NAME_AND_CODE = re.compile(r"(.*\S)\s*[(（]\s*(\d{12})\s*[)）]")


def _name_and_code(given: str) -> tuple[str, str | None]:
    both = _NAME_AND_CODE.fullmatch(given)
    return (both.group(1), both.group(2)) if both else (given, None)


def _regions_named(conn, query, names: Sequence[str]) -> dict[str, list]:
    """The regions `query` finds of each of `names`, in code order: name -> rows."""
    from engine.services.org import BATCH
    r = t.regions.c
    named: dict[str, list] = {}
    for i in range(0, len(names), BATCH):
        for row in conn.execute(query.where(r.name.in_(names[i:i + BATCH])).order_by(r.code)):
            named.setdefault(row.name, []).append(row)
    return named


def _named_under(conn, query, names: Sequence[str]) -> dict[str, list]:
    """Names no region has, read as a region's name after the names of one or more regions right
    above it (宁都县梅江镇: 梅江镇 of 宁都县; 梅江镇洋塘村, 赣州市宁都县梅江镇洋塘村): name -> the regions
    so named."""
    tails = {name: {name[i:] for i in range(1, len(name) - 1)} for name in names}   # 2 characters at least
    rows = _regions_named(conn, query, sorted(set().union(*tails.values()))) if names else {}
    above = region_names_in(conn, {a for found in rows.values() for row in found for a in ancestors_of(row.code)[1:]})
    named: dict[str, list] = {}
    for name in names:
        for tail in sorted(tails[name], key=len, reverse=True):
            head = name[:-len(tail)].replace(" ", "")
            for row in rows.get(tail, []):
                chain = [above.get(a, "") for a in reversed(ancestors_of(row.code)[1:])]     # the top first
                if any("".join(chain[i:]) == head for i in range(len(chain))):
                    named.setdefault(name, []).append(row)
    return named


def _one_named(given: str, found: list) -> str | BadInput:
    if len(found) == 1:
        return found[0].code
    if not found:
        return BadInput("region.no_such_name", name=given[:40])
    shown = [f"{row.code} {row.parent or ''}".strip() for row in found[:MANY_NAMED]] + \
        (["…"] if len(found) > MANY_NAMED else [])
    return BadInput("region.same_name", name=given[:40], codes=Codes("raw", tuple(shown)))


def region_code_of(app: App, actor: Actor, value: str, levels: Sequence[str] = ()) -> str:
    """`value` as region_codes_of reads it: its region's code; a name naming no one region is refused."""
    found = region_codes_of(app, actor, [value], levels).get(value, value)
    if isinstance(found, BadInput):
        raise found
    return found


MANY_NAMED = 10      # regions of one name listed when refusing it
