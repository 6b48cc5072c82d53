"""One case in full (`case show`): its rows read once, then shaped for a reader."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.cases import measure_status
from engine.domain.errors import NotFound, render_stored
from engine.domain.deadline_rules import aware
from engine.domain.facts import announced, last_day
from engine.domain.kin import kin_said, kin_shown
from engine.domain.members import mask_account, mask_id
from engine.domain.regions import level_of, parent_of, province_of
from engine.domain.monitoring import period_years, shown as monitoring_shown
from engine.reads.case_integrity import case_integrity
from engine.reads.imports import imported_from
from engine.reads.listings import as_list, ruled_on, ruling_file, verifier_names
from engine.reads.standing import standing
from engine.reads.steps_recorded import as_recorded, step_events
from engine.reads.words import registration_lines
from engine.services.org import require_reader
from engine.services.reveal import record_ids_revealed

# The case's own rows, each in the order they were written.
_OWN_ROWS = {name: getattr(t, name) for name in
             ("household_members", "procedures", "steps", "evidence", "pairings", "measures", "objections",
              "monitoring_visits")}


def person_names(conn: Connection, ids) -> dict[int, tuple[str, str]]:
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    return {r.id: (r.code, r.name) for r in conn.execute(
        select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(t.persons.c.id.in_(ids)))}


def case_detail(app: App, actor: Actor, case_id: int, full_ids: bool = False, lang: str = "zh",
                integrity: bool = True) -> dict[str, Any]:
    """The case's record; with `integrity` (all but the trace, which checks more), whether its events and
    what they recorded are as written, so that a record altered in the database is not shown as sound,
    and, when they are not, its steps as their events recorded them (steps_recorded.as_recorded: who
    signed, the database row's values beside them), as the trace names them."""
    with app.engine.connect() as conn:
        case = conn.execute(select(t.cases).where(t.cases.c.id == case_id)).first()
        if case is None:
            raise NotFound("case.unknown", case=case_id)
        require_reader(app, actor, case.region_code)
        if full_ids:
            record_ids_revealed(app, actor, case_id, case.region_code)
        rows = _rows(conn, case)
        checked = case_integrity(app, conn, case, lang) if integrity else None
        # a damaged case's steps are named as their events recorded them (a signer moved in the database)
        events = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case_id)
                              .order_by(t.audit_events.c.case_seq)).all() if checked and not checked["intact"] else None
    render = lambda text: render_stored(app.config, text, lang)  # noqa: E731
    shaped = _shaped(case, rows, full_ids, render)
    shaped["registered"] = _registered(app, rows["registered"], lang)
    if case.kind == "problem":      # a description in the engine's words (a sample check's) said in the reader's
        shaped["attrs"] = {**case.attrs, "description": render(case.attrs.get("description"))}
    kept = {k for k, d in app.config.workflows[case.kind].evidence_types.items() if d.per_procedure}
    earlier = {ref.get("id") for s in rows["steps"] if s.procedure_id != case.open_procedure_id
               for ref in s.evidence_hashes or []}
    for item in shaped["evidence"]:     # an earlier procedure's record, not the item a new one replaces
        item["earlier_procedure"] = item["type"] in kept and item["id"] in earlier
    shaped["relatives"] = [relative_shown(app.config, r, rows["names"], lang) for r in rows["relatives"]]
    _ruled(app, shaped["objections"], rows["objections"])
    if case.kind == "household":      # the causes of poverty and the type, as codes and in words (the plan answers them)
        word = lambda prefix, code: app.config.label(f"{prefix}.{code}", lang)  # noqa: E731
        causes, kind = list(case.attrs.get("causes") or ()), case.attrs.get("household_type")
        shaped["poverty"] = {"causes": causes, "causes_words": [word("cause", c) for c in causes],
                             "household_type": kind, "household_type_words": word("household_type", kind) if kind else None}
    if case.kind == "household":      # monitored now, earlier monitorings, the transition period's end
        shaped["monitoring"] = monitoring_shown(case.stage, case.attrs, app.clock.today(),
                                                period_years(app.config.policy, province_of(case.region_code)))
        under_way = monitoring_under_way(shaped["procedures"], shaped["evidence"], rows["monitoring_deadlines"], case, app.clock.today())
        if under_way:     # an identification (or elimination) open, or the last one refused: said beside it
            shaped["monitoring"] = {**(shaped["monitoring"] or {"current": None, "history": [],
                                                                "transition_until": None, "transition_over": False}),
                                    **under_way}
    if checked is not None:
        shaped["integrity"] = checked
    if events is not None:      # as the trace shows them: the event's values, the row's beside them
        as_recorded(app.config, shaped["procedures"], events, step_events(shaped["procedures"], events), lang)
    return shaped


_OWN_EXTRA = {"monitoring_visits": (t.visit_in_force().label("in_force"),)}    # what a row says beyond its columns


