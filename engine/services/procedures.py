"""Carrying out procedure steps on cases, with every rule of DOMAIN.md §4.

A step loads the facts of every case of a batch once (a village's list: one meeting, one notice),
asks `can_proceed` for each (the same answer `case next` shows) and refuses with the first unmet
condition; otherwise it writes every case in one transaction with its audit events.
"""
from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence, TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.collector import fewer_collections
from engine.adapters.bulk import COPY_FROM, insert_many, insert_rows, next_ids
from engine.adapters.direct import Direct
from engine.adapters.uow import CaseEvent, judged_again
from engine.adapters.repository import SqlCaseRepository, held_evidence
from engine.domain.auth import Actor
from engine.domain.cases import SIGNING_TYPES, CaseRow, OpenProcedure, StepInput
from engine.domain.errors import (AuthError, BadInput, CaseChanged, JingzhunError, Msg, NotFound, RuleViolation,
                                  own_words, stored)
from engine.domain.evidence import content_hash
from engine.domain.facts import CaseFacts, beside, runs_beside
from engine.domain.guards import raise_first
from engine.domain.lifecycle import CaseModel
from engine.domain.monitoring import columns as monitoring_columns, period_years
from engine.domain.record_digests import attrs_digest, notice_digest, text_digest
from engine.domain.regions import common_ancestor, level_of
from engine.services import deadlines, handover, steptypes
from engine.services.context import StepContext, needed_first
from engine.services.guards import Verdict, can_proceed
from engine.services.responsibility import Completed, for_event, name_responsible, record_responsible
from engine.services.org import refuse_read_only, require_reader
from engine.services.rejections import Rejected, tell_of_rejections

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import ProcedureDef, StepDef, WorkflowDef

_INSERT_PROCEDURE = Direct(insert(t.procedures).returning(t.procedures.c.id))
_INSERT_PROCEDURES = insert(t.procedures).returning(t.procedures.c.id, sort_by_parameter_order=True)
PROCEDURE_COLUMNS = ("id", "case_id", "kind", "status", "from_stage", "to_stage", "started_by", "started_at",
                     "policy_version")
_PROCEDURE_VALUES = itemgetter(*PROCEDURE_COLUMNS[1:])     # a new procedure's row, after its id
_INSERT_STEP = insert(t.steps)
STEP_COLUMNS = tuple(c.name for c in t.steps.columns if c.name != "id")
_INSERT_NOTICE_CASE = insert(t.notice_cases)
_END_PROCEDURE = update(t.procedures).where(t.procedures.c.id == bindparam("b_id"))


def evidence_ref(row) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "hash": row.content_hash, "file": row.file_sha256}


@dataclass
class StepOutcome:
    case_id: int
    procedure_id: int
    step_key: str
    decision: str
    from_stage: str
    to_stage: str
    procedure_status: str
    notice_id: int | None = None
    version: int | None = None       # the case's version after the step (a client's next expect_version)
    kind: str = "household"          # the case's kind: its stages are said in its own words
    announced: bool = False          # its notice is an announcement (公告), said as one


@dataclass
class _Plan:
    case: CaseRow
    open_proc: OpenProcedure | None
    role: str
    role_region: str
    decision: str
    reason: str | None
    data: dict
    evidence_refs: list
    ctx: StepContext
    new_stage: str
    proc_status: str
    notice_days: int | None = None
    notice_end: date | None = None      # the day after the notice's last, once it is posted
    beside: bool = False                # run beside the case's open procedure, which stays as it was


def perform_step(app: App, actor: Actor, procedure: str, step_key: str, case_ids: Sequence[int],
                 inputs: StepInput | None = None) -> list[StepOutcome]:
    """Do one step of `procedure` on every case of `case_ids` (all or none). A case outside the actor's
    jurisdiction is refused for that first, before any rule of the step could tell of it (its open
    procedure, its stage); the server's callers say it as unknown. A list refused names every refused
    case, an unknown one or one out of reach too (`refused_cases`, as `perform_each` refuses them)."""
    return _perform(app, actor, procedure, step_key, case_ids, inputs, each=False,
                    readable=lambda case: require_reader(app, actor, case.region_code, f"{procedure}.{step_key}"))[0]


