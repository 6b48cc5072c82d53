"""Problem items and their rectification (问题整改, DOMAIN.md §9).

A problem item is a case of its own (config/workflows/problem.yaml): found -> assigned ->
rectification reported -> verified -> closed, or sent back by the verifier, or reopened. It may
name other cases. A finding of wrong exit (错退) on a household reopens that household to
`assisted` in the same transaction and keeps on the problem the people of its exit chain with the
responsibility each carried when the exit completed. Rectification rejected twice, or left overdue,
is referred to the discipline commission.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.services.case_actions import append_case_event
from engine.services.deadlines import after_case_opened
from engine.domain.errors import BadInput, Codes, Msg, RuleViolation, stored
from engine.domain.evidence import coerce_fields, content_hash
from engine.domain.exit_years import EXITED_STAGES
from engine.domain.lifecycle import CaseModel
from engine.domain.monitoring import columns as monitoring_columns, period_years
from engine.domain.record_digests import attrs_digest
from engine.services.org import require_role
from engine.services.problems import FoundBy, ProblemInput
from engine.domain.cases import CaseRow
from engine.domain.guards import other_open
from engine.services.context import StepContext, WorkflowRules
from engine.services.deadlines import after_recorded, after_sampled_linked
from engine.services.procedures import StepOutcome, evidence_ref, pending_for_case, pending_for_stage
from engine.adapters.repository import load_cases
from engine.domain.regions import covers, prefix
from engine.services.responsibility import Completed, for_event, name_responsible, record_responsible
from .household_steps import record_reopening, tell_reopened
from .household_codes import code_of

SOURCES = {  # 问题来源
    "assessment": "考核", "supervision": "督查巡查", "inspection_tour": "巡察", "unannounced_visit": "暗访",
    "audit": "审计", "third_party_evaluation": "第三方评估", "public_report": "举报",
}
FINDINGS = {"wrong_exit": "错退", "wrong_inclusion": "错评", "missed_inclusion": "漏评", "other": "其他"}
REGISTRAR_ROLES = ("county_office_director", "county_office_staff", "city_office_staff", "township_secretary",
                   "township_head")
# A wrong exit (错退) reopens households at once: it is registered by those who approve a household's exit
# (household.yaml, exit.county_approval: the county office's director and the county head, who answers
# for exits), and by them only; every other finding by REGISTRAR_ROLES.
WRONG_EXIT_ROLES = ("county_office_director", "county_head")
# Who may register a problem item of some finding (the web's form and menu); they also refer its overdue
# rectification to the discipline commission (DOMAIN §9: those who supervise rectification act on overdue
# work), a county head included, whatever the finding.
ADDING_ROLES = tuple(dict.fromkeys(REGISTRAR_ROLES + WRONG_EXIT_ROLES))


def findings_for(roles) -> list[str]:
    """The findings the holder of `roles` may register (a county head: a wrong exit only)."""
    return [f for f in FINDINGS if set(roles) & set(WRONG_EXIT_ROLES if f == "wrong_exit" else REGISTRAR_ROLES)]
REFERRAL_AFTER_REJECTIONS = 2


_LATEST_COMPLETED = (select(t.procedures.c.id, t.procedures.c.ended_at).where(
    t.procedures.c.case_id == bindparam("case_id"), t.procedures.c.kind == bindparam("kind"),
    t.procedures.c.status == "completed").order_by(t.procedures.c.id.desc()).limit(1))
_RESPONSIBLE_FOR = select(t.responsibilities).where(
    t.responsibilities.c.procedure_id == bindparam("procedure_id")).order_by(t.responsibilities.c.id)
_CURRENT_OF_TYPE = select(t.evidence.c.id).where(
    t.evidence.c.case_id == bindparam("case_id"), t.evidence.c.type == bindparam("type"),
    t.evidence.c.superseded_by.is_(None))


def register_problem(app: App, actor: Actor, problem: ProblemInput, found_by: FoundBy | None = None,
                     conn=None) -> int:
    """Record a problem item with its finding as evidence; returns its case id. All or nothing: in a
    transaction of its own, or in the caller's on `conn` (a sample finding's: its row and the problem
    item it opens written together, or neither). `found_by`: the finding it is the consequence of (a
    sample check's wrong exit), checked by the service that recorded it; a third-party evaluator's (a
    read-only post) is registered by the system in their name, without their post allowing any other
    write (_registrar)."""
    found = _checked_finding(app, problem)
    assignment = _registrar(app, actor, problem.region, found.finding, found_by)
    workflow = app.config.workflows["problem"]
    fields = _finding_fields(app, workflow, problem, found)
    new_files: list[str] = []
    try:
        if conn is not None:
            return _register(app, conn, actor, problem, found_by, (found, assignment, workflow, fields), new_files)
        with app.transaction() as own:
            return _register(app, own, actor, problem, found_by, (found, assignment, workflow, fields), new_files)
    except BaseException:
        app.evidence.discard(new_files)
        raise


def _register(app: App, conn, actor: Actor, problem: ProblemInput, found_by: FoundBy | None, checked: tuple,
              new_files: list[str]) -> int:
    found, assignment, workflow, fields = checked
    named = _named_cases(conn, problem)
    now = app.clock.now()
    finder = _finder(app, actor, found_by)
    # a sample check's wrong exits recorded on these households while they could not be reopened: theirs too
    sampled = _sampled_waiting(conn, sorted(named)) if found.finding == "wrong_exit" else []
    if sampled:
        finder = {**finder, "sample_findings": sampled}
    case = _insert_problem_case(conn, workflow, problem, found, sorted(named), now, finder)
    _link_sampled(conn, sampled, case.id, now)
    ref = _attach_finding(app, conn, actor, case.id, problem.file, fields, now, new_files)
    chains = {c.id: _chain_of_wrong_exit(app, conn, actor, assignment, case.id, c, found)
              if found.finding == "wrong_exit" else [] for c in named.values()}
    _link_cases(conn, case.id, found.finding, chains, now)
    append_case_event(app, conn, actor, case, "case_registered", assignment.role, evidence=[ref],
                      source=found.source, finding=found.finding, cases=sorted(named),
                      exit_chains={str(k): v for k, v in chains.items() if v}, **finder)
    after_case_opened(app, conn, case, now)     # to be assigned within days (DOMAIN §9, §6)
    return case.id


def _finding_fields(app: App, workflow, problem: ProblemInput, found: "_Finding") -> dict[str, Any]:
    """The problem's finding as its evidence's fields. The engine's words (a sample check's, a wrong-exit
    correction's): no person's text to check (one typed in their stored form is refused), stored as
    their message."""
    worded = isinstance(found.description, Msg)
    fields = coerce_fields("problem_finding", workflow.evidence_types["problem_finding"],
                           {"source": found.source, "found_on": problem.found_on.isoformat(),
                            "description": "-" if worded else found.description}, labels=app.config.labels)
    if worded:
        fields["description"] = stored(found.description)
    return fields


@dataclass(frozen=True)
class _Finding:
    source: str
    finding: str | None
    description: str | Msg


def _by_system(app: App, found_by: FoundBy | None) -> bool:
    """A finding whose finder's post is read-only (a third-party evaluator's): the system registers its
    problem item for them; anyone else's is registered in their own name, by their own post."""
    return found_by is not None and app.config.roles[found_by.assignment.role].read_only


