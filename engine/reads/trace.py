"""Tracing for discipline inspectors: a case's whole life, and everything one person did or answers for.

A case's trace is its record (procedures, steps, evidence, notices, objections) with, for each
completed transition, the people named responsible at that moment; the problem items that name it;
its audit events and whether their hash chain is intact. A person's trace lists their posts, every
step they took, every responsibility they carry and every accountability outcome against them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, literal, or_, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.templates import TEMPLATES
from engine.reads.case_deadlines import case_lapses, case_overdue
from engine.domain.deadline_rules import wall_clock
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Codes, Msg, NotFound, RuleViolation, render_stored, render_text, translator
from engine.services.org import require_reader
from engine.reads.case_integrity import case_integrity
from engine.reads.case_record import case_detail
from engine.reads.case_lists import region_names_in
from engine.reads.oversight import iso, within
from engine.reads.record_warnings import lead_cases, record_altered
from engine.reads.steps_recorded import as_recorded, step_events
from engine.domain.members import member_changes
from engine.domain.regions import covers
from engine.reads.words import altered, data_words, event_lines, field_words, replaced_words


def _responsibility(r) -> dict[str, Any]:
    return {"type": r.type, "person": r.person_code, "person_name": r.person_name, "role": r.role,
            "region": r.region_code, "basis": r.basis, "procedure_id": r.procedure_id,
            "procedure": r.procedure_kind, "case_id": r.case_id, "date": iso(r.effective_date),
            "assigned_at": iso(r.assigned_at),
            "policy_version": r.policy_version}


def _outcome(o, names: dict) -> dict[str, Any]:
    return {"id": o.id, "outcome": o.outcome, "person": names.get(o.person_id), "person_name": o.person_name,
            "organisation": o.organisation, "region": o.region_code, "problem_id": o.problem_id,
            "reason": o.reason, "decided_on": iso(o.decided_on), "due_on": iso(o.due_on),
            "done_on": iso(o.done_on), "recorded_by": names.get(o.recorded_by), "recorded_at": iso(o.recorded_at)}


def case_trace(app: App, actor: Actor, case_id: int, lang: str = "zh") -> dict[str, Any]:
    """A case's whole record for an inspector; its damage texts in `lang`."""
    trace = case_detail(app, actor, case_id, lang=lang, integrity=False)     # its own, with the rows' below
    with app.engine.connect() as conn:
        case = conn.execute(select(t.cases).where(t.cases.c.id == case_id)).first()
        responsible: dict[int, list] = {}
        for r in conn.execute(select(t.responsibilities).where(t.responsibilities.c.case_id == case_id)
                              .order_by(t.responsibilities.c.id)):
            responsible.setdefault(r.procedure_id, []).append(_responsibility(r))
        named_by = conn.execute(
            select(t.problem_links, t.cases.c.title, t.cases.c.stage, t.cases.c.attrs)
            .join(t.cases, t.cases.c.id == t.problem_links.c.problem_id)
            .where(t.problem_links.c.case_id == case_id).order_by(t.problem_links.c.problem_id)).all()
        events = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case_id)
                              .order_by(t.audit_events.c.case_seq)).all()
        # what each event besides the steps changed, in words (the steps are read from their own rows)
        said = dict(zip((e.seq for e in events if e.action != "step"),
                        event_lines(conn, app.config, [e for e in events if e.action != "step"], lang)))
        if case.kind == "problem":
            links = conn.execute(select(t.problem_links, t.cases.c.title, t.cases.c.kind, t.cases.c.stage)
                                 .join(t.cases, t.cases.c.id == t.problem_links.c.case_id)
                                 .where(t.problem_links.c.problem_id == case_id)
                                 .order_by(t.problem_links.c.case_id)).all()
            referrals = conn.execute(select(t.discipline_referrals).where(
                t.discipline_referrals.c.problem_id == case_id).order_by(t.discipline_referrals.c.id)).all()
            outcomes = conn.execute(select(t.accountability_outcomes).where(
                t.accountability_outcomes.c.problem_id == case_id).order_by(t.accountability_outcomes.c.id)).all()
            names = _codes(conn, [o.person_id for o in outcomes] + [o.recorded_by for o in outcomes])
    paired = step_events(trace["procedures"], events)
    record_damage = _record_damage(trace["procedures"], responsible, events, paired)
    as_recorded(app.config, trace["procedures"], events, paired, lang)
    evidence = {e["id"]: e for e in trace["evidence"]}
    config = app.config
    versions = set()
    for proc in trace["procedures"]:
        proc["responsibility"] = responsible.get(proc["id"], [])
        versions.add(proc["policy_version"])
        for step in proc["steps"]:
            versions.add(step["policy_version"])
            event = paired.get(id(step))        # done in a list: its batch, and its event to find the others by
            step["batch"] = _batch(event.detail) if event is not None else None
            if step["batch"]:
                step["batch"]["seq"] = event.seq
            step["data_words"] = data_words(config, approver_named(step["data"], trace["attrs"]), lang, step["step"])
            step["evidence"] = [{**ref, "attached_by": evidence.get(ref["id"], {}).get("attached_by"),
                                 "attached_at": evidence.get(ref["id"], {}).get("attached_at"),
                                 "words": field_words(config, evidence.get(ref["id"], {}).get("fields"), lang)
                                 + _altered_words(config, evidence.get(ref["id"]), lang)}
                                for ref in step["evidence"]]
    for item in trace["evidence"]:        # each item's values; a replaced one's, old against new
        item["words"] = field_words(config, item["fields"], lang) + _altered_words(config, item, lang)
        new = evidence.get(item["superseded_by"])
        item["replaced_words"] = replaced_words(config, item["fields"], new["fields"], item["type"], lang) if new else []
    for notice in trace["notices"]:
        notice["objections"] = [o for o in trace["objections"] if o["notice"] == notice["id"]]
    _ruled_by(trace)
    with app.engine.connect() as conn:       # its chain, and what audit verify checks of it beyond
        integrity = case_integrity(app, conn, case, lang, events, more=record_damage)
    trace.update({
        "generated": generated(app, actor),
        "rule_versions": sorted(v for v in versions if v),
        "named_by_problems": [{"problem_id": p.problem_id, "title": render_stored(config, p.title, lang),
                               "stage": p.stage, "finding": p.finding, "source": p.attrs.get("source")}
                              for p in named_by],
        "events": [{"seq": e.seq, "case_seq": e.case_seq, "at": iso(e.at), "person": e.person_code,
                    "person_name": e.person_name, "role": e.role, "action": e.action, "step": e.step_key,
                    "decision": e.decision, "to_stage": e.to_stage,
                    "reason": render_stored(config, e.reason, lang), "stored_reason": e.reason,
                    "changes": member_changes(e.action, e.detail), "lines": said.get(e.seq, []),
                    "batch": _batch(e.detail), "hash": e.hash} for e in events],
        "integrity": integrity,
        "leads": case_leads(app, actor, case_id, lang),
        # its deadlines closed after they lapsed (when, how late, whose), then those still open past due: whose on
        # their due day, and whose now if handed over since
        "lapses": case_lapses(app, actor, case_id) + case_overdue(app, actor, case_id),
    })
    if case.kind == "problem":
        trace["problem"] = {
            "links": [{"case_id": link.case_id, "title": render_stored(config, link.title, lang), "kind": link.kind,
                       "stage": link.stage,
                       "finding": link.finding, "chain": link.chain} for link in links],
            "referrals": [{"reason": r.reason, "referred_at": iso(r.referred_at), "detail": r.detail}
                          for r in referrals],
            "outcomes": [_outcome(o, names) for o in outcomes],
            "found_by": found_by_words(config, trace["attrs"], lang),
        }
    return trace