def perform_each(app: App, actor: Actor, procedure: str, step_key: str, case_ids: Sequence[int],
                 inputs: StepInput | None = None,
                 readable: Callable[[CaseRow], None] = lambda case: None) -> tuple[list[StepOutcome], dict[int, list]]:
    """Do the step on every case of the list that meets its rules, in one transaction (one meeting, one
    notice, one batch id), and refuse each other case with every rule it does not meet (violations, or
    the error its step raised). The list is read and judged once, in the transaction that writes.
    A case unknown, or one `readable(case)` raises for (a case the actor may not read), is refused
    with that error, as `check_step` would raise it for that case alone."""
    return _perform(app, actor, procedure, step_key, case_ids, inputs, each=True, readable=readable)


def _perform(app: App, actor: Actor, procedure: str, step_key: str, case_ids: Sequence[int],
             inputs: StepInput | None, each: bool, readable: Callable[[CaseRow], None] = lambda case: None
             ) -> tuple[list[StepOutcome], dict[int, list]]:
    inputs = inputs or StepInput()
    case_ids = list(dict.fromkeys(case_ids))
    refuse_read_only(app, actor, f"{procedure}.{step_key}")
    today = _refuse_bad_call(app, case_ids, inputs)
    effective = inputs.date or today
    new_files: list[str] = []       # a file this call brought to the store: gone again if it writes nothing
    try:      # a case another writer changed meanwhile: the list judged again (the case done already, say)
        return judged_again(lambda: _perform_in(app, actor, procedure, step_key, case_ids, inputs, each, readable,
                                                effective, new_files))
    except BaseException:
        app.evidence.discard(new_files)
        raise


def _perform_in(app: App, actor: Actor, procedure: str, step_key: str, case_ids: list[int], inputs: StepInput,
                each: bool, readable: Callable[[CaseRow], None], effective: date,
                new_files: list[str]) -> tuple[list[StepOutcome], dict[int, list]]:
    # (a list makes thousands of objects that live until it is written: see fewer_collections)
    with fewer_collections() if len(case_ids) > 1 else nullcontext(), app.transaction() as conn:
        repo = SqlCaseRepository(conn, read_ahead=len(case_ids) == 1)     # one round trip for its facts
        whole = each or len(case_ids) > 1         # a list is judged whole, all or none too: every refusal named
        cases, refused = _listed(repo, case_ids, readable, whole)
        if not cases:
            if not each:
                _refuse_list(case_ids, cases, refused, lambda first: None)
            return [], refused
        workflow, proc_def, step = _resolve(app, cases.values(), procedure, step_key)
        steptypes.refuse_foreign_inputs(step, inputs)
        minutes = _stored_minutes(app, inputs, new_files)
        wanted = proc_def.evidence_types() if step.type in SIGNING_TYPES or step.checks else step.evidence
        facts = repo.facts(list(cases.values()), wanted, actor.person_id, step.type in SIGNING_TYPES,
                           kept=workflow.per_procedure_types())
        facts = {cid: beside(f, procedure, proc_def) for cid, f in facts.items()}     # (a pairing change)
        batch: dict[Any, Any] = {}
        plans = []
        for cid in cases:
            try:
                plans.append(_plan_case(app, conn, actor, procedure, proc_def, step, facts[cid], inputs, effective,
                                        batch, whole))
            except _Refused as why:
                refused[cid] = why.reasons
        if refused and not each:
            _refuse_list(case_ids, cases, refused, lambda first: _plan_case(
                app, conn, actor, procedure, proc_def, step, facts[first], inputs, effective, {}, False))
        if not plans:
            app.evidence.discard(new_files)
            return [], refused
        notice_id = _post_notice(app, conn, actor, procedure, step, plans, effective)
        if minutes is not None:
            _bring_minutes(app, conn, actor, step, plans, minutes, effective)
        listed = {c: refused[c] for c in case_ids if c in refused} if each else {}
        outcomes = _write_all(app, conn, actor, workflow, procedure, proc_def, step, plans, effective, notice_id,
                              listed, {cases[c].region_code for c in listed if c in cases})
        if notice_id is not None:
            _record_text(app, conn, actor, notice_id)
        return outcomes, refused