def _checked_finding(app: App, problem: ProblemInput) -> _Finding:
    source = code_of(problem.source, SOURCES)
    if source is None:
        raise BadInput("problem.bad_source", source=problem.source, known=Codes("problem_source", tuple(SOURCES)))
    finding = None
    if problem.finding:
        finding = code_of(problem.finding, FINDINGS)
        if finding is None:
            raise BadInput("problem.bad_finding", finding=problem.finding, known=Codes("finding", tuple(FINDINGS)))
    description = problem.description if isinstance(problem.description, Msg) else (problem.description or "").strip()
    if not description:
        raise BadInput("problem.no_description")
    if problem.found_on > app.clock.today():
        raise RuleViolation("date.future", date=problem.found_on, today=app.clock.today())
    if finding == "wrong_exit" and not problem.cases:
        raise BadInput("problem.wrong_exit_needs_case")
    return _Finding(source, finding, description)


def _registrar(app: App, actor: Actor, region: str, finding: str | None, found_by: FoundBy | None = None):
    if _by_system(app, found_by):
        return found_by.assignment       # the system registers what the evaluator found; they write nothing else
    if finding == "wrong_exit":   # it reopens households at once: only those who approve exits may find it
        return require_role(app, actor, WRONG_EXIT_ROLES, region, "problem add --finding wrong_exit")
    return require_role(app, actor, REGISTRAR_ROLES, region, "problem add")