def _rows(conn: Connection, case) -> dict[str, Any]:
    rows = {name: conn.execute(select(table, *_OWN_EXTRA.get(name, ())).where(table.c.case_id == case.id)
                               .order_by(table.c.id)).all()
            for name, table in _OWN_ROWS.items()}
    rows["notices"] = conn.execute(select(t.notices, t.notice_cases.c.procedure_id).join(
        t.notice_cases, t.notice_cases.c.notice_id == t.notices.c.id)
        .where(t.notice_cases.c.case_id == case.id).order_by(t.notices.c.id)).all()
    first = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case.id,
                                                      t.audit_events.c.case_seq == 1)).first()
    rows["registered"] = (first, imported_from(conn, [first]).get(first.seq)) if first is not None else None
    paired = sorted({p.person_id for p in rows["pairings"] if p.end_date is None})
    rows["left"] = set(conn.execute(select(t.persons.c.id).where(
        t.persons.c.id.in_(paired), t.persons.c.active.is_(False))).scalars()) if paired else set()
    rows["monitoring_deadlines"] = conn.execute(_MONITORING_DEADLINES, {"case_id": case.id}).all() \
        if case.kind == "household" and case.open_procedure_id else []
    rows["region"] = conn.execute(select(t.regions.c.name).where(t.regions.c.code == case.region_code)).scalar()
    # a village's township beside it (梅江镇 洋塘村): villages of one name in two townships told apart
    rows["township"] = conn.execute(select(t.regions.c.name).where(
        t.regions.c.code == parent_of(case.region_code))).scalar() if level_of(case.region_code) == "village" else None
    rows["relatives"] = conn.execute(select(t.relatives).where(t.relatives.c.case_id == case.id)
                                     .order_by(t.relatives.c.person_id)).all()
    rows["names"] = person_names(conn, [s.person_id for s in rows["steps"]] + [e.attached_by for e in rows["evidence"]]
                                 + [p.person_id for p in rows["pairings"]] + [o.resolved_by for o in rows["objections"]]
                                 + [v.person_id for v in rows["monitoring_visits"]]
                                 + [r.person_id for r in rows["relatives"]])
    return rows


def _shaped(case, rows: dict[str, Any], full_ids: bool, render: Callable) -> dict[str, Any]:
    names = rows["names"]
    who = lambda pid: names.get(pid, ("?", "?"))[0]  # noqa: E731   (a person's code)
    name_of = lambda pid: names.get(pid, ("?", "?"))[1]  # noqa: E731
    return {
        "id": case.id, "kind": case.kind, "title": render(case.title), "region": case.region_code,
        "region_name": rows["region"], "township_name": rows["township"], "stage": case.stage, "version": case.version, "attrs": case.attrs,
        # the stage as the figures count it: a rejected applicant with nothing open is not identified
        "standing": standing(case.stage, case.open_procedure_id, rows["procedures"])
        if case.kind == "household" else case.stage,
        "pending": {"procedure": case.pending_procedure, "step": case.pending_step},
        "members": [_member(m, full_ids) for m in rows["household_members"]],
        "procedures": [_procedure(p, rows["steps"], names, render) for p in rows["procedures"]],
        "evidence": [{**_evidence(e, who, render), "attached_by_name": name_of(e.attached_by)}
                     for e in rows["evidence"]],
        "pairings": [{"person": who(p.person_id), "person_name": name_of(p.person_id), "kind": p.kind,
                      # a cadre who left is no household's pairing cadre in force (调整帮扶责任人 names another)
                      "in_office": p.end_date is not None or p.person_id not in rows["left"],
                      "start": p.start_date.isoformat(),
                      "end": p.end_date.isoformat() if p.end_date else None} for p in rows["pairings"]],
        "measures": _measures(rows["measures"], rows["procedures"]),
        "notices": [{"id": n.id, "scope": n.scope, "procedure": n.procedure_kind, "step": n.step_key,
                     "start": n.start_date.isoformat(), "end": n.end_date.isoformat(),
                     "last": (n.start_date if (a := announced(n.days_required, n.start_date, n.end_date))
                              else last_day(n.end_date)).isoformat(), "announcement": a,
                     "days_required": n.days_required, "procedure_id": n.procedure_id} for n in rows["notices"]],
        "objections": [{**_objection(o, who), "resolved_by_name": name_of(o.resolved_by) if o.resolved_by else None,
                        "file": ruling_file(o, rows["evidence"])} for o in rows["objections"]],
        "visits": visits_shown(rows["monitoring_visits"], rows["measures"], who, name_of),
    }