def _stored_minutes(app: App, inputs: StepInput, new_files: list[str]) -> tuple[str, str] | None:
    """An appraisal's minutes, stored once for the whole list (a photo or scan, told by its content:
    anything else refused, naming the file, before any case is judged): their SHA-256 and file name."""
    if inputs.minutes is None:
        return None
    path = Path(inputs.minutes)
    sha, created = app.evidence.put(path)
    if created:
        new_files.append(sha)
    return sha, path.name


def _bring_minutes(app: App, conn: Connection, actor: Actor, step: StepDef, plans: list[_Plan],
                   minutes: tuple[str, str], effective: date) -> None:
    """The minutes an appraisal came with, an evidence item of each case it was done on (one file for
    the list), named in the step's record as an application names the items it was done with: the trace
    and dossier show it with its hash, replacing it voids the appraisal. The minutes of an earlier
    meeting of the same procedure stay in the record, superseded by these; an earlier procedure's
    minutes (the identification's, for an exit's proposal) stay its record, side by side with these."""
    sha, name = minutes
    digest, now = content_hash(steptypes.MINUTES, {}, sha), app.clock.now()
    kept = app.config.workflows[plans[0].case.kind].evidence_types[steptypes.MINUTES].per_procedure
    held = held_evidence(conn, steptypes.MINUTES, [p.case.id for p in plans], kept)
    ids = next_ids(conn, t.evidence, len(plans))
    insert_many(conn, _INSERT_EVIDENCE, t.evidence, EVIDENCE_COLUMNS, [
        {"id": i, "case_id": p.case.id, "type": steptypes.MINUTES, "fields": {}, "file_sha256": sha, "file_name": name,
         "content_hash": digest, "attached_by": actor.person_id, "attached_at": now, "superseded_by": None,
         "supersede_reason": None} for i, p in zip(ids, plans)])
    reason = stored(Msg("evidence.later_minutes", {"step": step.key, "date": effective.isoformat()}))
    earlier = [{"b_old": held[p.case.id].id, "b_new": i, "b_reason": reason} for i, p in zip(ids, plans)
               if p.case.id in held]
    if earlier:
        conn.execute(_SUPERSEDE_MINUTES, earlier)
    for i, p in zip(ids, plans):
        p.evidence_refs.append({"id": i, "type": steptypes.MINUTES, "hash": digest, "file": sha})


_INSERT_EVIDENCE = insert(t.evidence)
EVIDENCE_COLUMNS = tuple(c.name for c in t.evidence.columns)
_SUPERSEDE_MINUTES = update(t.evidence).where(t.evidence.c.id == bindparam("b_old")).values(
    superseded_by=bindparam("b_new"), supersede_reason=bindparam("b_reason"))


def _listed(repo: SqlCaseRepository, case_ids: list[int], readable: Callable[[CaseRow], None],
            each: bool) -> tuple[dict[int, CaseRow], dict[int, list]]:
    """The cases the list may go on with, and those it may not: a case unknown, or one `readable`
    refuses. `each` (a list, all or none too): each such case refused with its error, the list going
    on without it; else (one case) its error raised."""
    try:
        found, missing = repo.cases(case_ids), None
    except NotFound as exc:      # which ones, as reading each case in turn says it
        found, missing = None, exc
    cases, refused = {}, {}
    for c in case_ids:
        try:
            case = found[c] if found is not None else repo.cases([c])[c]
            readable(case)
        except JingzhunError as exc:
            if not each:
                raise (missing if isinstance(exc, NotFound) and missing is not None else exc) from None
            refused[c] = [exc]
            continue
        cases[c] = case
    return cases, refused