def _named_cases(conn, problem: ProblemInput) -> dict[int, CaseRow]:
    if conn.execute(select(t.regions.c.code).where(t.regions.c.code == problem.region)).first() is None:
        raise BadInput("region.unknown", code=problem.region)
    named = load_cases(conn, list(dict.fromkeys(problem.cases))) if problem.cases else {}
    for case in named.values():
        if not covers(problem.region, case.region_code):
            raise BadInput("problem.case_outside", case=case.id, region=problem.region)
    return named


def _finder(app: App, actor: Actor, found_by: FoundBy | None) -> dict[str, Any]:
    """Who found what a problem item registers as the consequence of their finding (a sample check's
    wrong exit): kept on the item and its registering event; nothing when a person registers it."""
    if found_by is None:
        return {}
    finder = {"person": actor.code, "name": actor.name, "role": found_by.assignment.role}
    return {"found_by": finder, "registered_by": "system" if _by_system(app, found_by) else "person",
            **({"draw_id": found_by.draw} if found_by.draw is not None else {})}


def _insert_problem_case(conn, workflow, problem: ProblemInput, found: _Finding, cases: list[int], now,
                         finder: dict[str, Any] | None = None) -> CaseRow:
    pending = pending_for_stage(workflow, workflow.initial)
    # Its steps come after it was found: the engine's date-order rule starts from here.
    worded = isinstance(found.description, Msg)
    attrs = {"source": found.source, "description": stored(found.description) if worded else found.description,
             "found_on": problem.found_on.isoformat(), "finding": found.finding, "cases": cases,
             "last_step_on": problem.found_on.isoformat(), "last_step": "found", **(finder or {})}
    title = _title(found.description) if worded else found.description[:60]
    problem_id = conn.execute(insert(t.cases), {
        "kind": "problem", "region_code": problem.region, "title": title,
        "stage": workflow.initial, "version": 1, "workflow_version": workflow.version, "attrs": attrs,
        "created_at": now, "updated_at": now, "event_count": 0, "last_event_hash": None,
        "open_procedure_id": None, "pending_procedure": pending[0],
        "pending_step": pending[1]}).inserted_primary_key[0]
    return CaseRow(problem_id, "problem", problem.region, title, workflow.initial, 1, attrs, 0, None)


def _title(description: Msg) -> str:
    """A problem's title in the engine's words (a sample check's): its message, the note in it cut to 60
    characters as a person's description is, and shorter while the stored form does not fit the column."""
    params, most = dict(description.params), t.cases.c.title.type.length
    note = params.get("note")
    if isinstance(note, str):
        params["note"] = note[:60]
        while len(stored(Msg(description.key, params))) > most and params["note"]:
            params["note"] = params["note"][:-1]
    return stored(Msg(description.key, params))


def _attach_finding(app: App, conn, actor: Actor, problem_id: int, file: Path | None, fields: dict, now,
                    new_files: list[str]) -> dict[str, Any]:
    """The finding (and its file, if any) as the problem's evidence; returns its reference."""
    file_sha = None
    if file is not None:
        file_sha, created = app.evidence.put(Path(file))
        if created:
            new_files.append(file_sha)
    row = {"case_id": problem_id, "type": "problem_finding", "fields": fields, "file_sha256": file_sha,
           "file_name": Path(file).name if file else None,
           "content_hash": content_hash("problem_finding", fields, file_sha),
           "attached_by": actor.person_id, "attached_at": now}
    row["id"] = conn.execute(insert(t.evidence), row).inserted_primary_key[0]
    return evidence_ref(SimpleNamespace(**row))


