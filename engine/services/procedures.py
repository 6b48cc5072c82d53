"""Carrying out procedure steps on cases, with every rule of DOMAIN.md §4.

A step is checked for all cases of a batch first (a village's list: one meeting, one notice) and
then written in one transaction with its audit events; a refusal writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from config import ProcedureDef, StepDef, WorkflowDef
from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.uow import CaseEvent
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, CaseChanged, NotFound, RuleViolation
from engine.domain.evidence import content_hash
from engine.domain.lifecycle import CaseModel
from engine.services.org import persons_holding, require_role
from engine.domain.regions import province_of
from engine.services.responsibility import Completed, for_event, name_responsible, record_responsible
from engine.services import deadlines

SIGNING_TYPES = ("signoff", "announcement")


@dataclass
class StepInput:
    """What a person enters for a step; which fields matter depends on the step type."""
    date: date | None = None
    decision: str | None = None          # approve | reject (sign-off, verification)
    reason: str | None = None
    attendance: int | None = None        # appraisal
    votes_for: int | None = None
    votes_against: int | None = None
    verifiers: tuple[str, ...] = ()      # verification: person codes
    days: int | None = None              # notice
    first_cadre: str | None = None       # pairing
    second_cadre: str | None = None
    pairings: dict[int, tuple[str, str | None]] = field(default_factory=dict)   # a list: case -> cadres
    measures: tuple[tuple[str, str], ...] = ()   # plan: (category, description)
    assignee: str | None = None          # assign (problem items): the responsible person's code
    lead_unit: str | None = None
    responsible_unit: str | None = None
    due: date | None = None
    # fund projects (workflows/project.py); amounts are decimal strings, read exactly by the workflow
    funds: tuple[tuple[str, str, str | None], ...] = ()        # allocate / change: (source, amount, document)
    milestones: tuple[tuple[str, str], ...] = ()               # schedule: (name, date or -N days before completion)
    milestone: str | None = None                               # milestone: its name or number
    assets: tuple[tuple[str, str, str, str, int | None], ...] = ()   # handover: (class, name, value, owner, case)
    completion: date | None = None                             # change: new planned completion date
    add_beneficiaries: tuple[int, ...] = ()                    # change: household cases
    remove_beneficiaries: tuple[int, ...] = ()
    expect_version: int | None = None


@dataclass
class CaseRow:
    id: int
    kind: str
    region_code: str
    title: str
    stage: str
    version: int
    attrs: dict
    event_count: int
    last_event_hash: str | None
    open_procedure_id: int | None = None
    pending_procedure: str | None = None

    @property
    def province(self) -> str:
        return province_of(self.region_code)


@dataclass
class StepRecord:
    id: int
    step_key: str
    step_type: str
    person_id: int
    decision: str
    effective_date: date
    data: dict
    evidence_hashes: list
    notice_id: int | None


@dataclass
class OpenProcedure:
    id: int
    kind: str
    steps: list[StepRecord] = field(default_factory=list)


@dataclass
class StepContext:
    """Everything a policy check or step handler may look at; handlers add rows to `writes`."""
    app: App
    conn: Connection
    actor: Actor
    case: CaseRow
    procedure: str
    step: StepDef
    effective_date: date
    inputs: StepInput
    evidence: dict[str, Any]               # current evidence by type
    writes: list[Callable[[Connection], Any]] = field(default_factory=list)   # run at write time
    data: dict[str, Any] = field(default_factory=dict)                        # recorded with the step
    batch: dict[Any, Any] = field(default_factory=dict)   # shared by the cases of one list
    _members: list | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.app.config.policy.params(self.case.province, self.effective_date.year)

    def income_line(self, year: int) -> tuple[float, str]:
        """The line of the household's province for `year`, and where it came from."""
        found = self.app.config.policy.income_line(self.case.province, year)
        if found is None:
            raise RuleViolation("policy.no_income_line", province=self.case.province, year=year)
        return found

    def members(self) -> list:
        if self._members is None:
            self._members = self.conn.execute(_SELECT_MEMBERS, {"case_id": self.case.id}).all()
        return self._members