def _refuse_list(case_ids: list[int], judged: dict[int, CaseRow], refused: dict[int, list],
                 alone: Callable[[int], object]) -> None:
    """All or none, refused: what the list's first refused case alone raises (`alone(case)` for a case
    it judged; an unknown case, or one out of reach, raises its own error), carrying every refused case
    of the list, in the list's order, and its reasons in `refused_cases`, for the entry point to list them."""
    refused = {c: refused[c] for c in case_ids if c in refused}
    first = next(iter(refused))
    try:
        if first in judged:
            alone(first)
        if isinstance(refused[first][0], JingzhunError):     # judged alone it passed: as the list judged it
            raise refused[first][0]
        raise_first(refused[first])
    except JingzhunError as exc:
        exc.refused_cases = refused
        raise


class _Refused(Exception):
    """A case of a list refused (the list goes on without it): every violation, or the error raised."""

    def __init__(self, reasons: list):
        super().__init__()
        self.reasons = reasons


def _record_text(app: App, conn: Connection, actor: Actor, notice_id: int) -> None:
    """The notice's text as posted, kept with it, and its digest in the log (`audit verify` compares)."""
    from engine.services.notices import store_rendered
    text = store_rendered(app, conn, notice_id)
    region = conn.execute(select(t.notices.c.region_code).where(t.notices.c.id == notice_id)).scalar()
    app.work_on(conn).append_org_event(actor, "notice_posted", None, region, notice=notice_id, text=text_digest(text))


def _refuse_bad_call(app: App, case_ids: list[int], inputs: StepInput) -> date:
    """Refuses a call no case could answer; returns today (the office's day)."""
    if not case_ids:
        raise BadInput("step.no_cases")
    if inputs.expect_version is not None and len(case_ids) != 1:
        raise BadInput("step.expect_version_single")
    if len(case_ids) > 1 and (inputs.votes_for is not None or inputs.votes_against is not None):
        # one vote for a list gives every household the same numbers: a record that cannot be true
        raise BadInput("step.shared_votes", count=len(case_ids))
    today = app.clock.today()
    if inputs.date is not None and inputs.date > today:
        raise RuleViolation("date.future", date=inputs.date, today=today)
    return today


def _resolve(app: App, cases, procedure: str, step_key: str) -> tuple[WorkflowDef, ProcedureDef, StepDef]:
    """The workflow, procedure and step named, for cases of one kind."""
    kinds = {c.kind for c in cases}
    if len(kinds) != 1:
        raise BadInput("step.mixed_kinds")
    workflow = app.config.workflows[kinds.pop()]
    proc_def = workflow.procedures.get(procedure)
    if proc_def is None:
        raise BadInput("procedure.unknown", procedure=procedure, known=", ".join(workflow.procedures))
    try:
        return workflow, proc_def, proc_def.step(step_key)
    except KeyError:
        raise BadInput("step.unknown", procedure=procedure, step=step_key,
                       known=", ".join(s.key for s in proc_def.steps)) from None


def _post_notice(app: App, conn: Connection, actor: Actor, procedure: str, step: StepDef, plans: list[_Plan],
                 effective: date) -> int | None:
    if step.type == "announcement":
        return _post_announcement(app, conn, actor, procedure, step, plans, effective)
    if step.type != "notice":
        return None
    end, working = _notice_end(app, plans[0], step, effective)
    for plan in plans:
        plan.notice_end = end
    return conn.execute(insert(t.notices).values(
        scope=step.scope, region_code=_notice_region(plans, step.scope),
        procedure_kind=procedure, step_key=step.key, start_date=effective, end_date=end,
        days_required=plans[0].data["days_required"], posted_by=actor.person_id,
        posted_at=app.clock.now(), working_days=working)).inserted_primary_key[0]


def _post_announcement(app: App, conn: Connection, actor: Actor, procedure: str, step: StepDef,
                       plans: list[_Plan], effective: date) -> int:
    """公告: the result published, a document kept like a notice (its text as posted, its digest in the
    log) and listed with the notices, posted where its households are (the lowest region holding them
    all: a village's list is posted in that village) on the day of the step. It runs no period and takes
    no objection (engine.domain.facts.announced: no days); the office that issues it is the signer's."""
    region = common_ancestor(p.case.region_code for p in plans)
    return conn.execute(insert(t.notices).values(
        scope=level_of(region), region_code=region, procedure_kind=procedure, step_key=step.key,
        start_date=effective, end_date=effective, days_required=0, posted_by=actor.person_id,
        posted_at=app.clock.now(), working_days=False)).inserted_primary_key[0]