def _link_cases(conn, problem_id: int, finding: str | None, chains: dict[int, list], now) -> None:
    if chains:
        conn.execute(insert(t.problem_links), [
            {"problem_id": problem_id, "case_id": cid, "finding": finding, "chain": chain, "linked_at": now}
            for cid, chain in chains.items()])


def _chain_of_wrong_exit(app: App, conn, actor: Actor, assignment, problem_id: int, case: CaseRow,
                         found: "_Finding") -> list[dict[str, Any]]:
    """A household found wrongly exited: its exit chain as it stood, everyone in it named on the item (DOMAIN
    §9). One still exited is put back to `assisted` (_reopen_for_wrong_exit); one already back under assistance
    (a 返贫 reopening completed, say, before the wrong exit was found) or removed since is not reopened again, but
    its wrong exit is still a problem item with its chain: a return to poverty must not hide a wrong exit."""
    if case.kind != "household":
        raise BadInput("problem.wrong_exit_not_household", case=case.id)
    if case.stage in EXITED_STAGES:
        return _reopen_for_wrong_exit(app, conn, actor, assignment, problem_id, case, found.source, found.description)
    chain = _exit_chain(conn, case.id)
    if not chain:
        raise RuleViolation("problem.wrong_exit_never_exited", case=case.id, stage=case.stage,
                            stage_kind=case.kind)
    return chain


def _reopen_for_wrong_exit(app: App, conn, actor: Actor, assignment, problem_id: int, case: CaseRow,
                           source: str, description: str | Msg) -> list[dict[str, Any]]:
    """Put a wrongly exited household back to `assisted`; returns its exit chain as it stood."""
    _require_reopenable(app, conn, case)
    stages = app.lifecycles["household"].complete(CaseModel(case.id, case.stage), _REOPEN)
    chain = _exit_chain(conn, case.id)
    now, today = app.clock.now(), app.clock.today()
    # the problem's number and its description as entered, said in each reader's language
    reason = stored(Msg("reopen_reason.wrong_exit", {"problem": problem_id, "description": description}))
    ref = _record_wrong_exit_finding(conn, actor, case, {"source": source, "reason": reason}, now)
    step = _Reopening(assignment, stages, reason, ref, {"problem_id": problem_id, "source": source}, now, today)
    proc_id = _record_reopening_step(app, conn, actor, case, step)
    named = _name_reopening_responsible(app, conn, actor, case, step, proc_id)
    record_reopening(SimpleNamespace(procedure=_REOPEN, effective_date=today), case.attrs)
    tell_reopened(app, conn, case, actor, today, proc_id, _REOPEN)
    case.attrs["last_step_on"], case.attrs["last_step"] = today.isoformat(), "finding"
    _append_reopening_event(app, conn, actor, case, step, proc_id, {"responsibility": for_event(named),
                                                                     "exit_chain": chain})
    # its deadlines as the procedure's step would (a new plan due: assistance_plan_again)
    after_recorded(app, conn, case, _REOPEN, "finding", step.data, StepOutcome(
        case.id, proc_id, "finding", "done", step.stages[0], step.stages[1], "completed"), today, now)
    return chain


_REOPEN = "reopen_wrong_exit"


@dataclass(frozen=True)
class _Reopening:
    """The one step (`finding`) that reopens a wrongly exited household."""
    assignment: Any
    stages: tuple[str, str]   # before, after
    reason: str
    ref: dict[str, Any]
    data: dict[str, Any]
    now: Any
    today: date


def _require_reopenable(app: App, conn, case: CaseRow) -> None:
    """A household (_chain_of_wrong_exit checked its kind) with no procedure under way: else refused
    saying which, the step it waits for and who may do it."""
    if case.open_procedure_id is not None:
        waiting = conn.execute(select(t.cases.c.pending_step).where(t.cases.c.id == case.id)).scalar()
        proc = app.config.workflows[case.kind].procedures.get(case.pending_procedure)
        step = next((s for s in proc.steps if s.key == waiting), None) if proc is not None else None
        raise other_open(case.id, case.pending_procedure, step, _REOPEN).error()


def _exit_chain(conn, case_id: int) -> list[dict[str, Any]]:
    """Who carried which responsibility when the household's last exit completed."""
    return _chain_of(conn, case_id, "exit")