Check = Callable[[StepContext], list[str]]
Handler = Callable[[StepContext], None]
Effect = Callable[[StepContext, dict], None]


@dataclass(frozen=True)
class WorkflowRules:
    """The Python side of a workflow: policy checks, step handlers and completion effects."""
    checks: dict[str, Check]
    handlers: dict[str, Handler]
    effects: dict[str, Effect]
    # What `case next` shows besides the next step, computed now: figures(app, conn, case, lang) -> dict
    # with `lines` in words (a village: its incidence and the households behind it, team, coverage).
    figures: Callable[..., dict] | None = None


def step_roles(app: App, step: StepDef, region_code: str, day: date) -> tuple[str, ...]:
    """The roles that may do `step` on a case of `region_code` on `day`. A step whose approver level is
    configuration (`level_param`, e.g. county or city by province) keeps only the roles of that level."""
    if step.level_param is None:
        return step.roles
    level = app.config.policy.params(province_of(region_code), day.year)[step.level_param]
    return tuple(r for r in step.roles if app.config.roles[r].level == level)


# --- loading ----------------------------------------------------------------------------------

# Statements are built once with bound parameters: building them per call costs more than
# executing them (SQLAlchemy derives a cache key from every literal value).
_CASE_COLUMNS = select(
    t.cases.c.id, t.cases.c.kind, t.cases.c.region_code, t.cases.c.title, t.cases.c.stage, t.cases.c.version,
    t.cases.c.attrs, t.cases.c.event_count, t.cases.c.last_event_hash, t.cases.c.open_procedure_id,
    t.cases.c.pending_procedure)
# An expanding IN is re-compiled at every call; one case (the common case) gets a plain `=`.
_SELECT_CASES = _CASE_COLUMNS.where(t.cases.c.id.in_(bindparam("ids", expanding=True)))
_SELECT_CASE = _CASE_COLUMNS.where(t.cases.c.id == bindparam("id"))
_STEP_COLUMNS = select(
    t.steps.c.procedure_id, t.steps.c.id, t.steps.c.step_key, t.steps.c.step_type, t.steps.c.person_id,
    t.steps.c.decision, t.steps.c.effective_date, t.steps.c.data, t.steps.c.evidence_hashes, t.steps.c.notice_id,
).where(t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id)
_SELECT_STEPS = _STEP_COLUMNS.where(t.steps.c.procedure_id.in_(bindparam("ids", expanding=True)))
_SELECT_STEPS_ONE = _STEP_COLUMNS.where(t.steps.c.procedure_id == bindparam("id"))
_EVIDENCE_COLUMNS = select(t.evidence.c.id, t.evidence.c.case_id, t.evidence.c.type, t.evidence.c.fields,
                           t.evidence.c.file_sha256, t.evidence.c.content_hash
                           ).where(t.evidence.c.superseded_by.is_(None))
_SELECT_EVIDENCE = _EVIDENCE_COLUMNS.where(t.evidence.c.case_id.in_(bindparam("ids", expanding=True)))
_SELECT_EVIDENCE_ONE = _EVIDENCE_COLUMNS.where(t.evidence.c.case_id == bindparam("id"))
_INSERT_PROCEDURE = insert(t.procedures)
_INSERT_STEP = insert(t.steps)
_INSERT_NOTICE_CASE = insert(t.notice_cases)
_END_PROCEDURE = update(t.procedures).where(t.procedures.c.id == bindparam("b_id"))
_SELECT_MEMBERS = select(t.household_members).where(
    t.household_members.c.case_id == bindparam("case_id"), t.household_members.c.active.is_(True)
).order_by(t.household_members.c.id)
_RELATIVES_OF = select(t.relatives.c.case_id, t.relatives.c.relation).where(
    t.relatives.c.case_id.in_(bindparam("ids", expanding=True)), t.relatives.c.person_id == bindparam("person"))