def _notice_end(app: App, plan: _Plan, step: StepDef, start: date) -> tuple[date, bool]:
    """When a notice ends: its days counted as calendar days, or as Chinese working days when the
    policy lists its kind under `notice_working_days` (holidays and make-up days from the calendar)."""
    if step.days not in plan.ctx.params.get("notice_working_days", ()):
        return start + timedelta(days=plan.notice_days), False
    from engine.domain.deadline_rules import compiled
    rules = compiled(app.config)
    if rules is None:
        raise RuleViolation("notice.no_calendar", rule=step.days)
    counted = rules.calendar.add(start, plan.notice_days, "working")
    if counted.provisional:
        raise RuleViolation("notice.unknown_year", rule=step.days, year=counted.day.year)
    return counted.day, True


def _notice_region(plans: list[_Plan], scope: str) -> str:
    from engine.domain.regions import ancestor
    regions = {ancestor(p.case.region_code, scope) for p in plans}
    if len(regions) != 1:
        raise BadInput("notice.mixed_regions", scope=scope, regions=", ".join(sorted(regions)))
    return regions.pop()


def _plan_case(app: App, conn: Connection, actor: Actor, procedure: str, proc_def: ProcedureDef, step: StepDef,
               facts: CaseFacts, inputs: StepInput, effective: date, batch: dict, each: bool = False) -> _Plan:
    """Check one case of the list (`can_proceed`, first violation refused) and plan what to write. For
    a list done `each` on its own, every violation, or an error the step raised, is the case's `_Refused`."""
    try:
        return _plan(app, conn, actor, procedure, proc_def, step, facts, inputs, effective, batch, each)
    except JingzhunError as exc:
        if not each:
            raise
        raise _Refused([exc]) from None


def _plan(app: App, conn: Connection, actor: Actor, procedure: str, proc_def: ProcedureDef, step: StepDef,
          facts: CaseFacts, inputs: StepInput, effective: date, batch: dict, each: bool = False) -> _Plan:
    case = facts.case
    if inputs.expect_version is not None and inputs.expect_version != case.version:
        raise CaseChanged(case.id, expected=inputs.expect_version, found=case.version)
    verdict = can_proceed(app, conn, actor, facts, procedure, step, effective, inputs, batch)
    if each and verdict.violations:
        raise _Refused(verdict.violations)
    raise_first(verdict.violations)
    ctx, effect = verdict.ctx, verdict.effect
    data = dict(effect.data)
    if effect.decision != "rejected":
        handler = app.rules[case.kind].handlers.get(step.type)
        if handler is not None:
            handler(ctx)
        data.update(ctx.data)   # what the checks and handler used (e.g. the income line) is recorded
    refs_types = proc_def.evidence_types() if step.type in SIGNING_TYPES else step.evidence
    refs = [evidence_ref(facts.evidence[e]) for e in refs_types if e in facts.evidence]
    case.attrs["last_step_on"], case.attrs["last_step"] = effective.isoformat(), step.key
    new_stage, status = _move(app, ctx, proc_def, effect.decision, verdict)
    # a handler may record the step's reason in the engine's words (a type corrected: from what to what, why)
    reason = data.pop("recorded_reason", None) or own_words((inputs.reason or "").strip()) or data.get("outcome")
    return _Plan(case, facts.open_proc, verdict.assignment.role, verdict.assignment.region_code, effect.decision,
                 reason, data, refs, ctx, new_stage, status, effect.notice_days,
                 beside=runs_beside(case, procedure, proc_def))