def _chain_of(conn, case_id: int, procedure: str) -> list[dict[str, Any]]:
    """Who carried which responsibility when the household's last `procedure` (its exit, its
    identification) completed; nothing when none did (a household imported as identified)."""
    exit_proc = conn.execute(_LATEST_COMPLETED, {"case_id": case_id, "kind": procedure}).first()
    if exit_proc is None:
        return []
    return [{"type": r.type, "person_code": r.person_code, "person_name": r.person_name, "role": r.role,
             "region_code": r.region_code, "basis": r.basis, "procedure_id": r.procedure_id,
             "date": r.effective_date.isoformat()}
            for r in conn.execute(_RESPONSIBLE_FOR, {"procedure_id": exit_proc.id})]


def _record_wrong_exit_finding(conn, actor: Actor, case: CaseRow, fields: dict, now) -> dict[str, Any]:
    """The finding as the household's evidence (replacing an earlier one); returns its reference."""
    previous = conn.execute(_CURRENT_OF_TYPE, {"case_id": case.id, "type": "wrong_exit_finding"}).first()
    evidence = {"case_id": case.id, "type": "wrong_exit_finding", "fields": fields, "file_sha256": None,
                "file_name": None, "content_hash": content_hash("wrong_exit_finding", fields, None),
                "attached_by": actor.person_id, "attached_at": now}
    evidence["id"] = conn.execute(insert(t.evidence), evidence).inserted_primary_key[0]
    if previous is not None:
        conn.execute(t.evidence.update().where(t.evidence.c.id == previous.id).values(
            superseded_by=evidence["id"], supersede_reason=fields["reason"]))
    return evidence_ref(SimpleNamespace(**evidence))


def _record_reopening_step(app: App, conn, actor: Actor, case: CaseRow, step: _Reopening) -> int:
    """The completed reopening procedure and its one step; returns the procedure's id."""
    proc_id = conn.execute(insert(t.procedures), {
        "case_id": case.id, "kind": _REOPEN, "status": "completed", "from_stage": step.stages[0],
        "to_stage": step.stages[1], "started_by": actor.person_id, "started_at": step.now, "ended_at": step.now,
        "outcome_reason": step.reason, "policy_version": app.policy_version}).inserted_primary_key[0]
    conn.execute(insert(t.steps), {
        "procedure_id": proc_id, "case_id": case.id, "step_key": "finding", "step_type": "evidence",
        "person_id": actor.person_id, "role": step.assignment.role, "role_region": step.assignment.region_code,
        "decision": "done", "reason": step.reason, "effective_date": step.today, "recorded_at": step.now,
        "data": step.data, "evidence_hashes": [step.ref], "notice_id": None, "policy_version": app.policy_version,
        "voided_at": None, "voided_reason": None})
    return proc_id


def _name_reopening_responsible(app: App, conn, actor: Actor, case: CaseRow, step: _Reopening,
                                proc_id: int) -> list[dict[str, Any]]:
    last_step = ("finding", actor.person_id, step.assignment.role, step.assignment.region_code, step.data)
    responsible = name_responsible(conn, [Completed(
        case.id, case.region_code, proc_id, _REOPEN, step.stages[1],
        app.config.workflows["household"].procedures[_REOPEN], last_step, step.today)], step.now, app.policy_version)
    record_responsible(conn, responsible)
    return responsible.get(proc_id, [])


def _append_reopening_event(app: App, conn, actor: Actor, case: CaseRow, step: _Reopening, proc_id: int,
                            extra: dict[str, Any]) -> None:
    before, after = step.stages
    pending = pending_for_case(app, app.config.workflows["household"], case, after, conn)
    values = {"stage": after, "attrs": case.attrs, "open_procedure_id": None,
              "pending_procedure": pending[0], "pending_step": pending[1],
              # back under assistance: no longer monitored nor in its transition period, as its lists read it
              **monitoring_columns(after, case.attrs, period_years(app.config.policy, case.province))}
    detail = {"procedure": _REOPEN, "procedure_status": "completed", "effective_date": step.today,
              "data": step.data, "notice_id": None, **extra, "attrs_digest": attrs_digest(case.attrs)}
    app.work_on(conn).append_case_event(
        actor, case, values, at=step.now, action="step", role=step.assignment.role, from_stage=before,
        to_stage=after, procedure_id=proc_id, step_key="finding", decision="done", reason=step.reason,
        evidence_hashes=[step.ref], detail=detail)