_PAIRED_WITH = select(t.pairings.c.case_id).where(
    t.pairings.c.case_id.in_(bindparam("ids", expanding=True)), t.pairings.c.person_id == bindparam("person"),
    t.pairings.c.end_date.is_(None))


def load_cases(conn: Connection, case_ids: Sequence[int]) -> dict[int, CaseRow]:
    if len(case_ids) == 1:
        rows = conn.execute(_SELECT_CASE, {"id": case_ids[0]}).all()
    else:
        rows = conn.execute(_SELECT_CASES, {"ids": list(case_ids)}).all()
    found = {r.id: CaseRow(*r) for r in rows}
    missing = [str(i) for i in case_ids if i not in found]
    if missing:
        raise NotFound("case.unknown", case=", ".join(missing))
    return found


def load_open_procedures(conn: Connection, cases: Sequence[CaseRow]) -> dict[int, OpenProcedure]:
    """The open procedure of each case (found from the case row) with its steps still in force."""
    result = {c.id: OpenProcedure(c.open_procedure_id, c.pending_procedure)
              for c in cases if c.open_procedure_id is not None}
    if result:
        by_proc = {p.id: p for p in result.values()}
        rows = (conn.execute(_SELECT_STEPS_ONE, {"id": next(iter(by_proc))}) if len(by_proc) == 1
                else conn.execute(_SELECT_STEPS, {"ids": list(by_proc)}))
        for r in rows:
            by_proc[r.procedure_id].steps.append(StepRecord(*r[1:]))
    return result


def load_current_evidence(conn: Connection, case_ids: Sequence[int],
                          types: Sequence[str]) -> dict[int, dict[str, Any]]:
    result: dict[int, dict[str, Any]] = {i: {} for i in case_ids}
    if not types:
        return result
    # Filtering by type in Python keeps the statement's shape fixed (no second expanding IN).
    rows = (conn.execute(_SELECT_EVIDENCE_ONE, {"id": case_ids[0]}) if len(case_ids) == 1
            else conn.execute(_SELECT_EVIDENCE, {"ids": list(case_ids)}))
    wanted = set(types)
    for r in rows:
        if r.type not in wanted:
            continue
        result[r.case_id][r.type] = r
    return result


def evidence_ref(row) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "hash": row.content_hash, "file": row.file_sha256}


# --- checks shared by every step --------------------------------------------------------------

def next_step(proc_def: ProcedureDef, open_proc: OpenProcedure | None) -> StepDef | None:
    done = len(open_proc.steps) if open_proc else 0
    return proc_def.steps[done] if done < len(proc_def.steps) else None


def participants(open_proc: OpenProcedure | None) -> dict[int, str]:
    """person id -> the step they took part in, for everyone already in this procedure."""
    if open_proc is None:
        return {}
    seen = {}
    for s in open_proc.steps:
        seen.setdefault(s.person_id, s.step_key)
        for pid in s.data.get("verifier_ids", []):
            seen.setdefault(pid, s.step_key)
    return seen


def check_relied_evidence(app: App, conn: Connection, case: CaseRow, open_proc: OpenProcedure | None) -> None:
    """Evidence that earlier sign-offs relied on must still be exactly what they signed."""
    if open_proc is None:
        return
    relied = {e["id"]: (s, e) for s in open_proc.steps if s.step_type in SIGNING_TYPES
              for e in s.evidence_hashes}
    if not relied:
        return
    rows = {r.id: r for r in conn.execute(select(t.evidence).where(t.evidence.c.id.in_(list(relied))))}
    for eid, (s, ref) in relied.items():
        row = rows.get(eid)
        if row is None or row.superseded_by is not None or row.content_hash != ref["hash"] \
                or not evidence_intact(app, row):
            raise RuleViolation("evidence.tampered", case=case.id, evidence=eid, type=ref["type"],
                                step=s.step_key)