def _move(app: App, ctx: StepContext, proc_def: ProcedureDef, decision: str, verdict: Verdict) -> tuple[str, str]:
    """The stage and procedure status after the step: the machine's guarded transition fires when the
    step ends the procedure (approved: forward; rejected with `reject_to`: back). A rejection at a step
    whose rejection does not end it (`reject_ends: false`) is recorded and the procedure goes on."""
    case, procedure, lifecycle = ctx.case, ctx.procedure, app.lifecycles[ctx.case.kind]
    model = CaseModel(case.id, case.stage, verdict.violations)
    if decision == "rejected" and ctx.step.reject_ends:
        new_stage = lifecycle.reject(model, procedure)[1] if proc_def.reject_to is not None else case.stage
        _run_effects(app, ctx, proc_def.on_reject)
        return new_stage, "rejected"
    if ctx.step.key != proc_def.steps[-1].key:
        return case.stage, "open"
    _, moved = lifecycle.complete(model, procedure)
    _run_effects(app, ctx, proc_def.on_complete)
    return (case.stage if proc_def.to is None else moved), "completed"


def _run_effects(app: App, ctx: StepContext, names: Sequence[str]) -> None:
    for effect in names:
        app.rules[ctx.case.kind].effects[effect](ctx, ctx.case.attrs)


def _write_all(app, conn, actor, workflow, procedure, proc_def, step, plans: list[_Plan], effective,
               notice_id, refused: dict[int, list] | None = None, refused_regions: set[str] = frozenset()
               ) -> list[StepOutcome]:
    """Write every planned step: one statement per table for the whole list (executemany). A list
    done `each` that refused cases (`refused`, in the list's order) records them beside its steps."""
    now = app.clock.now()
    changes, step_rows, links, ended, outcomes = [], [], [], [], []
    proc_ids = _procedure_ids(app, conn, actor, procedure, proc_def, plans, now)
    posted = notice_digest(conn.execute(select(t.notices).where(t.notices.c.id == notice_id)).first()) \
        if notice_id is not None else None
    responsible = name_responsible(conn, [
        Completed(p.case.id, p.case.region_code, proc_id, procedure, p.new_stage, proc_def,
                  (step.key, actor.person_id, p.role, p.role_region, p.data), effective, p.case.attrs)
        for p, proc_id in zip(plans, proc_ids) if p.proc_status == "completed"], now, app.policy_version)
    batch = {"batch": uuid.uuid4().hex[:16], "batch_size": len(plans)} if len(plans) > 1 or refused else {}
    for p, proc_id in zip(plans, proc_ids):
        case = p.case
        pending = (None, None) if p.beside else _pending(app, conn, workflow, proc_def, procedure, p, step)
        detail = {"procedure": procedure, "procedure_status": p.proc_status, "effective_date": effective,
                  "data": {k: v for k, v in p.data.items() if k != "verifier_ids"}, "notice_id": notice_id,
                  **batch, "attrs_digest": attrs_digest(case.attrs)}   # a list step: one batch id on every case's event
        if proc_id in responsible:
            detail["responsibility"] = for_event(responsible[proc_id])
        if posted is not None:
            detail["notice_digest"] = posted      # the notice's dates and days as posted (audit verify)
        values = {"stage": p.new_stage, "attrs": case.attrs, "updated_at": now}
        if not p.beside:        # beside the open procedure: the case still waits for its step
            values.update({"open_procedure_id": proc_id if p.proc_status == "open" else None,
                           "pending_procedure": pending[0], "pending_step": pending[1]})
        changes.append(CaseEvent(case, {
            "action": "step", "role": p.role, "from_stage": case.stage,
            "to_stage": p.new_stage if p.new_stage != case.stage else None, "procedure_id": proc_id,
            "step_key": step.key, "decision": p.decision, "reason": p.reason, "evidence_hashes": p.evidence_refs,
            "detail": detail}, values))
        step_rows.append({
            "procedure_id": proc_id, "case_id": case.id, "step_key": step.key, "step_type": step.type,
            "person_id": actor.person_id, "role": p.role, "role_region": p.role_region, "decision": p.decision,
            "reason": p.reason, "effective_date": effective, "recorded_at": now, "data": p.data,
            "evidence_hashes": p.evidence_refs, "notice_id": notice_id, "policy_version": app.policy_version,
            "voided_at": None, "voided_reason": None})
        if notice_id is not None:
            links.append({"notice_id": notice_id, "case_id": case.id, "procedure_id": proc_id})
        if p.proc_status != "open":
            ended.append({"b_id": proc_id, "status": p.proc_status, "ended_at": now, "outcome_reason": p.reason})
        outcomes.append(StepOutcome(case.id, proc_id, step.key, p.decision, case.stage, p.new_stage,
                                    p.proc_status, notice_id, kind=case.kind, announced=step.type == "announcement"))
    if any(p.proc_status == "completed" for p in plans) and plans[0].case.kind == "household":
        for change, p in zip(changes, plans):     # its monitoring and transition period, as its lists read them
            change.values.update(monitoring_columns(p.new_stage, p.case.attrs,
                                                    period_years(app.config.policy, p.case.province)))
    if all(p.new_stage == p.case.stage for p in plans):     # an indexed column set to its own value still
        for change in changes:                                # rewrites its index entry (SQLite): leave it out
            del change.values["stage"]
    # The version checks (every case still at the version its rules were checked against) and the events.
    app.work_on(conn).append_case_events(actor, changes, now)
    if refused:
        _record_refused(app, conn, actor, procedure, step, plans, refused, refused_regions, batch["batch"], now)
    for outcome, p in zip(outcomes, plans):
        outcome.version = p.case.version
    insert_many(conn, _INSERT_STEP, t.steps, STEP_COLUMNS, step_rows)
    if links:
        conn.execute(_INSERT_NOTICE_CASE, links)
    for p, proc_id in zip(plans, proc_ids):
        p.ctx.procedure_id = proc_id
        for write in p.ctx.writes:
            write(conn)
    if ended:
        conn.execute(_END_PROCEDURE, ended)
    record_responsible(conn, responsible)
    deadlines.after_steps(app, conn, workflow, procedure, step, plans, outcomes, now)   # DOMAIN §6, same transaction
    if step.type == "pairing":      # pairing cadres named: their households' deadlines go to them now
        handover.pairing_named(app, conn, [o.case_id for o in outcomes], now)
    # those who did its earlier steps hear of a procedure rejected, in the same transaction
    tell_of_rejections(app, conn, actor, procedure, step.key, [
        Rejected(p.case, p.open_proc, p.role, p.reason, proc_id) for p, proc_id in zip(plans, proc_ids)
        if p.proc_status == "rejected"], effective, now)
    return outcomes