# --- a wrong exit corrected through the household's own procedure (错退纠正) ------------------------

# The source of a correction whose finding names none of SOURCES (a cadre's own words): the supervising
# offices' (督查巡查), who found it outside any assessment, audit, evaluation or public report.
CORRECTION_SOURCE = "supervision"
_PROCEDURE_STEPS = select(t.steps.c.step_key, t.steps.c.person_id, t.steps.c.role, t.steps.c.effective_date).where(
    t.steps.c.procedure_id == bindparam("procedure_id"), t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id)
_PERSON = select(t.persons.c.code, t.persons.c.name).where(t.persons.c.id == bindparam("person_id"))
# the wrong exits a sample check recorded on households while a procedure of theirs was under way, whose
# problem item is the next wrong-exit problem item registered for them (engine/services/sampling)
_SAMPLED_WAITING = select(t.sample_findings.c.id).where(
    t.sample_findings.c.case_id.in_(bindparam("cases", expanding=True)), t.sample_findings.c.finding == "wrong_exit",
    t.sample_findings.c.problem_id.is_(None)).order_by(t.sample_findings.c.id)


def _sampled_waiting(conn, cases: list[int]) -> list[int]:
    return list(conn.execute(_SAMPLED_WAITING, {"cases": cases}).scalars()) if cases else []


def _link_sampled(conn, sampled: list[int], problem_id: int, now) -> None:
    if sampled:
        conn.execute(update(t.sample_findings).where(t.sample_findings.c.id.in_(sampled)).values(problem_id=problem_id))
        after_sampled_linked(conn, sampled, now)      # the county office's deadline to register it: done


def open_wrong_exit_problem(ctx: StepContext, attrs: dict) -> None:
    """错退纠正 completed (household.yaml reopen_wrong_exit): the household is back under assistance by
    its own procedure, and a problem item is registered with it, as the problem-item route registers one
    (DOMAIN §9): the household linked with everyone of its exit chain and their responsibility, the
    finding's source, reason and date, who recorded it; in the step's transaction."""
    ctx.writes.append(lambda conn: _register_from_procedure(ctx, conn, _CORRECTED))


def open_wrong_inclusion_problem(ctx: StepContext, attrs: dict) -> None:
    """错评 removal completed (household.yaml removal_wrong_inclusion): the household is struck off, and a
    problem item is registered with it as a wrong exit's is (DOMAIN §9: a wrong inclusion is counted as
    hard as a wrong exit): the household linked with everyone of the identification that included it
    (who proposed, checked and approved it) and their responsibility, the finding's reason and date and
    who recorded it; in the step's transaction."""
    ctx.writes.append(lambda conn: _register_from_procedure(ctx, conn, _REMOVED))


@dataclass(frozen=True)
class _FromProcedure:
    """A household procedure whose completion registers a problem item: its finding, the evidence its
    finding step came with, the problem's title, the procedure whose people it names, and the key its
    registering event keeps their chains under (audit_records.check_problem_links reads it)."""
    finding: str
    evidence: str
    title: str
    chain_of: str
    chains_key: str
    about: str          # the problem's attrs key naming the household's procedure (trace.found_by_words)


_CORRECTED = _FromProcedure("wrong_exit", "wrong_exit_finding", "problem_title.wrong_exit_corrected", "exit",
                            "exit_chains", "correction_procedure")
_REMOVED = _FromProcedure("wrong_inclusion", "removal_finding", "problem_title.wrong_inclusion_removed",
                          "identification", "inclusion_chains", "removal_procedure")