def evidence_intact(app: App, row) -> bool:
    """The row's fields and file still hash to what was recorded when it was attached."""
    return (content_hash(row.type, row.fields, row.file_sha256) == row.content_hash
            and (row.file_sha256 is None or app.evidence.intact(row.file_sha256)))


def _evidence_dated_before(workflow: WorkflowDef, case: CaseRow, step: StepDef, evidence: dict,
                           effective: date) -> None:
    """A step cannot rely on a document dated after it (an application signed after its appraisal)."""
    for etype in step.evidence:
        fields = workflow.evidence_types[etype].fields
        for name, kind in fields.items():
            value = evidence[etype].fields.get(name)
            if kind.rstrip("?") == "date" and value and date.fromisoformat(value) > effective:
                raise RuleViolation("date.evidence_after_step", case=case.id, type=etype, field=name, value=value,
                                    step=step.key, date=effective)


def _require_int(value: int | None, name: str) -> int:
    if value is None or value < 0:
        raise BadInput("step.need_number", field=name)
    return int(value)


def _decision(inputs: StepInput, default: str = "done") -> str:
    if inputs.decision is None:
        return default
    if inputs.decision not in ("approve", "reject"):
        raise BadInput("step.bad_decision", decision=inputs.decision)
    if inputs.decision == "reject" and not (inputs.reason and inputs.reason.strip()):
        raise BadInput("step.reason_required")
    return "approved" if inputs.decision == "approve" else "rejected"


# --- the step itself --------------------------------------------------------------------------

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


def perform_step(app: App, actor: Actor, procedure: str, step_key: str, case_ids: Sequence[int],
                 inputs: StepInput | None = None) -> list[StepOutcome]:
    """Do one step of `procedure` on every case of `case_ids` (all or none)."""
    inputs = inputs or StepInput()
    case_ids = list(dict.fromkeys(case_ids))
    if not case_ids:
        raise BadInput("step.no_cases")
    if inputs.expect_version is not None and len(case_ids) != 1:
        raise BadInput("step.expect_version_single")
    today = app.clock.today()
    effective = inputs.date or today
    if effective > today:
        raise RuleViolation("date.future", date=effective, today=today)
    with app.transaction() as conn:
        cases = load_cases(conn, case_ids)
        kinds = {c.kind for c in cases.values()}
        if len(kinds) != 1:
            raise BadInput("step.mixed_kinds")
        kind = kinds.pop()
        workflow = app.config.workflows[kind]
        proc_def = workflow.procedures.get(procedure)
        if proc_def is None:
            raise BadInput("procedure.unknown", procedure=procedure, known=", ".join(workflow.procedures))
        try:
            step = proc_def.step(step_key)
        except KeyError:
            raise BadInput("step.unknown", procedure=procedure, step=step_key,
                           known=", ".join(s.key for s in proc_def.steps)) from None
        _refuse_inputs_for_other_steps(step, inputs)
        open_procs = load_open_procedures(conn, list(cases.values()))
        wanted = proc_def.evidence_types() if step.type in SIGNING_TYPES or step.checks else step.evidence
        evidence = load_current_evidence(conn, case_ids, wanted)
        shared = _shared_lookups(conn, actor, step, case_ids, open_procs)
        plans = [_plan_case(app, conn, actor, workflow, procedure, proc_def, step, cases[cid],
                            open_procs.get(cid), evidence[cid], inputs, effective, shared)
                 for cid in case_ids]
        notice_id = None
        if step.type == "notice":
            end, working = _notice_end(app, plans[0], step, effective)
            notice_id = conn.execute(insert(t.notices).values(
                scope=step.scope, region_code=_notice_region(plans, step.scope),
                procedure_kind=procedure, step_key=step.key, start_date=effective, end_date=end,
                days_required=plans[0].data["days_required"], posted_by=actor.person_id,
                posted_at=app.clock.now(), working_days=working)).inserted_primary_key[0]
        outcomes = _write_all(app, conn, actor, workflow, procedure, proc_def, step, plans, effective, notice_id)
        if notice_id is not None:
            from engine.services.notices import store_rendered
            store_rendered(app, conn, notice_id)
        return outcomes