def _record_refused(app: App, conn: Connection, actor: Actor, procedure: str, step: StepDef, plans: list[_Plan],
                    refused: dict[int, list], regions: set[str], batch: str, now) -> None:
    """The cases a list done `each` refused, in one organisation event under the batch id its steps carry
    (the issue's "every case: done or refused with its rule"): each case as given with its rule codes (a
    policy check's failures by their codes too), one unknown or outside the actor's reach as `case.unknown`
    (as a client of the server is told it: nothing said of a case they may not see), no rendered text.
    Filed at the lowest region covering the cases it judged, as an import is."""
    cases = []
    for case_id, reasons in refused.items():
        entry: dict[str, Any] = {"case": case_id, "rules": ["case.unknown"] if out_of_reach(reasons) else
                                 [why.code for why in reasons]}
        failures = [f[0] for why in reasons if not out_of_reach(reasons)
                    for f in (getattr(why, "params", None) or {}).get("failures") or ()]
        if failures:
            entry["failures"] = failures
        cases.append(entry)
    where = common_ancestor({p.case.region_code for p in plans} | regions)
    app.work_on(conn).append_org_event(actor, "list_refused", plans[0].role, where, at=now, procedure=procedure,
                                       step=step.key, batch=batch, done=len(plans), refused=len(refused), cases=cases)


def out_of_reach(reasons: list) -> bool:
    """Whether a list refused a case for want of jurisdiction (a case its reader may not see)."""
    return any(isinstance(w, AuthError) and w.code == "auth.jurisdiction" for w in reasons)