def _register_from_procedure(ctx: StepContext, conn, kind: _FromProcedure) -> int:
    app, household = ctx.app, ctx.case
    steps = conn.execute(_PROCEDURE_STEPS, {"procedure_id": ctx.procedure_id}).all()
    first, last = steps[0], steps[-1]          # the finding; the approval that completed it (just written)
    evidence = ctx.evidence.get(kind.evidence)
    fields = evidence.fields if evidence is not None else {}
    source = code_of(str(fields.get("source") or ""), SOURCES) or CORRECTION_SOURCE
    description = Msg(kind.title, {"case": household.id, "note": str(fields.get("reason") or "").strip()})
    problem = ProblemInput(household.region_code, source, description, first.effective_date, kind.finding,
                           [household.id])
    found, workflow, now = _Finding(source, kind.finding, description), app.config.workflows["problem"], app.clock.now()
    finder = conn.execute(_PERSON, {"person_id": first.person_id}).first()
    about = {"found_by": {"person": finder.code, "name": finder.name, "role": first.role},
             "registered_by": "system", kind.about: ctx.procedure_id}
    # an evaluator's wrong exit found on this household while it was being corrected: this problem item is theirs too
    sampled = _sampled_waiting(conn, [household.id]) if kind.finding == "wrong_exit" else []
    if sampled:
        about["sample_findings"] = sampled
    case = _insert_problem_case(conn, workflow, problem, found, [household.id], now, about)
    _link_sampled(conn, sampled, case.id, now)
    ref = _attach_finding(app, conn, ctx.actor, case.id, None, _finding_fields(app, workflow, problem, found), now, [])
    chain = _chain_of(conn, household.id, kind.chain_of)
    _link_cases(conn, case.id, kind.finding, {household.id: chain}, now)
    append_case_event(app, conn, ctx.actor, case, "case_registered", last.role, evidence=[ref], source=source,
                      finding=kind.finding, cases=[household.id],
                      **{kind.chains_key: {str(household.id): chain} if chain else {}}, **about)
    after_case_opened(app, conn, case, now)     # to be assigned within days, as a registered item (DOMAIN §9, §6)
    return case.id


# --- checks, the assign step, effects --------------------------------------------------------------

def is_assignee(ctx: StepContext) -> list:
    if ctx.case.attrs.get("assignee_id") != ctx.actor.person_id:
        return [("not_assignee", {"assignee": ctx.case.attrs.get("assignee", "-")})]
    return []


def not_rectifier(ctx: StepContext) -> list:
    attrs = ctx.case.attrs
    if ctx.actor.person_id in (attrs.get("rectifier_id"), attrs.get("assignee_id")):
        return [("verifier_is_rectifier", {"person": ctx.actor.code})]
    return []


_ASSIGNEE = select(t.persons.c.id, t.persons.c.code, t.persons.c.name, t.persons.c.active).where(
    t.persons.c.code == bindparam("code"))
_POSTS = select(t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    t.role_assignments.c.person_id == bindparam("person_id"), t.role_assignments.c.revoked_at.is_(None))


def assign(ctx: StepContext) -> None:
    """Lead unit, responsible unit and person, deadline: what the recipient will acknowledge."""
    inputs = ctx.inputs
    missing = [name for name in ("assignee", "lead_unit", "responsible_unit", "due")
               if not getattr(inputs, name) or (isinstance(getattr(inputs, name), str) and not getattr(inputs, name).strip())]
    if missing:
        raise BadInput("problem.assign_incomplete", missing=", ".join(missing))
    if inputs.due <= ctx.effective_date:
        raise BadInput("problem.due_not_after", due=inputs.due, date=ctx.effective_date)
    person = ctx.conn.execute(_ASSIGNEE, {"code": inputs.assignee}).first()
    if person is None or not person.active:
        raise BadInput("person.unknown", code=inputs.assignee)
    if person.id == ctx.actor.person_id:      # the receipt is the assignee's alone, and one signs a procedure once
        raise RuleViolation("problem.assign_self", case=ctx.case.id, person=ctx.actor.code)
    roles = ctx.app.config.roles
    if not any(covers(p.region_code, ctx.case.region_code) and p.role in roles
               and not (roles[p.role].read_only or roles[p.role].admin)
               for p in ctx.conn.execute(_POSTS, {"person_id": person.id})):
        raise RuleViolation("problem.assignee_cannot_act", person=person.code, region=ctx.case.region_code)
    values = {"assignee": person.code, "assignee_id": person.id, "assignee_name": person.name,
              "lead_unit": inputs.lead_unit.strip(), "responsible_unit": inputs.responsible_unit.strip(),
              "due_on": inputs.due.isoformat()}
    ctx.data.update(values)
    ctx.case.attrs.update(values)