# Which inputs belong to which step type: anything else given is a mistake worth saying so.
_INPUT_TYPES = {"decision": ("signoff", "verification"), "attendance": ("appraisal",), "votes_for": ("appraisal",),
                "votes_against": ("appraisal",), "verifiers": ("verification",), "days": ("notice",),
                "first_cadre": ("pairing",), "second_cadre": ("pairing",), "pairings": ("pairing",),
                "measures": ("plan",), "assignee": ("assign",), "lead_unit": ("assign",),
                "responsible_unit": ("assign",), "due": ("assign",), "funds": ("allocate", "change"),
                "milestones": ("schedule",), "milestone": ("milestone",), "assets": ("handover",),
                "completion": ("change",), "add_beneficiaries": ("change",), "remove_beneficiaries": ("change",)}


def _refuse_inputs_for_other_steps(step: StepDef, inputs: StepInput) -> None:
    for name, types in _INPUT_TYPES.items():
        if getattr(inputs, name) not in (None, (), {}) and step.type not in types:
            raise BadInput("step.input_not_for_step", input=name, step=step.key, step_type=step.type)


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


def _shared_lookups(conn, actor, step, case_ids, open_procs) -> dict:
    """Look-ups done once for the whole batch rather than once per case."""
    shared: dict[str, Any] = {}
    if step.type in SIGNING_TYPES:
        params = {"ids": list(case_ids), "person": actor.person_id}
        shared["relative_of"] = {r.case_id: r.relation for r in conn.execute(_RELATIVES_OF, params)}
        shared["paired"] = {r.case_id for r in conn.execute(_PAIRED_WITH, params)}
    notice_ids = {p.steps[-1].notice_id for p in open_procs.values()
                  if p.steps and p.steps[-1].step_type == "notice"}
    if notice_ids:
        shared["notices"] = {n.id: n for n in conn.execute(select(t.notices).where(
            t.notices.c.id.in_(list(notice_ids))))}
        shared["open_objections"] = {(o.notice_id, o.case_id): o.id for o in conn.execute(
            select(t.objections.c.id, t.objections.c.notice_id, t.objections.c.case_id).where(
                t.objections.c.notice_id.in_(list(notice_ids)), t.objections.c.case_id.in_(case_ids),
                t.objections.c.resolution.is_(None)))}
    return shared


def _check_order(app: App, procedure: str, proc_def: ProcedureDef, step: StepDef, case: CaseRow,
                 open_proc: OpenProcedure | None) -> None:
    """Which procedure may run on the case now, and which of its steps is next."""
    if open_proc is not None and open_proc.kind != procedure:
        raise RuleViolation("procedure.other_open", case=case.id, open=open_proc.kind, wanted=procedure)
    if open_proc is None and procedure not in app.lifecycles[case.kind].procedures_from(case.stage):
        raise RuleViolation("stage.not_allowed", case=case.id, procedure=procedure, stage=case.stage)
    expected = next_step(proc_def, open_proc)
    if expected is None or expected.key != step.key:
        raise RuleViolation("step.order", case=case.id, step=step.key,
                            expected=expected.key if expected else "-")