def _procedure_ids(app, conn, actor, procedure: str, proc_def: ProcedureDef, plans: list[_Plan], now) -> list[int]:
    """Each case's open procedure, or a new one that this step opens (a list's: one INSERT for all)."""
    opening = [p for p in plans if p.open_proc is None or p.open_proc.id is None]
    rows = [{"case_id": p.case.id, "kind": procedure, "status": "open", "from_stage": p.case.stage,
             "to_stage": proc_def.to, "started_by": actor.person_id, "started_at": now,
             "policy_version": app.policy_version} for p in opening]
    if len(rows) == 1:
        new = iter([_INSERT_PROCEDURE.rows(conn, rows[0])[0].id])
    elif len(rows) < COPY_FROM:
        new = iter(conn.execute(_INSERT_PROCEDURES, rows).scalars().all() if rows else [])
    else:   # a list's: the ids reserved first, then the rows as a batch (an INSERT … RETURNING of a
        ids = next_ids(conn, t.procedures, len(rows))       # thousand rows took PostgreSQL ~100 ms to plan)
        insert_rows(conn, t.procedures, PROCEDURE_COLUMNS, [(i, *_PROCEDURE_VALUES(r)) for i, r in zip(ids, rows)])
        new = iter(ids)
    return [next(new) if p.open_proc is None or p.open_proc.id is None else p.open_proc.id for p in plans]


def _pending(app: App, conn: Connection, workflow: WorkflowDef, proc_def: ProcedureDef, procedure: str,
             p: _Plan, step: StepDef) -> tuple[str | None, str | None]:
    if p.proc_status == "open":
        done = (len(p.open_proc.steps) if p.open_proc else 0) + 1
        return procedure, proc_def.steps[done].key
    return pending_after_end(app, workflow, p.case, p.new_stage, p.proc_status, conn, proc_def, step)


NOT_INCLUDED_KIND = "household"     # the kind whose rejected applicants are counted apart (engine.reads.standing)


def not_included(workflow: WorkflowDef, kind: str, stage: str, status: str, proc_def: ProcedureDef | None = None,
                 step: StepDef | None = None) -> bool:
    """A procedure that ended `status` at `step` (None: an objection upheld at its notice) leaves the case
    not included (未通过识别): a household applicant whose identification the villagers' vote, the
    verification, an objection upheld or the final approval (县级审定) turned down. That is an outcome of
    the identification, not a refusal to put right: the case waits for nothing (it leaves every list of
    work) and may apply again, a new application in a later round (its case page offers the application).
    A review on the way (the township's 审核, a sign-off before the last) sends the application back to be
    put right and done again, as a refusal elsewhere does (an exit, a plan)."""
    if not (kind == NOT_INCLUDED_KIND and status == "rejected" and stage == workflow.initial):
        return False
    if step is None or proc_def is None or step.type != "signoff":
        return True
    return step.key == [s.key for s in proc_def.steps if s.type == "signoff"][-1]


def pending_after_end(app: App, workflow: WorkflowDef, case, stage: str, status: str,
                      conn: Connection | None = None, proc_def: ProcedureDef | None = None,
                      step: StepDef | None = None) -> tuple[str | None, str | None]:
    """What a case waits for once its procedure ended `status` at `stage` (at `step`; None: an objection
    upheld): nothing when that leaves it not included (`not_included`), else what a case at its stage
    waits for (`pending_for_case`)."""
    if not_included(workflow, case.kind, stage, status, proc_def, step):
        return None, None
    return pending_for_case(app, workflow, case, stage, conn)


def pending_for_case(app: App, workflow: WorkflowDef, case, stage: str,
                     conn: Connection | None = None) -> tuple[str | None, str | None]:
    """What a case at `stage` with no procedure open waits for: what it needs first (a reopened
    household's new plan), else its stage's main path."""
    needed = needed_first(app, SimpleNamespace(id=case.id, kind=case.kind, stage=stage, attrs=case.attrs), conn)
    return pending_for_stage(workflow, stage, needed[0] if needed else None)


def pending_for_stage(workflow: WorkflowDef, stage: str, needed: str | None = None) -> tuple[str | None, str | None]:
    name = needed or workflow.main_path.get(stage)
    if name is None:
        return None, None
    return name, workflow.procedures[name].steps[0].key