def _ruled_by(trace: dict[str, Any]) -> None:
    """Each procedure an upheld objection ended (rejected at its notice): who ruled on it, as its
    approval (`ruled_by`: code, name, the objection, its day), for the summary of who proposed, checked
    and approved (a7 #7: the ruling ended the procedure, and only further down was it said by whom)."""
    of_notice = {n["id"]: n.get("procedure_id") for n in trace["notices"]}
    for proc in trace["procedures"]:
        proc["ruled_by"] = [{"person": o["resolved_by"], "person_name": o.get("resolved_by_name"),
                             "objection": o["id"], "ruled_on": o.get("ruled_on")}
                            for o in trace["objections"]
                            if o["resolution"] == "upheld" and of_notice.get(o["notice"]) == proc["id"]]


def case_leads(app: App, actor: Actor, case_id: int, lang: str = "zh") -> list[dict[str, Any]] | None:
    """The inspection flags naming the case (`inspect flags --case`), the weightiest first, for a reader
    who reads leads (an inspector); None for anybody else (a lead is about cadres)."""
    found = _leads(app, actor, case=case_id)
    return None if found is None else [f.to_dict(app.config, lang) for f in found]


def _leads(app: App, actor: Actor, case: int | None = None, person: str | None = None) -> list | None:
    """The inspection flags naming the case, or about the person, the weightiest first; None for a reader
    who does not read leads (a lead is about cadres, who must not read those about themselves)."""
    from engine.reads.inspection import ranked
    from engine.services.org import inspects
    if not inspects(app, actor):
        return None
    return ranked(app, actor, None, None, case, person)