def _check_people(app: App, actor: Actor, procedure: str, step: StepDef, case: CaseRow,
                  open_proc: OpenProcedure | None, shared: dict, effective: date | None = None):
    """Role and jurisdiction, then separation of duties; returns the assignment used and who took part."""
    roles = step_roles(app, step, case.region_code, effective or app.clock.today())
    if roles != step.roles and actor.first_role(roles, case.region_code) is None \
            and actor.first_role(step.roles, case.region_code) is not None:
        level = app.config.roles[roles[0]].level if roles else "-"
        raise RuleViolation("step.approver_level", case=case.id, person=actor.code, step=step.key, level=level,
                            param=step.level_param, province=case.province)
    assignment = require_role(app, actor, roles, case.region_code, f"{procedure}.{step.key}")
    taken = participants(open_proc)
    if actor.person_id in taken:
        raise RuleViolation("duty.same_person", case=case.id, person=actor.code, step=taken[actor.person_id])
    if step.type in SIGNING_TYPES:
        if case.id in shared["relative_of"]:
            raise RuleViolation("duty.relative", case=case.id, person=actor.code,
                                relation=shared["relative_of"][case.id])
        if case.id in shared["paired"]:
            raise RuleViolation("duty.pairing_cadre", case=case.id, person=actor.code)
    return assignment, taken


def _check_dates(app: App, step: StepDef, case: CaseRow, open_proc: OpenProcedure | None, effective: date,
                 shared: dict) -> None:
    """Dates in order (across procedures too), and a notice that has fully run with no open objection."""
    last_on = case.attrs.get("last_step_on")
    if last_on and effective < date.fromisoformat(last_on):
        raise RuleViolation("date.order", case=case.id, date=effective, step=case.attrs.get("last_step", "-"),
                            previous=last_on)
    if not (open_proc and open_proc.steps):
        return
    prev = open_proc.steps[-1]
    if effective < prev.effective_date:
        raise RuleViolation("date.order", case=case.id, date=effective, step=prev.step_key,
                            previous=prev.effective_date)
    if prev.step_type == "notice":
        notice = shared["notices"][prev.notice_id]
        if (notice.end_date - notice.start_date).days < notice.days_required:
            raise RuleViolation("notice.ran_short", case=case.id, notice=notice.id, days=(notice.end_date - notice.start_date).days,
                                required=notice.days_required)
        if effective < notice.end_date or app.clock.today() < notice.end_date:
            raise RuleViolation("notice.running", case=case.id, notice=notice.id, end=notice.end_date)
        objection = shared["open_objections"].get((notice.id, case.id))
        if objection is not None:
            raise RuleViolation("notice.objection", case=case.id, notice=notice.id, objection=objection)


def _plan_case(app, conn, actor, workflow: WorkflowDef, procedure: str, proc_def: ProcedureDef,
               step: StepDef, case: CaseRow, open_proc: OpenProcedure | None, evidence: dict,
               inputs: StepInput, effective: date, shared: dict) -> _Plan:
    if inputs.expect_version is not None and inputs.expect_version != case.version:
        raise CaseChanged(case.id, expected=inputs.expect_version, found=case.version)
    _check_order(app, procedure, proc_def, step, case, open_proc)
    assignment, taken = _check_people(app, actor, procedure, step, case, open_proc, shared, effective)
    _check_dates(app, step, case, open_proc, effective, shared)
    check_relied_evidence(app, conn, case, open_proc)
    missing = [e for e in step.evidence if e not in evidence]
    if missing:
        raise RuleViolation("evidence.missing", case=case.id, step=step.key, types=", ".join(missing))
    _evidence_dated_before(workflow, case, step, evidence, effective)
    ctx = StepContext(app, conn, actor, case, procedure, step, effective, inputs, evidence, batch=shared)
    decision, data, notice_days = _type_rules(app, conn, ctx, taken, shared)
    if decision != "rejected":
        rules = app.rules[case.kind]
        for name in step.checks:
            failures = rules.checks[name](ctx)
            if failures:
                raise RuleViolation(f"check.{name}", case=case.id, failures=failures)
        handler = rules.handlers.get(step.type)
        if handler is not None:
            handler(ctx)
        data.update(ctx.data)   # what the checks and handler used (e.g. the income line) is recorded
    refs_types = proc_def.evidence_types() if step.type in SIGNING_TYPES else step.evidence
    refs = [evidence_ref(evidence[e]) for e in refs_types if e in evidence]
    if step.type in SIGNING_TYPES:   # a signer signs what is really there, not what the row claims
        for e in refs_types:
            if e in evidence and not evidence_intact(app, evidence[e]):
                raise RuleViolation("evidence.tampered", case=case.id, evidence=evidence[e].id, type=e,
                                    step=step.key)
    case.attrs["last_step_on"], case.attrs["last_step"] = effective.isoformat(), step.key
    is_last = step.key == proc_def.steps[-1].key
    new_stage, status = case.stage, "open"
    if decision == "rejected":
        status = "rejected"
        if proc_def.reject_to is not None:
            _, new_stage = app.lifecycles[case.kind].reject(CaseModel(case.id, case.stage), procedure)
        for effect in proc_def.on_reject:
            app.rules[case.kind].effects[effect](ctx, case.attrs)
    elif is_last:
        status = "completed"
        model = CaseModel(case.id, case.stage)
        if proc_def.to is None:
            app.lifecycles[case.kind].complete(model, procedure)
        else:
            _, new_stage = app.lifecycles[case.kind].complete(model, procedure)
        for effect in proc_def.on_complete:
            app.rules[case.kind].effects[effect](ctx, case.attrs)
    reason = (inputs.reason or "").strip() or data.get("outcome")
    return _Plan(case, open_proc, assignment.role, assignment.region_code, decision,
                 reason, data, refs, ctx, new_stage, status, notice_days)