def relative_shown(config, row, names: dict, lang: str) -> dict[str, Any]:
    """A cadre recorded as the household's relative: who, and their kinship as a code (`relation`; one
    recorded as typed before the kinship list, the code its word names, or as typed) and in the reader's
    words (`relation_words`)."""
    code, name = names.get(row.person_id, ("?", "?"))
    return {"person": code, "person_name": name, "relation": kin_shown(row.relation),
            "relation_words": kin_said(config, row.relation, lang)}


def _registered(app: App, registered, lang: str) -> dict[str, Any] | None:
    """The case's registration: when, by whom in which post, and what it recorded beyond that (the
    stage and list file a registry moved it in from, its exit year, ID numbers left to confirm)."""
    if registered is None:
        return None
    event, source = registered
    return {"at": aware(event.at).isoformat(), "person": event.person_code, "person_name": event.person_name,
            "role": event.role, "action": event.action, "stage": event.to_stage, "source": source,
            "lines": registration_lines(app.config, event.detail or {}, source, lang)
            if event.action == "case_registered" else []}


def visits_shown(visits, measures, who: Callable, name_of: Callable) -> list[dict[str, Any]]:
    """The household's visits by their date (one may be recorded late): each with the measure it concerns
    (its category and words), what it brought, and, corrected or withdrawn, by which and why (kept)."""
    measure = {m.id: {"id": m.id, "category": m.category, "description": m.description} for m in measures}
    return [{"id": v.id, "date": v.visit_date.isoformat(), "person": who(v.person_id),
             "person_name": name_of(v.person_id), "findings": v.findings, "risk": bool(v.risk),
             "measure": measure.get(v.measure_id), "result": v.result,
             "in_force": bool(v.in_force), "superseded_by": v.superseded_by,
             "supersede_reason": v.supersede_reason}
            for v in sorted(visits, key=lambda v: (v.visit_date, v.id))]


def _measures(measures, procedures) -> list[dict[str, Any]]:
    """Every measure ever planned, each with where it stands (in force, proposed, ended, rejected), the
    procedure that proposed it and the day it ended."""
    status_of = {p.id: p.status for p in procedures}
    found = [{"id": m.id, "category": m.category, "description": m.description, "start": m.start_date.isoformat(),
              "status": measure_status(status_of.get(m.procedure_id), m.end_date),
              "procedure": m.procedure_id, "end": m.end_date.isoformat() if m.end_date else None} for m in measures]
    return mark_ending(found)