LEADS_SHOWN = 50    # a person's leads on their trace, the weightiest first (all: inspect flags --person)


def person_leads(app: App, actor: Actor, code: str, lang: str = "zh") -> dict[str, Any] | None:
    """The inspection leads about the person (`inspect flags --person`), for an inspector tracing them:
    the LEADS_SHOWN weightiest (`leads`, each saying whether a case it rests on was found altered, as
    the flags do), how many there are (`count`), the warning to say above them (`record_altered`) and
    the cases they rest on (`cases`);
    None for a reader who does not read leads. Read from the person's own rows by their index (seconds
    for a county officer who signed 150,000 steps: the trace page loads them after itself)."""
    with app.engine.connect() as conn:
        person_in_reach(conn, app, actor, code)
    found = _leads(app, actor, person=code)
    if found is None:
        return None
    shown = found[:LEADS_SHOWN]
    cases = [c for f in shown for c in lead_cases(f)]
    altered = record_altered(app, cases, lang, steps_only=True)
    damaged = set(altered["cases"]) if altered else set()
    return {"leads": [{**f.to_dict(app.config, lang), "record_altered": bool(damaged & set(lead_cases(f)))}
                      for f in shown], "count": len(found), "record_altered": altered, "cases": cases}


def found_by_words(config, attrs: dict, lang: str) -> str | None:
    """Who found what a problem item registered as the consequence of their finding (a sample check's
    wrong exit, a household's own wrong-exit correction or wrong-inclusion removal), and whether the system
    registered it for them."""
    found = attrs.get("found_by")
    if not isinstance(found, dict):
        return None
    kind = ("correction" if attrs.get("correction_procedure") else "removal" if attrs.get("removal_procedure") else
            "sample_system" if attrs.get("registered_by") == "system" else "sample")
    return render_text(config, f"trace.found_by.{kind}", {
        "name": found.get("name") or "-", "person": found.get("person") or "-", "role": found.get("role") or "-",
        "draw": attrs.get("draw_id", "-"),
        "procedure": attrs.get("correction_procedure") or attrs.get("removal_procedure", "-")}, lang)


def _altered_words(config, item: dict | None, lang: str) -> list[list[str]]:
    """A [label, warning] pair after an evidence item's values that are not what was recorded (its content
    hash no longer matches: its row edited behind the engine), else nothing."""
    if item is None or not altered(item["type"], item["fields"], item["file"], item["hash"]):
        return []
    return [[config.label("trace.warning", lang), config.label("trace.evidence_altered", lang)]]


def approver_named(data: Any, attrs: dict | None) -> Any:
    """A plan change's approval recorded before its step kept the original approver's name: the name
    the project recorded with its library approval (the same person, by code), to say it by name."""
    approval = data.get("original_approval") if isinstance(data, dict) else None
    recorded = (attrs or {}).get("library_approval") or {}
    if not isinstance(approval, dict) or approval.get("name") or not recorded.get("name") \
            or recorded.get("person") != approval.get("person"):
        return data
    return {**data, "original_approval": {**approval, "name": recorded["name"]}}


def generated(app: App, actor: Actor) -> dict[str, Any]:
    """When and by whom a trace was made: a printed dossier says who printed it, and when."""
    return {"at": iso(app.clock.now()), "by": actor.code, "by_name": actor.name}


def _batch(detail: dict | None) -> dict[str, Any] | None:
    """The list a step was done in as one act (a village's list: its events share one batch id), and
    how many cases it did; None for a step done alone."""
    detail = detail or {}
    return {"id": detail["batch"], "size": detail.get("batch_size")} if detail.get("batch") else None