def _type_rules(app, conn, ctx: StepContext, taken: dict, shared: dict) -> tuple[str, dict, int | None]:
    """Rules of each step type; returns (decision, data to record, notice days)."""
    step, inputs, params = ctx.step, ctx.inputs, ctx.params
    data: dict[str, Any] = {}
    if step.type == "appraisal":
        attendance = _require_int(inputs.attendance, "attendance")
        votes_for = _require_int(inputs.votes_for, "votes_for")
        votes_against = _require_int(inputs.votes_against, "votes_against")
        if attendance == 0 or votes_for + votes_against > attendance:
            raise BadInput("appraisal.bad_votes", attendance=attendance, votes_for=votes_for,
                           votes_against=votes_against)
        quorum = float(params["appraisal_quorum"])
        data = {"attendance": attendance, "votes_for": votes_for, "votes_against": votes_against,
                "quorum": quorum}
        if votes_for <= quorum * attendance:
            data["outcome"] = f"appraisal vote failed: {votes_for} of {attendance} for"
            return "rejected", data, None
        return "approved", data, None
    if step.type == "verification":
        decision = _decision(inputs, "approved")
        minimum = int(params["verifiers_min"][step.verifiers])
        codes = list(dict.fromkeys(inputs.verifiers))
        if codes:
            key = ("verifiers", tuple(codes), ctx.case.region_code)
            if key not in shared:
                shared[key] = persons_holding(conn, codes, step.verifier_roles, ctx.case.region_code)
            ok = shared[key]
            lacking = [c for c in codes if c not in ok]
            if lacking:
                raise RuleViolation("verification.verifier_role", case=ctx.case.id, persons=", ".join(lacking),
                                    roles=", ".join(step.verifier_roles))
            for c in codes:
                if ok[c] in taken:
                    raise RuleViolation("duty.same_person", case=ctx.case.id, person=c, step=taken[ok[c]])
            ids = set(ok.values())
        else:
            ids = set()
        # Who counts towards the minimum: the listed verifiers, and the leader if they hold a verifier role.
        if ctx.actor.first_role(step.verifier_roles, ctx.case.region_code) is not None:
            ids.add(ctx.actor.person_id)
        ids = sorted(ids)
        if len(ids) < minimum:
            raise RuleViolation("verification.too_few", case=ctx.case.id, count=len(ids), minimum=minimum)
        data = {"verifiers": codes, "verifier_ids": [i for i in ids if i != ctx.actor.person_id]}
        return decision, data, None
    if step.type == "notice":
        required = int(params["notice_days"][step.days])
        days = required if inputs.days is None else int(inputs.days)
        if days < required:
            raise RuleViolation("notice.short", case=ctx.case.id, days=days, required=required, rule=step.days)
        return "done", {"days": days, "days_required": required, "scope": step.scope}, days
    if step.type == "signoff":
        decision = _decision(inputs, "")
        if not decision:
            raise BadInput("step.decision_required", step=step.key)
        return decision, data, None
    return "done", data, None