def mark_ending(measures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A revision is the whole new plan: each measure in force that the revision awaiting approval does not
    hold is marked to end when it is approved (`ends_on_approval`; the case page, `case show` and the API
    say so alike). Returns the same list."""
    proposed = {(m["category"], m["description"]) for m in measures if m["status"] == "proposed"}
    for m in measures:
        m["ends_on_approval"] = bool(proposed) and m["status"] == "in_force" \
            and (m["category"], m["description"]) not in proposed
    return measures


def _member(m, full_ids: bool) -> dict[str, Any]:
    return {
        "member_id": m.id,       # the row: what a page names a member by (never its ID number)
        "name": m.name, "id_number": m.id_number if full_ids else mask_id(m.id_number),
        "relation": m.relation, "labour_ability": m.labour_ability, "health": m.health,
        "school_enrolment": m.school_enrolment, "insured_basic": m.insured_basic,
        "insured_critical": m.insured_critical, "active": m.active,
        "id_check": m.id_check,      # the number to check against the card: why (later, abolished), or None
        "phone": m.phone if full_ids or not m.phone else m.phone[:3] + "****" + m.phone[-4:],
        "bank_account": m.bank_account if full_ids or not m.bank_account else mask_account(m.bank_account)}


MONITORING_PROCEDURES = ("monitoring", "risk_elimination")
IDENTIFICATION_LIMIT = "monitoring_identification"     # config/deadlines.yaml: identified within 15 days of the clue
# the case's open deadlines (through the index by case and status), with their owner's code and name
_MONITORING_DEADLINES = (
    select(t.deadlines.c.procedure_id, t.deadlines.c.rule, t.deadlines.c.step_key, t.deadlines.c.due_on,
           t.deadlines.c.owner_role, t.persons.c.code.label("owner"), t.persons.c.name.label("owner_name"))
    .select_from(t.deadlines.outerjoin(t.persons, t.persons.c.id == t.deadlines.c.owner_id))
    .where(t.deadlines.c.case_id == bindparam("case_id"), t.deadlines.c.status == "open")
    .order_by(t.deadlines.c.due_on, t.deadlines.c.id))


def monitoring_under_way(procedures: list[dict], evidence: list[dict], deadlines, case, today) -> dict[str, Any]:
    """What the monitoring box says beside the monitoring itself: `open`, an identification (or a risk
    elimination) under way {procedure, since, clue_date, step (awaited), due (its earliest time limit),
    overdue_days, owner, owner_name, owner_role}; `last_refused`, the last one refused {procedure, on,
    step, reason, by_name}, when none was completed after it. Empty when there is neither."""
    found: dict[str, Any] = {}
    mine = [p for p in procedures if p["kind"] in MONITORING_PROCEDURES]
    current = next((p for p in mine if p["status"] == "open" and p["id"] == case.open_procedure_id), None)
    if current is not None:
        limits = [d for d in deadlines if d.procedure_id in (None, current["id"])]
        # the time limit of the identification itself (15 days from the clue) before a step's own
        first = next((d for d in limits if d.rule == IDENTIFICATION_LIMIT), limits[0] if limits else None)
        clue = next((e["fields"] for e in reversed(evidence) if e["type"] == "monitoring_clue"
                     and not e["superseded_by"]), None) \
            if any(s["step"] == "clue" for s in current["steps"]) else None     # the clue this one was given
        found["open"] = {"procedure": current["kind"], "since": current["started_at"][:10],
                         "clue_date": (clue or {}).get("clue_date"), "step": case.pending_step,
                         "due": first.due_on.isoformat() if first else None,
                         "overdue_days": (today - first.due_on).days if first and first.due_on < today else 0,
                         "owner": first.owner if first else None, "owner_name": first.owner_name if first else None,
                         "owner_role": first.owner_role if first else None}
    ended = [p for p in mine if p["status"] in ("completed", "rejected")]
    if ended and ended[-1]["status"] == "rejected":
        last = ended[-1]
        refusing = next((s for s in reversed(last["steps"]) if s["decision"] == "rejected"), None)
        found["last_refused"] = {"procedure": last["kind"], "on": (refusing["date"] if refusing
                                                                   else (last["ended_at"] or "")[:10]),
                                 "step": refusing["step"] if refusing else None,
                                 "reason": (refusing["reason"] if refusing else None) or last["outcome"],
                                 "by_name": refusing["person_name"] if refusing else None}
    return found


def _procedure(p, steps, names: dict, render: Callable) -> dict[str, Any]:
    return {
        "id": p.id, "kind": p.kind, "status": p.status, "from": p.from_stage, "to": p.to_stage,
        "started_at": aware(p.started_at).isoformat(), "ended_at": aware(p.ended_at).isoformat() if p.ended_at else None,
        "outcome": render(p.outcome_reason), "policy_version": p.policy_version,
        "steps": [_step(s, names, render) for s in steps if s.procedure_id == p.id]}


def _step(s, names: dict, render: Callable) -> dict[str, Any]:
    code, name = names.get(s.person_id, ("?", "?"))
    return {
        "id": s.id, "step": s.step_key, "type": s.step_type, "person": code, "person_name": name,
        "role": s.role, "decision": s.decision, "reason": render(s.reason), "stored_reason": s.reason,
        "date": s.effective_date.isoformat(),
        "recorded_at": aware(s.recorded_at).isoformat(), "data": s.data, "evidence": s.evidence_hashes,
        "notice": s.notice_id, "policy_version": s.policy_version,
        "voided": render(s.voided_reason) if s.voided_at else None}


def _evidence(e, who: Callable, render: Callable) -> dict[str, Any]:
    return {
        "id": e.id, "type": e.type, "fields": e.fields, "file": e.file_sha256, "file_name": e.file_name,
        "hash": e.content_hash, "attached_by": who(e.attached_by), "attached_at": aware(e.attached_at).isoformat(),
        "superseded_by": e.superseded_by, "supersede_reason": render(e.supersede_reason)}


def _objection(o, who: Callable) -> dict[str, Any]:
    return {
        "id": o.id, "notice": o.notice_id, "objector": o.objector, "content": o.content,
        "filed_on": o.filed_on.isoformat(), "resolution": o.resolution, "resolution_reason": o.resolution_reason,
        "resolved_by": who(o.resolved_by) if o.resolved_by else None}


def _ruled(app: App, shown: list[dict[str, Any]], rows: list) -> None:
    """Each ruling's effective day (`ruled_on`) and who verified it on the spot (`verifiers`: code and
    name), as the notice page shows them."""
    codes = {c for o in rows for c in as_list(o.resolution_verifiers)}
    with app.engine.connect() as conn:
        named = verifier_names(conn, codes)
    for item, o in zip(shown, rows):
        day = ruled_on(app.config, o)
        item["ruled_on"] = day.isoformat() if day else None
        item["verifiers"] = [{"code": c, "name": named.get(c, c)} for c in as_list(o.resolution_verifiers)]


def require_case_reader(app: App, actor: Actor, case_id: int) -> str:
    """The case's region, if the case exists and lies in the actor's jurisdiction; NotFound or
    AuthError (auth.jurisdiction) otherwise. Checked before anything else an answer could reveal."""
    with app.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case_id)).scalar()
    if region is None:
        raise NotFound("case.unknown", case=case_id)
    require_reader(app, actor, region)
    return region