def _record_damage(procedures: list, responsible: dict, events, paired: dict[int, Any]) -> list[Msg]:
    """The tables a trace is read from must say what the hash-chained events say.

    Each step row is compared with its own event (same procedure and step, in order), and each
    transition's named persons with those its completing event recorded; a row edited behind the
    engine's back shows here even though the chain itself is intact.
    """
    completing = {e.procedure_id: e for e in events
                  if e.action == "step" and (e.detail or {}).get("procedure_status") == "completed"}
    damage = []
    for proc in procedures:
        for step in proc["steps"]:
            event = paired.get(id(step))
            where = {"procedure_id": proc["id"], "step": step["step"]}
            if event is None:
                damage.append(Msg("trace.damage.step_unrecorded", where))
                continue
            recorded = {"person": event.person_code, "role": event.role, "decision": event.decision,
                        "reason": event.reason,      # as stored: a reason that only reads the same is found
                        "date": str((event.detail or {}).get("effective_date")),
                        "evidence": [e["hash"] for e in event.evidence_hashes or []]}
            shown = {"person": step["person"], "role": step["role"], "decision": step["decision"],
                     "reason": step["stored_reason"], "date": step["date"],
                     "evidence": [e["hash"] for e in step["evidence"] or []]}
            changed = sorted(k for k in recorded if recorded[k] != shown[k])
            if changed and {"person", "role", "decision", "date"} & set(changed):   # what the event says instead
                damage.append(Msg("trace.damage.step_differs_recorded", {
                    **where, "fields": Codes("trace", tuple(changed)), "seq": event.seq, "person": event.person_code,
                    "role": event.role or "-", "decision": Codes("decision", (event.decision,)),
                    "date": recorded["date"]}))
            elif changed:
                damage.append(Msg("trace.damage.step_differs", {**where, "fields": Codes("trace", tuple(changed)),
                                                                 "seq": event.seq}))
        event = completing.get(proc["id"])
        named = {(r["type"], r["person"], r["basis"]) for r in responsible.get(proc["id"], [])}
        recorded = {(r[0], r[1], r[5]) for r in ((event.detail or {}).get("responsibility") or [])} if event else set()
        if named != recorded:
            damage.append(Msg("trace.damage.responsible_differs", {"procedure_id": proc["id"]}))
    return damage