def _write_all(app, conn, actor, workflow, procedure, proc_def, step, plans: list[_Plan], effective,
               notice_id) -> list[StepOutcome]:
    """Write every planned step: one statement per table for the whole list (executemany)."""
    now = app.clock.now()
    changes, step_rows, links, ended, outcomes = [], [], [], [], []
    proc_ids = [_procedure_id(app, conn, actor, procedure, proc_def, p, now) for p in plans]
    responsible = name_responsible(conn, [
        Completed(p.case.id, p.case.region_code, proc_id, procedure, p.new_stage, proc_def,
                  (step.key, actor.person_id, p.role, p.role_region, p.data), effective, p.case.attrs)
        for p, proc_id in zip(plans, proc_ids) if p.proc_status == "completed"], now, app.policy_version)
    for p, proc_id in zip(plans, proc_ids):
        case = p.case
        pending = _pending(workflow, proc_def, procedure, p)
        detail = {"procedure": procedure, "procedure_status": p.proc_status, "effective_date": effective,
                  "data": {k: v for k, v in p.data.items() if k != "verifier_ids"}, "notice_id": notice_id}
        if proc_id in responsible:
            detail["responsibility"] = for_event(responsible[proc_id])
        changes.append(CaseEvent(case, {
            "action": "step", "role": p.role, "from_stage": case.stage,
            "to_stage": p.new_stage if p.new_stage != case.stage else None, "procedure_id": proc_id,
            "step_key": step.key, "decision": p.decision, "reason": p.reason, "evidence_hashes": p.evidence_refs,
            "detail": detail}, {
            "stage": p.new_stage, "attrs": case.attrs, "updated_at": now,
            "open_procedure_id": proc_id if p.proc_status == "open" else None,
            "pending_procedure": pending[0], "pending_step": pending[1]}))
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
                                    p.proc_status, notice_id))
    # The version checks (every case still at the version its rules were checked against) and the events.
    app.work_on(conn).append_case_events(actor, changes, now)
    conn.execute(_INSERT_STEP, step_rows)
    if links:
        conn.execute(_INSERT_NOTICE_CASE, links)
    for p in plans:
        for write in p.ctx.writes:
            write(conn)
    if ended:
        conn.execute(_END_PROCEDURE, ended)
    record_responsible(conn, responsible)
    deadlines.after_steps(app, conn, workflow, procedure, step, plans, outcomes, now)   # DOMAIN §6, same transaction
    return outcomes


def _procedure_id(app, conn, actor, procedure: str, proc_def: ProcedureDef, p: _Plan, now) -> int:
    """The case's open procedure, or a new one that this step opens."""
    if p.open_proc is not None and p.open_proc.id is not None:
        return p.open_proc.id
    return conn.execute(_INSERT_PROCEDURE, {
        "case_id": p.case.id, "kind": procedure, "status": "open", "from_stage": p.case.stage,
        "to_stage": proc_def.to, "started_by": actor.person_id, "started_at": now,
        "policy_version": app.policy_version}).inserted_primary_key[0]


def _pending(workflow: WorkflowDef, proc_def: ProcedureDef, procedure: str, p: _Plan) -> tuple[str | None, str | None]:
    if p.proc_status == "open":
        done = (len(p.open_proc.steps) if p.open_proc else 0) + 1
        return procedure, proc_def.steps[done].key
    return pending_for_stage(workflow, p.new_stage)


def pending_for_stage(workflow: WorkflowDef, stage: str) -> tuple[str | None, str | None]:
    name = workflow.main_path.get(stage)
    if name is None:
        return None, None
    return name, workflow.procedures[name].steps[0].key