def record_report(ctx: StepContext, attrs: dict) -> None:
    attrs["rectifier_id"] = ctx.actor.person_id
    attrs["reported_on"] = ctx.effective_date.isoformat()


def count_rejection(ctx: StepContext, attrs: dict) -> None:
    """A verifier sent the rectification back; the second time it goes to the discipline commission."""
    attrs["rejections"] = attrs.get("rejections", 0) + 1
    attrs.pop("rectifier_id", None)
    if attrs["rejections"] >= REFERRAL_AFTER_REJECTIONS and "rejected_twice" not in attrs.get("referred", []):
        attrs.setdefault("referred", []).append("rejected_twice")
        ctx.data["referred"] = "rejected_twice"
        row = {"problem_id": ctx.case.id, "reason": "rejected_twice", "referred_at": ctx.app.clock.now(),
               "detail": {"rejections": attrs["rejections"], "last_reason": ctx.inputs.reason,
                          "by": ctx.actor.code}}
        ctx.writes.append(lambda conn: conn.execute(insert(t.discipline_referrals), row))


def record_closure(ctx: StepContext, attrs: dict) -> None:
    attrs["closed_on"] = ctx.effective_date.isoformat()


def record_reopen(ctx: StepContext, attrs: dict) -> None:
    attrs.setdefault("reopenings", []).append({"on": ctx.effective_date.isoformat(), "closed_on": attrs.pop("closed_on", None)})
    attrs.pop("rectifier_id", None)


RULES = WorkflowRules(
    checks={"is_assignee": is_assignee, "not_rectifier": not_rectifier},
    who_checks=frozenset({"is_assignee", "not_rectifier"}),
    handlers={"assign": assign},
    effects={"record_report": record_report, "count_rejection": count_rejection, "record_closure": record_closure,
             "record_reopen": record_reopen},
    register=register_problem,
    registrar=_registrar,
)

# Effects of the household's procedures that register a problem item (they live here: the problem's
# rules import the household's, not the other way round); workflows/__init__.py adds them to its rules.
HOUSEHOLD_EFFECTS = {"open_wrong_exit_problem": open_wrong_exit_problem,
                     "open_wrong_inclusion_problem": open_wrong_inclusion_problem}


# --- overdue rectification ------------------------------------------------------------------------

_OPEN_PROBLEMS = select(t.cases.c.id).where(t.cases.c.kind == "problem", t.cases.c.stage == "assigned")


def refer_overdue(app: App, actor: Actor, region: str, today: date | None = None) -> list[int]:
    """Refer every problem under `region` still not reported after its deadline; returns their ids."""
    admins = tuple(name for name, r in app.config.roles.items() if r.admin)   # the scheduler acts as one
    assignment = require_role(app, actor, ADDING_ROLES + admins, region, "problem refer-overdue")
    today = today or app.clock.today()
    referred = []
    with app.transaction() as conn:
        rows = conn.execute(_OPEN_PROBLEMS.with_only_columns(t.cases.c.id, t.cases.c.attrs).where(
            t.cases.c.region_code.like(prefix(region) + "%")).order_by(t.cases.c.id)).all()
        due = [r.id for r in rows if r.attrs.get("due_on")
               and date.fromisoformat(r.attrs["due_on"]) < today and "overdue" not in r.attrs.get("referred", [])]
        if not due:
            return []
        now = app.clock.now()
        for case in load_cases(conn, due).values():
            case.attrs.setdefault("referred", []).append("overdue")
            conn.execute(insert(t.discipline_referrals), {
                "problem_id": case.id, "reason": "overdue", "referred_at": now,
                "detail": {"due_on": case.attrs["due_on"], "assignee": case.attrs.get("assignee"), "by": actor.code}})
            conn.execute(t.cases.update().where(t.cases.c.id == case.id).values(attrs=case.attrs))
            append_case_event(app, conn, actor, case, "referred_to_discipline", assignment.role, reason="overdue",
                              due_on=case.attrs["due_on"], assignee=case.attrs.get("assignee"))
            referred.append(case.id)
    return referred