def _codes(conn, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    return {r.id: r.code for r in conn.execute(select(t.persons.c.id, t.persons.c.code).where(t.persons.c.id.in_(ids)))}


ACTS_PAGE = 50      # a person's other acts a page: the page stays small whoever it is
ROWS_PAGE = 50      # their steps, and their responsibilities, a page each
CASES_NAMED = 12    # a group's cases named by number when it has at most this many (else counted)


def person_trace(app: App, actor: Actor, code: str, lang: str = "zh", before: int | None = None,
                 limit: int | None = None, action: str | None = None, steps: Page | None = None,
                 responsibilities: Page | None = None, leads: bool = True) -> dict[str, Any]:
    """A person's dossier, within the reader's jurisdiction: their posts and outcomes; what they did and
    what they answer for summed up by group (procedure, step and role; procedure, responsibility and
    role: how many, over how many cases, first and last date, how many voided), counted by the
    database; the steps and the responsibilities themselves a page each, newest first (`steps`,
    `responsibilities`: the page older than a row's id, of one group; the next page's start in
    `steps_older`, `responsibilities_older`); and their acts besides steps (evidence, registrations,
    member changes, visits…) newest first, `limit` of them older than the event `before` (the page
    before's `acts_older`), of one kind if `action` is given, with how many of each kind there are."""
    steps, responsibilities = steps or Page(), responsibilities or Page()
    with app.engine.connect() as conn:
        person = person_in_reach(conn, app, actor, code)
        posts = conn.execute(select(t.role_assignments).where(t.role_assignments.c.person_id == person.id)
                             .order_by(t.role_assignments.c.id)).all()
        step_groups = _groups(conn, _STEP_ROWS, actor, person.id)
        step_rows, steps_older = _page(conn, _STEP_ROWS, actor, person.id, steps, step_groups)
        responsibility_groups = _groups(conn, _RESPONSIBILITY_ROWS, actor, person.id)
        rows, responsibilities_older = _page(conn, _RESPONSIBILITY_ROWS, actor, person.id, responsibilities,
                                             responsibility_groups)
        outcomes = conn.execute(select(t.accountability_outcomes).where(
            t.accountability_outcomes.c.person_id == person.id).order_by(t.accountability_outcomes.c.id)).all()
        names = _codes(conn, [o.person_id for o in outcomes] + [o.recorded_by for o in outcomes])
        # What the reader sees is what lies within their own jurisdiction.
        outcomes = [o for o in outcomes if any(covers(a.region_code, o.region_code) for a in actor.assignments)]
        regions = region_names_in(conn, [p.region_code for p in posts] + [s.region_code for s in step_rows]
                                  + [r.region_code for r in rows] + [o.region_code for o in outcomes])
        acts, older, kinds = _acts(conn, app.config, actor, person.id, (before, limit or ACTS_PAGE, action), lang)
        left = None if person.active else _deactivated(conn, person.code)
    traced = _person_rows(app, person, posts, step_rows, rows, outcomes, names, lang)
    traced["person"]["deactivated"] = left
    about = person_leads(app, actor, person.code, lang) if leads else None    # the leads about them
    traced["leads"], traced["leads_count"] = (about["leads"], about["count"]) if about else (None, None)
    # the record these rest on altered in the database: said first (the leads', a small group's cases, the rows')
    cases = [c for g in step_groups + responsibility_groups for c in g["case_ids"] or []]
    altered = record_altered(app, (about["cases"] if about else []) + cases + [s.case_id for s in step_rows]
                             + [r.case_id for r in rows], lang, steps_only=True)
    return {**traced, "record_altered": altered, "region_names": regions, "acts": acts, "acts_older": older,
            "acts_kinds": kinds,
            "generated": generated(app, actor), "rows_page": steps.limit or ROWS_PAGE, "step_groups": step_groups,
            "steps_older": steps_older, "steps_group": steps.group, "responsibility_groups": responsibility_groups,
            "responsibilities_older": responsibilities_older, "responsibilities_group": responsibilities.group}


def _deactivated(conn, code: str) -> dict[str, Any] | None:
    """When, by whom and why the person was deactivated (their last `person_deactivated` event)."""
    ae = t.audit_events.c
    row = conn.execute(select(ae.at, ae.person_code, ae.reason).where(
        ae.case_id.is_(None), ae.action == "person_deactivated", ae.detail["person"].as_string() == code)
        .order_by(ae.case_seq.desc()).limit(1)).first()
    return {"at": iso(row.at), "by": row.person_code, "reason": row.reason} if row is not None else None


def person_in_reach(conn, app: App, actor: Actor, code: str):
    """The person of `code` (their row), whom the reader may trace: whoever may read any region the
    person held a post over; an unknown code is NotFound, a person beyond reach refused."""
    person = conn.execute(select(t.persons).where(t.persons.c.code == code)).first()
    if person is None:
        raise NotFound("person.unknown", code=code)
    posts = conn.execute(select(t.role_assignments.c.region_code)
                         .where(t.role_assignments.c.person_id == person.id)
                         .order_by(t.role_assignments.c.id)).scalars().all()
    if not any(covers(a.region_code, p) for a in actor.assignments for p in posts):
        if posts:
            require_reader(app, actor, posts[0])
        raise RuleViolation("auth.jurisdiction", person=actor.code, action="trace", region="-")
    return person


@dataclass(frozen=True)
class Page:
    """Which of a person's steps (or responsibilities) to show: those older than the row `before`
    (the page before's `steps_older`), of the group `group` only (a group's `key`), `limit` of them."""
    before: int | None = None
    group: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class _Rows:
    """A person's rows of one kind: their table, joined to its case (the reader's jurisdiction is read
    through the case's region); the columns a group is keyed by, and their names; a row's columns;
    how many of a group are voided."""
    table: Any
    source: Any
    keys: tuple
    names: tuple[str, ...]
    columns: tuple
    voided: Any


_S, _P, _C, _R = t.steps.c, t.procedures.c, t.cases.c, t.responsibilities.c
_STEP_ROWS = _Rows(
    t.steps, t.steps.join(t.procedures, _P.id == _S.procedure_id).join(t.cases, _C.id == _S.case_id),
    (_P.kind, _S.step_key, _S.role), ("procedure", "step", "role"),
    (_S.id, _S.case_id, _S.procedure_id, _S.step_key, _S.step_type, _S.role, _S.decision, _S.reason,
     _S.effective_date, _S.recorded_at, _S.evidence_hashes, _S.policy_version, _S.voided_at, _S.voided_reason,
     _P.kind.label("procedure"), _C.kind.label("case_kind"), _C.title, _C.region_code),
    func.count(_S.voided_at))
_RESPONSIBILITY_ROWS = _Rows(
    t.responsibilities, t.responsibilities.join(t.cases, _C.id == _R.case_id),
    (_R.procedure_kind, _R.type, _R.role), ("procedure", "type", "role"),
    (t.responsibilities, _C.title, _C.stage, _C.region_code.label("case_region")),
    literal(0))


def _groups(conn, kind: _Rows, actor: Actor, person_id: int) -> list[dict[str, Any]]:
    """The person's rows of `kind` in the reader's jurisdiction summed up by group, counted by the
    database (in the order first met): each group's key values and `key` (to page on it), how many,
    over how many cases (named, `case_ids`, when at most CASES_NAMED), first and last date, voided."""
    table = kind.table.c
    where = (table.person_id == person_id, within(actor, _C.region_code))
    found = conn.execute(select(*kind.keys, func.count().label("n"),
                                func.count(table.case_id.distinct()).label("cases"),
                                func.min(table.effective_date).label("first"),
                                func.max(table.effective_date).label("last"), kind.voided.label("voided"))
                         .select_from(kind.source).where(*where).group_by(*kind.keys)
                         .order_by(func.min(table.id))).all()
    groups = [{**dict(zip(kind.names, r[:3])), "key": _key(r[:3]), "count": r.n, "cases": r.cases,
               "case_ids": None, "first": iso(r.first), "last": iso(r.last), "voided": r.voided} for r in found]
    few = [g for g in groups if g["cases"] <= CASES_NAMED]
    if few:       # the cases of the small groups by number (a lone step among thousands is seen, and where)
        named: dict[str, list[int]] = {g["key"]: [] for g in few}
        for r in conn.execute(select(*kind.keys, table.case_id).distinct().select_from(kind.source)
                              .where(*where, or_(*(_of_group(kind, g) for g in few))).order_by(table.case_id)):
            named[_key(r[:3])].append(r.case_id)
        for g in few:
            g["case_ids"] = named[g["key"]]
    return groups


def _key(values) -> str:
    """A group's key, as a page's address and the command line give it: PROCEDURE:STEP:ROLE."""
    return ":".join(v or "" for v in values)


def _of_group(kind: _Rows, group: dict[str, Any]):
    return and_(*(col.is_(None) if group[name] is None else col == group[name]
                  for col, name in zip(kind.keys, kind.names)))


def _page(conn, kind: _Rows, actor: Actor, person_id: int, page: Page, groups: list) -> tuple[list, int | None]:
    """A page of the person's rows of `kind` in the reader's jurisdiction, newest first (of one group
    if the page names one, which must be one of `groups`), and the id to page on from if there are
    older ones. Read through the person's (person, id) index, newest first, a page at a time."""
    table = kind.table.c
    where = [table.person_id == person_id, within(actor, _C.region_code)]
    if page.group is not None:
        group = next((g for g in groups if g["key"] == page.group), None)
        if group is None:
            raise BadInput("trace.unknown_group", group=page.group[:80],
                           known=", ".join(g["key"] for g in groups[:20]) or "-")
        where.append(_of_group(kind, group))
    if page.before is not None:
        where.append(table.id < page.before)
    limit = page.limit or ROWS_PAGE
    rows = conn.execute(select(*kind.columns).select_from(kind.source).where(*where)
                        .order_by(table.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _acts(conn, config, actor: Actor, person_id: int, page: tuple, lang: str) -> tuple[list, int | None, list]:
    """The person's case events other than steps (the steps are read from their own table), in the
    reader's jurisdiction, newest first, each in words; the seq to page on from, if there are older
    ones; and [kind, how many] of them all (a lone replacement among thousands of attachments is
    seen, and found by its kind). Read through the person's index, a page at a time; the count by
    kind reads all of the person's events (about 0.1 s for 200,000 on SQLite), and so may a page of
    one rare kind: an index on (person, action, seq) would serve both, not built yet."""
    before, limit, action = page
    ae = t.audit_events
    where = [ae.c.person_id == person_id, ae.c.case_id.isnot(None), ae.c.action != "step",
             within(actor, ae.c.region_code)]
    kinds = [[r.action, r.n] for r in conn.execute(select(ae.c.action, func.count().label("n")).where(*where)
                                                     .group_by(ae.c.action).order_by(ae.c.action))]
    if action:
        where.append(ae.c.action == action)
    if before is not None:
        where.append(ae.c.seq < before)
    rows = conn.execute(select(ae.c.seq, ae.c.case_id, ae.c.at, ae.c.action, ae.c.role, ae.c.reason, ae.c.detail,
                               ae.c.evidence_hashes, t.cases.c.title, t.cases.c.kind)
                        .join(t.cases, t.cases.c.id == ae.c.case_id).where(*where)
                        .order_by(ae.c.seq.desc()).limit(limit + 1)).all()
    shown = rows[:limit]
    acts = [{"seq": r.seq, "case_id": r.case_id, "title": render_stored(config, r.title, lang), "case_kind": r.kind,
             "at": iso(r.at),
             "action": r.action, "role": r.role, "reason": render_stored(config, r.reason, lang),
             "lines": lines} for r, lines in zip(shown, event_lines(conn, config, shown, lang))]
    return acts, (shown[-1].seq if len(rows) > limit else None), kinds


def _person_rows(app: App, person, posts, steps, responsibilities, outcomes, names, lang: str) -> dict[str, Any]:
    return {
        "person": {"code": person.code, "name": person.name, "active": person.active},
        "posts": [{"role": p.role, "region": p.region_code, "granted_at": iso(p.granted_at),
                   "revoked_at": iso(p.revoked_at)} for p in posts],
        "steps": [{"id": s.id, "case_id": s.case_id, "case_kind": s.case_kind, "title": render_stored(app.config, s.title, lang),
                   "region": s.region_code,
                   "procedure": s.procedure, "procedure_id": s.procedure_id, "step": s.step_key, "type": s.step_type,
                   "role": s.role, "decision": s.decision, "reason": render_stored(app.config, s.reason, lang),
                   "date": iso(s.effective_date),
                   "recorded_at": iso(s.recorded_at), "evidence": s.evidence_hashes,
                   "policy_version": s.policy_version,
                   "voided": render_stored(app.config, s.voided_reason, lang) if s.voided_at else None}
                  for s in steps],
        "responsibilities": [{**_responsibility(r), "id": r.id, "title": render_stored(app.config, r.title, lang),
                              "case_stage": r.stage} for r in responsibilities],
        "outcomes": [_outcome(o, names) for o in outcomes],
    }


def basis_text(config, basis: str, lang: str = "zh") -> str:
    """Why a person carries a responsibility, in words: "did 'county approval'", "first pairing cadre"."""
    kind, _, what = basis.partition(":")
    if kind in ("step", "verified"):
        step = config.label(f"step.{what}", lang) if f"step.{what}" in config.labels else what
        return config.label(f"basis.{kind}", lang).format(step=step)
    key = f"basis.{kind}.{what}" if what else f"basis.{kind}"
    return config.label(key, lang) if key in config.labels else basis


def render_html(app: App, trace: dict[str, Any], lang: str = "zh", template: str = "trace_case.html") -> str:
    """A printable dossier, generated from the record (nothing retyped)."""
    return page_environment(app, lang).get_template(template).render(rec=trace)


def page_environment(app: App, lang: str = "zh"):
    """The Jinja environment of the engine's printable pages (a dossier, a handbook), with their words:
    every time on the office's clock, as the pages and the text trace show it (a 10:00 sign-off printed
    as 02:00 UTC reads as signed at night)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    config = app.config

    def label(prefix: str, value: Any) -> str:
        if value is None:
            return ""
        key = f"{prefix}.{value}"
        return config.label(key, lang) if key in config.labels else str(value)

    env.globals.update(t=translator(config, lang), label=label,
                       stage=lambda code, kind: config.stage_label(code, kind, lang) if code else "",
                       basis=lambda b: basis_text(config, b, lang),
                       role=lambda r: config.role_label(r, lang) if r else "", lang=lang,
                       when=lambda at: wall_clock(config, at))
    return env
