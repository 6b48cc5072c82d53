"""Deadlines written in the transaction of the work (DOMAIN §6).

A deadline is a row, written in the transaction of the step (or stage change) that creates it and
closed in the transaction of the work that ends it (`after_steps`, `after_evidence`). Its row keeps
the escalation ladder in force with the time of every level, and which level is next
(`next_level`, `next_alert_at`), so the sweep (engine/services/sweep.py) is one range scan of the
(status, next_alert_at) index, in batches, whatever the number of open deadlines. No scheduler job
exists per deadline. A changed rule moves the open due times (`reschedule`). The rules themselves,
compiled without a database, are engine/domain/deadline_rules.py; the lists are
engine/reads/deadlines.py.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from sqlalchemy import Text, and_, bindparam, cast, func, insert, literal_column, or_, select, update
from sqlalchemy.engine import Connection

from config import Config
from config.deadlines import DueOn, OwnerSpec, RuleDef
from engine.adapters import tables as t
from engine.adapters.direct import Direct
from engine.domain.deadline_rules import (ENDED_STAGE, Rules, Schedule, as_date, aware, awaited_procedure, basis_of,
                                          compiled, dates_waiting, limited_procedures, nearest_owner, next_after_passed,
                                          owner_spec, parse_at,
                                          participants, post_held, roles_at, value_of, waits_in)
from engine.domain.exit_years import EXITED_STAGES
from engine.domain.regions import ancestors_of
from engine.adapters.one_of import one_of

# --- creating and closing, in the transaction of the work ----------------------------------------

# "open" as a literal in the SQL, not a bound parameter: SQLite plans a bound value compared with the
# WHERE of a partial index (uq_deadlines_open: status = 'open') for that value alone, and prepares the
# statement again each time it is bound — every step's read of its open deadlines, every row of a
# list's executemany.
_OPEN = literal_column("'open'")
_OPEN_OF_CASES = select(t.deadlines.c.id, t.deadlines.c.case_id, t.deadlines.c.rule, t.deadlines.c.type,
                        t.deadlines.c.procedure_id, t.deadlines.c.step_key, t.deadlines.c.subject,
                        # what a deadline taken over by the work (`_Draft.adopts`) keeps or moves
                        t.deadlines.c.start_on, t.deadlines.c.basis, t.deadlines.c.region_code,
                        t.deadlines.c.owner_id, t.deadlines.c.owner_role, t.deadlines.c.owner_changes,
                        t.deadlines.c.ladder, t.deadlines.c.next_level).where(
    one_of(t.deadlines.c.case_id), t.deadlines.c.status == _OPEN)
_OPEN_OF_CASE = Direct(select(  # one case (the common one): a plain `=`, run on the driver (a step's)
    *_OPEN_OF_CASES.selected_columns).where(t.deadlines.c.case_id == bindparam("id"),
                                            t.deadlines.c.status == _OPEN))
CLOSE = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == _OPEN).values(
    status=bindparam("b_status"), closed_at=bindparam("b_at"), closed_reason=bindparam("b_reason"),
    met_on=bindparam("b_met", None))
_INSERT = insert(t.deadlines)
HOLDERS = (select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code)
           .join(t.persons, t.persons.c.id == t.role_assignments.c.person_id)
           .where(t.role_assignments.c.role.in_(bindparam("roles", expanding=True)),
                  t.role_assignments.c.region_code.in_(bindparam("regions", expanding=True)),
                  t.role_assignments.c.revoked_at.is_(None), t.persons.c.active.is_(True))
           .order_by(t.role_assignments.c.person_id))
POSTS_OF = (select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code)
            .where(one_of(t.role_assignments.c.person_id), t.role_assignments.c.revoked_at.is_(None)))
# A household's first pairing cadre in force: a pairing whose cadre left (deactivated) names nobody
# until 调整帮扶责任人 names another (the pairing itself stays as its steps made it).
FIRST_CADRES = select(t.pairings.c.case_id, t.pairings.c.person_id).join(
    t.persons, t.persons.c.id == t.pairings.c.person_id).where(
    one_of(t.pairings.c.case_id), t.pairings.c.end_date.is_(None),
    t.pairings.c.kind == "first", t.persons.c.active.is_(True)).order_by(t.pairings.c.id)


@dataclass
class _Draft:
    rule_name: str
    rule: RuleDef
    case_id: int
    region_code: str
    start_on: date
    basis: str
    procedure_id: int | None = None
    step_key: str | None = None
    subject: str = ""
    given_due: date | None = None
    owner: tuple = ()                   # ("roles", roles, exclude) | ("person", id) | ("pairing",)
    owner_id: int | None = None
    owner_role: str | None = None
    adopts: Any = None                  # an open deadline this one continues (its row, updated in place:
    #                                     its alerts stay sent): the work it waits for moved on
    reason: str = ""                    # why, for the owner's change on record
    alerts_from: date | None = None     # started by a step entered after the fact: alerted as if due on this day


@dataclass
class _Work:
    """What one call of `after_steps` gathers: the deadlines to close and those to create."""
    now: datetime
    closes: dict[int, dict] = field(default_factory=dict)
    drafts: list[_Draft] = field(default_factory=list)
    met_on: date | None = None          # the step at hand was entered after the fact: the date it bears

    def close(self, row, status: str, reason: str) -> None:
        self.closes.setdefault(row.id, {"b_id": row.id, "b_status": status, "b_at": self.now,
                                        "b_reason": reason[:80], "b_met": self.met_on})

    def left(self, row, to_stage: str, undone: bool = False) -> None:
        """The case moved on: its work is done, unless it left for good, or the deadline asked for a step
        of its own that was never taken (`undone`: a monthly report never filed is not "done" when the
        project leaves construction; it lapses, cancelled)."""
        self.close(row, "cancelled" if to_stage == ENDED_STAGE or undone else "done", f"stage:{to_stage}")


@dataclass(slots=True)
class _Moment:
    """One case's step, as the rules that start deadlines see it (not frozen: a frozen dataclass's
    __init__ sets each field through object.__setattr__, several µs for every case of a list)."""
    rules: Rules
    procedure: str
    proc_def: Any
    step: Any
    p: Any                  # the plan
    o: Any                  # the outcome
    open_rows: Sequence = ()    # the case's deadlines open before the step
    workflow: Any = None

    @property
    def moved(self) -> bool:
        return self.o.to_stage != self.o.from_stage

    @property
    def effective(self) -> date:
        return self.p.ctx.effective_date

    def draft(self, name: str, rule: RuleDef, start: date, basis: str, *args, **kw) -> _Draft:
        return _Draft(name, rule, self.o.case_id, self.p.case.region_code, start, basis, *args, **kw)


def after_steps(app, conn: Connection, workflow, procedure: str, step, plans: Sequence, outcomes: Sequence,
                now: datetime) -> None:
    """Close the deadlines this step's work ends and create the ones it starts; a handful of
    statements for the whole list (the step's own transaction)."""
    rules = compiled(app.config)
    if rules is None or not rules.by_kind.get(workflow.kind):
        return
    kind_rules = rules.by_kind[workflow.kind]
    still_open = open_rows(conn, [o.case_id for o in outcomes])
    open_by_case: dict[int, list] = defaultdict(list)
    for r in still_open:
        open_by_case[r.case_id].append(r)
    work = _Work(now)
    starts = _starts(kind_rules)
    today = aware(now).astimezone(rules.tz).date()
    late_after = app.config.policy.data.inspection.late_entry_days
    for p, o in zip(plans, outcomes):
        moment = _Moment(rules, procedure, workflow.procedures[procedure], step, p, o, open_by_case.get(o.case_id, ()),
                         workflow)
        # A step entered after the fact (a paper file brought in afterwards, dated months back): the deadlines it
        # closes are judged by the date it bears, and those it starts, past due already, are alerted as if due
        # `late_after` days after today (time to enter the rest of the file), not at once up to the discipline
        # commission for a lapse that was the entry's, not the work's.
        late = (today - moment.effective).days > late_after
        work.met_on, drafted = (moment.effective if late else None), len(work.drafts)
        renewals = _close_ended(work, kind_rules, moment.open_rows, moment)
        _close_dropped_measures(work, kind_rules, moment)
        for name, rule, triggers in starts:
            for trig, start in triggers:
                work.drafts.extend(start(moment, name, rule, trig))
        work.drafts.extend(_follow(work, kind_rules, moment))
        work.drafts.extend(moment.draft(name, rule, moment.effective, basis_of(rule), owner=owner_spec(rule, p, None))
                           for name, rule in renewals)
        if late:
            for d in work.drafts[drafted:]:
                d.alerts_from = today + timedelta(days=late_after)
    work.met_on = None
    work.drafts.extend(_sample_waits(conn, kind_rules, work, plans, outcomes, open_by_case))
    _supersede(conn, work, still_open)
    _write(conn, rules, work, app.policy_version)


def after_recorded(app, conn: Connection, case, procedure: str, step_key: str, data: dict, outcome,
                   effective: date, now: datetime) -> None:
    """A procedure's step recorded outside `perform_step` (a problem item's wrong-exit finding reopening
    a household at once): its deadlines closed and started as a step's are, in its transaction.
    `outcome` as a step's (StepOutcome: case_id, procedure_id, decision, from_stage, to_stage, status)."""
    workflow = app.config.workflows[case.kind]
    step = workflow.procedures[procedure].step(step_key)
    plan = SimpleNamespace(case=case, data=data, open_proc=None, notice_end=None, notice_days=None,
                           ctx=SimpleNamespace(effective_date=effective, evidence={}))
    after_steps(app, conn, workflow, procedure, step, [plan], [outcome], now)


def after_procedure_rejected(conn: Connection, case_id: int, procedure_id: int, now: datetime) -> int:
    """Close the open deadlines of a procedure rejected outside a step (an objection upheld), in its
    transaction: they stayed open and overdue until the next sweep cancelled them."""
    return _cancel_of_procedure(conn, case_id, procedure_id, now, "procedure rejected")


def after_steps_voided(conn: Connection, case_id: int, procedure_id: int, now: datetime, app=None, case=None,
                       waiting=None, kept: Sequence = ()) -> int:
    """Steps of an open procedure voided (evidence or facts they relied on changed), in that change's
    transaction: the case waits again for the first of them, so a deadline waiting for a later step
    (the township's review once the notice had run) is cancelled; left open it went overdue and
    escalated, on the township's lists, for a step nobody may do until the village has done its steps
    again. The procedure's own time limit (15 days from a risk clue) runs on, waiting for that step
    (`waiting`, when given) and, `owner: step_roles`, owned by who must do it again."""
    cancelled = _cancel_of_procedure(conn, case_id, procedure_id, now, "steps voided", t.deadlines.c.type == "waiting")
    rules = compiled(app.config) if app is not None and waiting is not None else None
    if rules is None:
        return cancelled
    work = _Work(now)
    work.drafts.extend(_waits_again(app, rules, case, procedure_id, waiting, kept))
    for r in open_rows(conn, [case_id]):
        rule = rules.rules.get(r.rule)
        if rule is None or r.type != "procedure" or r.procedure_id != procedure_id or r.step_key == waiting.key:
            continue
        owner = (("roles", tuple(waiting.roles), frozenset(s.person_id for s in kept))
                 if rule.owner == "step_roles" else ())
        work.drafts.append(_Draft(r.rule, rule, case_id, case.region_code, r.start_on, r.basis, r.procedure_id,
                                  waiting.key, r.subject, owner=owner, adopts=r, reason="steps voided"))
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, app.policy_version)
    return cancelled


def _waits_again(app, rules: Rules, case, procedure_id: int, waiting, kept: Sequence) -> list[_Draft]:
    """The step a case waits for again once later steps were voided (an exit's acknowledgement, its signed
    confirmation replaced): the `waiting` rules that date it, from today, as when the step before was done."""
    workflow = app.config.workflows.get(case.kind)
    procedure = next((n for n, p in (workflow.procedures.items() if workflow else ()) if waiting in p.steps), None)
    covering = _waits_covered(workflow, rules.by_kind.get(case.kind, {})).get((procedure, waiting.key), ())
    exclude = frozenset(x for s in kept for x in [s.person_id, *s.data.get("verifier_ids", [])])
    named = SimpleNamespace(data={}, case=SimpleNamespace(attrs=getattr(case, "attrs", None) or {}))
    roles = roles_at(app.config, waiting, case.region_code, app.clock.today())
    basis = lambda rule: basis_of(rule, rules.role_level(roles))   # noqa: E731
    return [_Draft(name, rule, case.id, case.region_code, app.clock.today(), basis(rule),
                   procedure_id, waiting.key, f"{procedure_id}:{waiting.key}",
                   owner=(("roles", roles, exclude) if rule.owner == "step_roles"
                          else owner_spec(rule, named, None, exclude)))
            for name, rule, _ in covering]


# --- a sample check's wrong exit waiting for its problem item (engine/services/sampling) ---------------

WRONG_EXIT_CORRECTION = "reopen_wrong_exit"     # 错退纠正 (config/workflows/household.yaml)
# the households' wrong exits recorded by a sample check with no problem item yet (ix_sample_findings_case_id)
_WAITING_SAMPLED = select(t.sample_findings.c.case_id).where(
    one_of(t.sample_findings.c.case_id), t.sample_findings.c.finding == "wrong_exit",
    t.sample_findings.c.problem_id.is_(None)).distinct()


def _sample_waits(conn: Connection, kind_rules: dict[str, RuleDef], work: _Work, plans: Sequence, outcomes: Sequence,
                  open_by_case: dict) -> list[_Draft]:
    """A household's procedure ended (completed, rejected) with a sample check's wrong exit recorded on it while
    it was under way and still no problem item (nothing registered one, or its 错退纠正 was rejected), whatever
    the household's stage now (a wrong-exit problem item reopens one still exited; one a 返贫 reopening put back
    under assistance is not reopened again, but its exit chain is still named): each rule `when: {sample_waiting:
    true}` starts, for the county office to register it (`problem add`); one a household, not started again
    while open. A procedure started on a household still exited: the office cannot reopen it now, so an open one
    is cancelled (started again when that procedure ends)."""
    named = [(n, r) for n, r in kind_rules.items() if any(tr.sample_waiting for tr in r.when)]
    if not named:
        return []
    ended: dict[int, Any] = {}
    for p, o in zip(plans, outcomes):
        if getattr(p, "beside", False):
            continue            # run beside the open procedure, which has not ended
        if o.procedure_status != "open":
            # a completed 错退纠正 registers its own item, the finding's too (workflows/problem.py); after any
            # other end the household's wrong exit is registered, reopening it if it is still exited
            if o.to_stage in EXITED_STAGES or getattr(p.ctx, "procedure", None) != WRONG_EXIT_CORRECTION:
                ended[o.case_id] = p
        elif p.open_proc is None and p.case.stage in EXITED_STAGES:     # it cannot be reopened meanwhile
            for d in open_by_case.get(o.case_id, ()):
                if d.type == "sample":
                    work.close(d, "cancelled", "procedure under way")
    if not ended:
        return []
    drafts = []
    for case_id in conn.execute(_WAITING_SAMPLED, {"ids": sorted(ended)}).scalars():
        p, running = ended[case_id], {d.rule for d in open_by_case.get(case_id, ()) if d.id not in work.closes}
        drafts.extend(_Draft(name, rule, case_id, p.case.region_code, p.ctx.effective_date, basis_of(rule),
                             owner=owner_spec(rule, p, None)) for name, rule in named if name not in running)
    return drafts


def after_procedure_ended(app, conn: Connection, case, now: datetime) -> None:
    """A household's procedure ended outside a step (an objection upheld rejected it), in that transaction:
    a sample check's wrong exit waiting on it is due to be registered, as after a step (_sample_waits)."""
    rules = compiled(app.config)
    kind_rules = rules.by_kind.get(case.kind) if rules is not None else None
    if not kind_rules:
        return
    plan = SimpleNamespace(case=case, data={}, open_proc=None, ctx=SimpleNamespace(effective_date=app.clock.today()))
    work = _Work(now)
    work.drafts = _sample_waits(conn, kind_rules, work, [plan], [SimpleNamespace(
        case_id=case.id, procedure_status="rejected", to_stage=case.stage)], {case.id: open_rows(conn, [case.id])})
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, app.policy_version)


def open_sample_waits(conn: Connection, config: Config, today: date, now: datetime) -> int:
    """Rules `when: {sample_waiting: true}` installed (`config install`): the wrong exits waiting already for
    the county office, nothing under way on their household if it is still exited (recorded before this home had
    the rule), are
    due from today as if their procedure had just ended; those with one open are left as they are. A few
    a county a year: the findings with no problem item, read whole. Returns how many were opened."""
    rules = compiled(config)
    named = [(n, r) for n, r in (rules.rules.items() if rules is not None else ())
             if r.kind == "household" and any(tr.sample_waiting for tr in r.when)]
    if not named:
        return 0
    f, d = t.sample_findings.c, t.deadlines.c
    running = {(c, r) for c, r in conn.execute(select(d.case_id, d.rule).where(
        d.rule.in_([n for n, _ in named]), d.status == _OPEN))}
    work = _Work(now)
    for c in conn.execute(select(t.cases.c.id, t.cases.c.region_code).where(
            t.cases.c.id.in_(select(f.case_id).where(f.finding == "wrong_exit", f.problem_id.is_(None))),
            or_(t.cases.c.open_procedure_id.is_(None), t.cases.c.stage.not_in(EXITED_STAGES))).order_by(t.cases.c.id)):
        case = SimpleNamespace(data={}, case=SimpleNamespace(attrs={}))
        work.drafts.extend(_Draft(name, rule, c.id, c.region_code, today, basis_of(rule),
                                  owner=owner_spec(rule, case, None)) for name, rule in named
                           if (c.id, name) not in running)
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, config.version)
    return len(work.drafts)


_CATCH_UP_BATCH = 1000


def open_step_waits(conn: Connection, config: Config, now: datetime) -> int:
    """Rules `when: {waiting: [...]}` new to a home (`config install`, or a release's packaged rules at `init`):
    the cases already waiting at a step one covers (an exit stuck at its acknowledgement since before the rule)
    get the deadline the step before would have written, dated from when they began to wait (that step's date;
    after a notice, the notice's end), owned as it would be (who took part excluded), so they are overdue and
    escalated at the next sweep as any other. One open already is left as it is. Read by the step waited for
    (ix_cases_pending), a batch at a time. Returns how many were opened."""
    rules = compiled(config)
    opened = 0
    for kind, kind_rules in (rules.by_kind.items() if rules is not None else ()):
        workflow = config.workflows.get(kind)
        for (procedure, step), covering in _waits_covered(workflow, kind_rules).items():
            last = 0
            while True:
                c = t.cases.c
                cases = conn.execute(select(c.id, c.region_code, c.open_procedure_id, c.attrs).where(
                    c.pending_procedure == procedure, c.pending_step == step, c.kind == kind,
                    c.open_procedure_id.is_not(None), c.id > last).order_by(c.id).limit(_CATCH_UP_BATCH)).all()
                if not cases:
                    break
                last = cases[-1].id
                opened += _open_waits_of(conn, rules, config, workflow.procedures[procedure].step(step), covering,
                                         cases, now)
    return opened


def open_stage_waits(conn: Connection, config: Config, now: datetime) -> int:
    """Rules `when: {enters: STAGE}` new to a home (no deadline of theirs written here yet: `config install`, or
    a release's packaged rules at `init`): the cases already at that stage, entered by a procedure, get the
    deadline their entering would have written (a problem item reported before `problem_verification` existed:
    due to be verified from its report), dated from that procedure's last step, owned as it would be, so one
    long waiting is overdue and escalated at the next sweep. Only rules nothing else closes (no `until`) and
    counted in days: their deadline is open exactly while the case is at the stage. Read by stage
    (ix_cases_kind_stage_region), a batch at a time. Returns how many were opened."""
    rules = compiled(config)
    opened = 0
    d, c, p, s = t.deadlines.c, t.cases.c, t.procedures.c, t.steps.c
    for kind, kind_rules in (rules.by_kind.items() if rules is not None else ()):
        workflow = config.workflows.get(kind)
        for name, rule in kind_rules.items():
            stages = {tr.enters for tr in rule.when if tr.enters and not tr.source}
            if (rule.type != "stage" or len(stages) != 1 or rule.until or rule.days is None
                    or conn.execute(select(d.id).where(d.rule == name).limit(1)).first() is not None):
                continue
            stage, last = stages.pop(), 0
            while True:
                cases = conn.execute(select(c.id, c.region_code, c.attrs).where(
                    c.kind == kind, c.stage == stage, c.id > last).order_by(c.id).limit(_CATCH_UP_BATCH)).all()
                if not cases:
                    break
                last = cases[-1].id
                entered = select(func.max(p.id)).where(p.case_id.in_([r.id for r in cases]), p.status == "completed",
                                                       p.to_stage == stage).group_by(p.case_id)
                since = dict(conn.execute(select(s.case_id, func.max(s.effective_date)).where(
                    s.procedure_id.in_(entered), s.voided_at.is_(None)).group_by(s.case_id)).all())
                work = _Work(now)
                for case in cases:
                    if case.id in since:
                        record = SimpleNamespace(data={}, case=SimpleNamespace(attrs=case.attrs or {}))
                        step, owner = _stage_owner(workflow, rule, stage, record)
                        work.drafts.append(_Draft(name, rule, case.id, case.region_code, as_date(since[case.id]),
                                                  basis_of(rule), step_key=step, owner=owner))
                if work.drafts:
                    _find_owners(conn, work.drafts)
                    _write(conn, rules, work, config.version)
                    opened += len(work.drafts)
    return opened


def _waits_covered(workflow, kind_rules: dict[str, RuleDef]) -> dict[tuple[str, str], list]:
    """(procedure, step) -> [(rule's name, rule, whether right after a notice)]: the steps after a first that a
    `waiting` rule dates, as `_on_waiting` does when the step before is done."""
    covered: dict[tuple[str, str], list] = defaultdict(list)
    limited = limited_procedures(kind_rules)
    for name, proc in (workflow.procedures.items() if workflow is not None else ()):
        if name in limited:
            continue        # dated by its own limit alone (_on_waiting)
        for before, step in zip(proc.steps, proc.steps[1:]):
            after_notice = before.type == "notice"
            for rule_name, rule in kind_rules.items():
                if dates_waiting(rule, step, before):
                    covered[(name, step.key)].append((rule_name, rule, after_notice))
    return covered


def _open_waits_of(conn: Connection, rules: Rules, config: Config, step, covering: list, cases: list,
                   now: datetime) -> int:
    s, n = t.steps.c, t.notices.c
    procs = [r.open_procedure_id for r in cases]
    last_ids = select(func.max(s.id)).where(s.procedure_id.in_(procs), s.voided_at.is_(None)).group_by(s.procedure_id)
    began = {r.procedure_id: r for r in conn.execute(
        select(s.procedure_id, s.effective_date, n.end_date).outerjoin(t.notices, n.id == s.notice_id)
        .where(s.id.in_(last_ids)))}
    took_part: dict[int, set] = defaultdict(set)
    for r in conn.execute(select(s.procedure_id, s.person_id, s.data).where(s.procedure_id.in_(procs),
                                                                            s.voided_at.is_(None))):
        took_part[r.procedure_id].add(r.person_id)
        took_part[r.procedure_id].update((r.data or {}).get("verifier_ids", []))
    running = {(r.case_id, r.rule, r.subject) for r in open_rows(conn, [r.id for r in cases])}
    work = _Work(now)
    for case in cases:
        start, subject = began.get(case.open_procedure_id), f"{case.open_procedure_id}:{step.key}"
        for name, rule, after_notice in covering:
            if start is None or (case.id, name, subject) in running:
                continue
            exclude = frozenset(took_part[case.open_procedure_id])
            since = (start.end_date or start.effective_date) if after_notice else start.effective_date
            roles = roles_at(config, step, case.region_code, since)
            named = SimpleNamespace(data={}, case=SimpleNamespace(attrs=case.attrs or {}))   # a project's leader
            owner = (("roles", roles, exclude) if rule.owner == "step_roles"
                     else owner_spec(rule, named, None, exclude))
            work.drafts.append(_Draft(name, rule, case.id, case.region_code, since,
                                      basis_of(rule, rules.role_level(roles)), case.open_procedure_id, step.key,
                                      subject, owner=owner))
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, config.version)
    return len(work.drafts)


def after_sampled_linked(conn: Connection, finding_ids: Sequence[int], now: datetime) -> int:
    """A problem item registered for a sample check's waiting wrong exits (linked to them), in its
    transaction: their households' deadlines to register it are done."""
    cases = select(t.sample_findings.c.case_id).where(t.sample_findings.c.id.in_(list(finding_ids)))
    found = conn.execute(select(t.deadlines.c.id).where(
        t.deadlines.c.case_id.in_(cases), t.deadlines.c.type == "sample", t.deadlines.c.status == _OPEN)).scalars().all()
    if found:
        conn.execute(CLOSE, [{"b_id": i, "b_status": "done", "b_at": now, "b_reason": "problem registered"}
                             for i in found])
    return len(found)


def _cancel_of_procedure(conn: Connection, case_id: int, procedure_id: int, now: datetime, reason: str,
                         *where) -> int:
    found = conn.execute(select(t.deadlines.c.id).where(
        t.deadlines.c.case_id == case_id, t.deadlines.c.procedure_id == procedure_id,
        t.deadlines.c.status == _OPEN, *where)).scalars().all()
    if found:
        conn.execute(CLOSE, [{"b_id": i, "b_status": "cancelled", "b_at": now, "b_reason": reason} for i in found])
    return len(found)


def open_rows(conn: Connection, case_ids: list[int]) -> list:
    """The cases' open deadlines."""
    if len(case_ids) == 1:
        return _OPEN_OF_CASE.rows(conn, {"id": case_ids[0]})
    return conn.execute(_OPEN_OF_CASES, {"ids": case_ids}).all()


def _close_ended(work: _Work, kind_rules: dict[str, RuleDef], rows: Iterable, m: _Moment) -> list[tuple]:
    """Close the case's open deadlines this step ends; returns the (name, rule) of those to renew."""
    renewals: list[tuple] = []
    for d in rows:
        rule = kind_rules.get(d.rule)
        _close_by_type(work, d, rule, m)
        if rule is None or d.id in work.closes:
            continue
        renewals.extend((d.rule, rule) for _ in _close_by_until(work, d, rule, m) if rule.renew)
    return renewals


def _close_by_type(work: _Work, d, rule: RuleDef | None, m: _Moment) -> None:
    o, key = m.o, m.step.key
    if d.type == "waiting":
        if d.procedure_id == o.procedure_id and d.step_key == key:
            work.close(d, "done", f"step:{key}")
        elif not getattr(m.p, "beside", False):   # the case now waits for something else (a step voided, another procedure)
            work.close(d, "cancelled", "no longer waiting")
    elif d.type == "procedure" and d.procedure_id == o.procedure_id and o.procedure_status != "open":
        work.close(d, "done" if o.procedure_status == "completed" else "cancelled", f"procedure:{o.procedure_status}")
    elif d.type == "stage" and m.moved and rule is not None and any(tr.enters == o.from_stage for tr in rule.when):
        asked = [u.step for u in rule.until if u.step]       # a step of its own, not taken by this one
        work.left(d, o.to_stage, undone=bool(asked) and not (key in asked and o.decision != "rejected"))
    elif (d.type == "procedure" and d.procedure_id is None and m.moved and rule is not None
          and o.to_stage not in m.workflow.procedures[rule.started_procedure].sources):
        work.left(d, o.to_stage)    # a risk seen, then the household left the stage monitoring runs in


def _close_by_until(work: _Work, d, rule: RuleDef, m: _Moment) -> list[bool]:
    """Close `d` where one of its rule's `until` is met; one entry per `until` met by this step."""
    o, key, done_by_step = m.o, m.step.key, []
    for until in rule.until:
        if until.enters and m.moved and o.to_stage in until.enters:
            work.left(d, o.to_stage)
        elif until.leaves and m.moved and o.from_stage == until.leaves:
            work.left(d, o.to_stage)
        elif until.step == key and o.decision != "rejected" and (
                until.match is None or str(m.p.data.get(until.match, "")) == d.subject):
            work.close(d, "done", f"step:{key}")
            done_by_step.append(True)
    return done_by_step


def _supersede(conn: Connection, work: _Work, open_rows: list) -> None:
    """Work started again while an older deadline for it is still open: the new one replaces it."""
    if not work.drafts:
        return
    adopted = {d.adopts.id for d in work.drafts if d.adopts is not None}
    fresh = {(d.case_id, d.rule_name, d.subject) for d in work.drafts if d.adopts is None}
    for r in open_rows:
        if r.id not in work.closes and r.id not in adopted and (r.case_id, r.rule, r.subject) in fresh:
            work.close(r, "cancelled", "superseded")
    work.drafts = list({("adopts", d.adopts.id) if d.adopts is not None else (d.case_id, d.rule_name, d.subject): d
                        for d in work.drafts}.values())
    _find_owners(conn, work.drafts)


def _write(conn: Connection, rules: Rules, work: _Work, version: str) -> None:
    if work.closes:
        conn.execute(CLOSE, list(work.closes.values()))
    new = [_row(rules, d, work.now, version) for d in work.drafts if d.adopts is None]
    if new:
        conn.execute(_INSERT, new)
    moved = [_moved_row(rules, d, work.now, version) for d in work.drafts
             if d.adopts is not None and d.adopts.id not in work.closes]
    if moved:
        conn.execute(_CARRY_ON, moved)


_CARRY_ON = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == _OPEN).values(
    procedure_id=bindparam("procedure_id"), step_key=bindparam("step_key"), subject=bindparam("subject"),
    start_on=bindparam("start_on"), due_on=bindparam("due_on"), due_at=bindparam("due_at"), ladder=bindparam("ladder"),
    next_level=bindparam("next_level"), next_alert_at=bindparam("next_alert_at"), provisional=bindparam("provisional"),
    owner_id=bindparam("owner_id"), owner_role=bindparam("owner_role"), owner_changes=bindparam("owner_changes"),
    alerts_from=bindparam("alerts_from"), rules_version=bindparam("rules_version"))


def _moved_row(rules: Rules, d: _Draft, now: datetime, version: str) -> dict[str, Any]:
    """The UPDATE's values of an open deadline the work carries on (`d.adopts`): the step it waits for,
    its owner (who must act on that step; the change recorded), and its due time counted again from
    `d.start_on` (the levels already alerted stay alerted, as for a changed rule)."""
    r = d.adopts
    sched, alerted = schedules(rules, d.rule, r.basis, d.start_on, d.alerts_from, r.region_code[:2], None)
    nxt = next_after_passed(r.ladder, r.next_level, alerted.ladder)
    changes = list(r.owner_changes or [])
    owner_id, owner_role = (d.owner_id, d.owner_role) if d.owner else (r.owner_id, r.owner_role)
    if (owner_id, owner_role) != (r.owner_id, r.owner_role):
        changes.append({"at": now.isoformat(), "from": r.owner_id, "from_role": r.owner_role, "to": owner_id,
                        "role": owner_role, "reason": d.reason[:40]})
    return {"b_id": r.id, "procedure_id": d.procedure_id, "step_key": d.step_key, "subject": d.subject,
            "start_on": d.start_on, "due_on": sched.due_on, "due_at": sched.due_at, "ladder": alerted.ladder,
            "next_level": nxt["level"] if nxt else None, "next_alert_at": parse_at(nxt["at"]) if nxt else None,
            "provisional": sched.provisional or alerted.provisional,
            "alerts_from": d.alerts_from if alerted is not sched else None,
            "owner_id": owner_id, "owner_role": owner_role,
            "owner_changes": changes or None, "rules_version": version}


def _starts(kind_rules: dict[str, RuleDef]) -> list[tuple]:
    """(name, rule, its triggers) of each rule of a kind: what every step asks of every case, found once
    per set of rules (kept with it)."""
    kept = _STARTS.get(id(kind_rules))
    if kept is None or kept[0] is not kind_rules:
        kept = _STARTS[id(kind_rules)] = (kind_rules, [(name, rule, _triggers(rule)) for name, rule in kind_rules.items()])
    return kept[1]


_STARTS: dict[int, tuple[dict, list]] = {}


def _triggers(rule: RuleDef) -> list[tuple]:
    """(trigger, what starts the rule's deadlines by it) of each of the rule's triggers: by the first
    kind it names (a step asks them of every case of its list)."""
    found = []
    for trig in rule.when:
        for attr, start in _TRIGGERS:
            if getattr(trig, attr) is not None:
                found.append((trig, start))
                break
    return found


def _given_due(rule: RuleDef, p, item: dict | None = None) -> date | None:
    """The due date a rule takes from a field of the step, case or item (None if it does not)."""
    if isinstance(rule.due, DueOn) and rule.due.field:
        return as_date(value_of(rule.due.field, p.data, p.case.attrs, item))
    return None


def _on_enters(m: _Moment, name: str, rule: RuleDef, trig) -> list[_Draft]:
    o = m.o
    if not (m.moved and o.to_stage == trig.enters and (not trig.source or o.from_stage in trig.source)):
        return []
    step, owner = _stage_owner(m.workflow, rule, trig.enters, m.p)
    return [m.draft(name, rule, m.effective, basis_of(rule), step_key=step, given_due=_given_due(rule, m.p),
                    owner=owner)]


def _stage_owner(workflow, rule: RuleDef, stage: str, p) -> tuple[str | None, tuple]:
    """(the step a case entering `stage` waits for, the owner's spec): the first step of the procedure it
    waits in (`_waits_in`), whose roles own the deadline when the rule says `owner: step_roles`."""
    name = waits_in(workflow, rule, stage)
    step = workflow.procedures[name].steps[0] if name else None
    if rule.owner == "step_roles":
        return (step.key, ("roles", tuple(step.roles), frozenset())) if step else (None, ())
    return (step.key if step else None), owner_spec(rule, p, None)


_SET_STEP = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == _OPEN).values(
    step_key=bindparam("b_step"))


def correct_awaited_steps(conn: Connection, config: Config) -> int:
    """Open deadlines of a stage's rule closed by a step of another procedure than the stage's main one (a new
    plan after a reopening: `until: plan_approval`), written before they named the step they wait for, named
    the stage's main step instead (the exit's proposal): each is set to the step the case waits for in that
    procedure (its plan, or its approval once the plan is proposed), what every list, export and alert says.
    Run at each upgrade (`init`) and `config install`: an indexed read of those rules' open deadlines (few:
    reopenings, monitored households). Returns how many were put right."""
    rules = compiled(config)
    named = {n: r for n, r in (rules.rules.items() if rules is not None else ())
             if any(tr.enters for tr in r.when) and any(u.step for u in r.until)}
    if not named:
        return 0
    d, c = t.deadlines.c, t.cases.c
    fixes = []
    for r in conn.execute(select(d.id, d.rule, d.step_key, c.kind, c.stage, c.pending_procedure, c.pending_step)
                          .join(t.cases, t.cases.c.id == d.case_id)
                          .where(d.rule.in_(sorted(named)), d.status == _OPEN, d.type.in_(("stage", "step")))):
        workflow = config.workflows.get(r.kind)
        awaited = awaited_procedure(workflow, named[r.rule], r.stage)
        if awaited is None:
            continue
        step = r.pending_step if r.pending_procedure == awaited else workflow.procedures[awaited].steps[0].key
        if step != r.step_key:
            fixes.append({"b_id": r.id, "b_step": step})
    if fixes:
        conn.execute(_SET_STEP, fixes)
    return len(fixes)


def cancel_waits_of_limited(conn: Connection, config: Config, now: datetime) -> int:
    """Open `waiting` deadlines (a step due within days of the one before) on a procedure a limit of its own
    dates (monitoring's 15 days), written before such a step was dated by that limit alone: each counted the same
    lapse a second time, in every overdue total, mail and table. They are cancelled; the limit runs on. Run at
    each upgrade (`init`) and `config install`: the open deadlines of those procedures, read by their
    procedure (few: identifications under way). Returns how many were cancelled."""
    rules = compiled(config)
    limited = sorted({p for kind_limited in (rules.limited.values() if rules is not None else ()) for p in kind_limited})
    if not limited:
        return 0
    d, p = t.deadlines.c, t.procedures.c
    found = conn.execute(select(d.id).join(t.procedures, p.id == d.procedure_id).where(
        d.status == _OPEN, d.type == "waiting", p.status == "open", p.kind.in_(limited))).scalars().all()
    if found:
        conn.execute(CLOSE, [{"b_id": i, "b_status": "cancelled", "b_at": now, "b_reason": "own limit"}
                             for i in found])
    return len(found)


def after_case_opened(app, conn: Connection, case, now: datetime) -> None:
    """A case opened (a problem item found) starts the deadlines of the rules that run from its first
    stage (`when: {enters: found}`: to be assigned within days), in its registration's transaction."""
    rules = compiled(app.config)
    workflow = app.config.workflows.get(case.kind)
    if rules is None or workflow is None:
        return
    work, today = _Work(now), app.clock.today()
    record = _Recorded({})
    record.case = SimpleNamespace(attrs=case.attrs or {})
    for name, rule in rules.by_kind.get(case.kind, {}).items():
        if any(tr.enters == case.stage and not tr.source for tr in rule.when):
            step, owner = _stage_owner(workflow, rule, case.stage, record)
            work.drafts.append(_Draft(name, rule, case.id, case.region_code, today, basis_of(rule), step_key=step,
                                      owner=owner))
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, app.policy_version)


def after_risk_visit(app, conn: Connection, case, visit_date: date, now: datetime) -> None:
    """A visit found a risk of poverty (DOMAIN §3): the first clue. Each rule that runs from it
    (`risk_visit`) starts its clock on the visit's day, owned by who may start the procedure it leads
    to (monitoring), unless that procedure is not to be started (the household is monitored already,
    or at a stage monitoring does not run in). A clock running already is not started again; a visit
    dated before its start moves it earlier (the first clue), never later."""
    rules = compiled(app.config)
    workflow = app.config.workflows.get(case.kind)
    if rules is None or workflow is None:
        return
    offered = app.rules[case.kind].offered if case.kind in app.rules else None
    rows = open_rows(conn, [case.id])
    work = _Work(now)
    for name, rule in rules.by_kind.get(case.kind, {}).items():
        procedure = rule.started_procedure
        if procedure is None or not any(tr.risk_visit for tr in rule.when):
            continue
        running = next((r for r in rows if r.rule == name), None)
        if running is not None:
            if visit_date < running.start_on:
                work.drafts.append(_Draft(name, rule, case.id, case.region_code, visit_date, running.basis,
                                          running.procedure_id, running.step_key, running.subject, adopts=running))
            continue
        proc = workflow.procedures[procedure]
        if case.stage not in proc.sources or (offered is not None and not offered(case, procedure)):
            continue
        first = proc.steps[0]
        owner = (("roles", tuple(first.roles), frozenset()) if rule.owner == "step_roles"
                 else owner_spec(rule, SimpleNamespace(data={}, case=case), None))
        work.drafts.append(_Draft(name, rule, case.id, case.region_code, visit_date, basis_of(rule),
                                  step_key=first.key, owner=owner))
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, app.policy_version)


def clue_fields(app) -> dict[str, tuple[str, str]]:
    """{evidence type: (its date field, the procedure it leads to)} of each first clue a rule's days run
    from (`risk_visit` rules' `start_from`: the monitoring clue's date, leading to monitoring)."""
    rules = compiled(app.config)
    return {rule.start_from.split(".", 1)[0]: (rule.start_from.split(".", 1)[1], rule.started_procedure)
            for kind_rules in (rules.by_kind.values() if rules else ()) for rule in kind_rules.values()
            if rule.start_from and "." in rule.start_from and rule.started_procedure
            and any(tr.risk_visit for tr in rule.when)}


def after_clues(app, conn: Connection, cases: dict[int, Any], evidence_ids: Sequence[int], types: Iterable[str],
                now: datetime) -> None:
    """Evidence just recorded on `cases` (by id): each first clue among it, from whichever channel (a
    department's list imported, a clue typed before its procedure starts), starts the days to identify
    as a risk found on a visit does (after_risk_visit), from the clue's date as stored; a household
    monitored already, or whose clock runs already (an identification open), starts none."""
    wanted = clue_fields(app)
    if not wanted.keys() & set(types):
        return
    for ev in conn.execute(_EVIDENCE_FIELDS, {"ids": list(evidence_ids)}):
        day = as_date((ev.fields or {}).get(wanted[ev.type][0])) if ev.type in wanted else None
        if day is not None:
            after_risk_visit(app, conn, cases[ev.case_id], day, now)


def _on_waiting(m: _Moment, name: str, rule: RuleDef, trig) -> list[_Draft]:
    p, o = m.p, m.o
    if o.procedure_status != "open" or m.procedure in m.rules.limited.get(m.workflow.kind, ()):
        return []           # a procedure with a limit of its own (monitoring's 15 days) is dated by it alone
    nxt = m.proc_def.steps[(len(p.open_proc.steps) if p.open_proc else 0) + 1]
    after_notice = m.step.type == "notice"
    if trig.after_notice is not None and trig.after_notice != after_notice:
        return []
    if "any" not in trig.waiting and nxt.type not in trig.waiting:
        return []
    start = (p.notice_end or m.effective + timedelta(days=p.notice_days or 0)) if after_notice else m.effective
    exclude = set(participants(p))
    roles = roles_at(m.rules.config, nxt, p.case.region_code, start)    # the county's or the city's, by province
    owner = (("roles", roles, frozenset(exclude)) if rule.owner == "step_roles"
             else owner_spec(rule, p, None, exclude))
    return [m.draft(name, rule, start, basis_of(rule, m.rules.role_level(roles)), o.procedure_id, nxt.key,
                    f"{o.procedure_id}:{nxt.key}", owner=owner)]


def _on_starts(m: _Moment, name: str, rule: RuleDef, trig) -> list[_Draft]:
    p, o = m.p, m.o
    if not (p.open_proc is None and m.procedure == trig.starts and o.procedure_status == "open"):
        return []
    start = m.effective
    if rule.start_from:   # e.g. the clue's own date: the 15 days run from the first clue
        etype, _, fname = rule.start_from.partition(".")
        ev = p.ctx.evidence.get(etype)
        start = (as_date(ev.fields.get(fname)) if ev is not None else None) or m.effective
    # A clock the first clue started (a risk found on a visit) runs on: a clue dated later moves nothing.
    first = next((d for d in m.open_rows if d.rule == name and d.procedure_id is None), None)
    nxt = _waiting_step(m)
    owner = (("roles", tuple(nxt.roles), frozenset(participants(p))) if rule.owner == "step_roles" and nxt
             else owner_spec(rule, p, None))
    return [m.draft(name, rule, min(start, first.start_on) if first else start, basis_of(rule), o.procedure_id,
                    nxt.key if nxt else None, str(o.procedure_id), owner=owner, adopts=first,
                    reason=f"step:{m.step.key}")]


def _waiting_step(m: _Moment):
    """The step the open procedure waits for once this step is done (None when it is over)."""
    if m.o.procedure_status != "open":
        return None
    done = (len(m.p.open_proc.steps) if m.p.open_proc else 0) + 1
    return m.proc_def.steps[done] if done < len(m.proc_def.steps) else None


def _follow(work: _Work, kind_rules: dict[str, RuleDef], m: _Moment) -> list[_Draft]:
    """A procedure's deadline (15 days to identify a monitored household) waits for its next step once
    a step is done: the step waited for is shown with it and, `owner: step_roles`, its owner is who
    must do that step (the township's staff while it waits for the township's review), so the alerts
    and the escalation go to who can act. Its due time does not move."""
    nxt = _waiting_step(m)
    if nxt is None and m.o.procedure_status == "rejected":
        nxt = m.proc_def.steps[0]       # the procedure to be started again: a stage's deadline waits for its start
    if nxt is None:
        return []
    found = []
    for d in m.open_rows:
        rule = kind_rules.get(d.rule)
        if rule is None or d.id in work.closes or d.step_key == nxt.key:
            continue
        if d.type == "procedure" and d.procedure_id != m.o.procedure_id:
            continue
        if d.type == "stage" and not any(waits_in(m.workflow, rule, tr.enters) == m.procedure for tr in rule.when
                                         if tr.enters == m.o.to_stage):
            continue        # a stage's deadline follows its procedure's steps (pairing, plan, approval)
        if d.type == "step" and not (d.step_key and any(tr.enters for tr in rule.when)
                                     and awaited_procedure(m.workflow, rule, m.o.to_stage) == m.procedure):
            continue        # as a stage's started by a step too (a new plan: its plan, then its approval)
        if d.type not in ("procedure", "stage", "step"):
            continue
        # a procedure rejected starts again: who signed it before may sign the new one
        signed = frozenset() if m.o.procedure_status == "rejected" else frozenset(participants(m.p))
        owner = (("roles", roles_at(m.rules.config, nxt, m.p.case.region_code, m.effective), signed)
                 if rule.owner == "step_roles" else ())
        found.append(m.draft(d.rule, rule, d.start_on, d.basis, d.procedure_id, nxt.key, d.subject, owner=owner,
                             adopts=d, reason=f"step:{m.step.key}"))
    return found


def _on_step(m: _Moment, name: str, rule: RuleDef, trig) -> list[_Draft]:
    p = m.p
    if m.step.key != trig.step or trig.procedure not in (None, m.procedure) or m.o.decision == "rejected":
        return []
    # A stage's rule a step starts too (a new plan once monitored): it waits for the first step of the
    # procedure its `until` names, as when the case enters the stage (_on_enters)
    awaited = awaited_procedure(m.workflow, rule, m.o.to_stage) if any(tr.enters for tr in rule.when) else None
    first = m.workflow.procedures[awaited].steps[0] if awaited else None
    step_key = first.key if first else None
    if rule.owner == "step_roles":       # owned by who may do the step it waits for, as a stage's
        owned = ("roles", tuple(first.roles), frozenset()) if first else ()
    found = []
    for item in (p.data.get(trig.items) or [] if trig.items else [None]):
        subject = str(item.get("name", "")) if isinstance(item, dict) else ""
        given = _given_due(rule, p, item)
        if isinstance(rule.due, DueOn) and rule.due.field and given is None:
            continue
        found.append(m.draft(name, rule, m.effective, basis_of(rule), subject=subject, given_due=given,
                             owner=owned if rule.owner == "step_roles" else owner_spec(rule, p, item),
                             step_key=step_key))
    return found


def _adopted_measures(m: _Moment) -> set[str] | None:
    """The measure categories of the plan this step puts in force (it completes a procedure with a
    plan step: the assistance, a plan's revision), or None when it puts none in force."""
    if m.o.procedure_status != "completed":
        return None
    plan_keys = {s.key for s in m.proc_def.steps if s.type == "plan"}
    if not plan_keys:
        return None
    records = [m.p.data] if m.step.key in plan_keys else []
    records += [s.data for s in (m.p.open_proc.steps if m.p.open_proc else ()) if s.step_key in plan_keys]
    return {x[0] for data in records for x in data.get("measures", [])}


def _on_measure(m: _Moment, name: str, rule: RuleDef, trig) -> list[_Draft]:
    """A measure's deadline starts when its plan is put in force (approved), not when it is proposed: a
    revision rejected starts none. A measure kept from the plan before keeps its running deadline."""
    adopted = _adopted_measures(m)
    if adopted is None or trig.measure not in adopted or any(
            d.rule == name and d.subject == trig.measure for d in m.open_rows):
        return []
    return [m.draft(name, rule, m.effective, basis_of(rule), subject=trig.measure, owner=owner_spec(rule, m.p, None))]


def _close_dropped_measures(work: _Work, kind_rules: dict[str, RuleDef], m: _Moment) -> None:
    """A plan put in force ends the deadlines of the measures it no longer holds (a revision that
    drops the housing renovation): they would go overdue for work no longer planned."""
    adopted = _adopted_measures(m)
    if adopted is None:
        return
    for d in m.open_rows:
        rule = kind_rules.get(d.rule)
        if rule is not None and d.id not in work.closes and d.subject not in adopted and any(
                getattr(tr, "measure", None) for tr in rule.when):
            work.close(d, "cancelled", "plan revised")


_TRIGGERS = (("enters", _on_enters), ("waiting", _on_waiting), ("starts", _on_starts), ("step", _on_step),
             ("measure", _on_measure))


def _find_owners(conn: Connection, drafts: list[_Draft]) -> None:
    """A named person for every new deadline: a few queries for the whole list."""
    wanted_roles = sorted({r for d in drafts if d.owner and d.owner[0] == "roles" for r in d.owner[1]})
    holders = []
    if wanted_roles:
        regions = sorted({a for d in drafts for a in ancestors_of(d.region_code)})
        holders = conn.execute(HOLDERS, {"roles": wanted_roles, "regions": regions}).all()
    cadres: dict[int, int] = {}
    pairing_cases = [d.case_id for d in drafts if d.owner == ("pairing",)
                     or (d.owner and d.owner[0] == "roles" and PAIRING in d.owner[1])]
    if pairing_cases:
        for r in conn.execute(FIRST_CADRES, {"ids": pairing_cases}):
            cadres.setdefault(r.case_id, r.person_id)
    named = sorted({d.owner[1] for d in drafts if d.owner and d.owner[0] == "person"})
    posts = conn.execute(POSTS_OF, {"ids": named}).all() if named else []
    for d in drafts:
        if not d.owner:
            continue
        if d.owner[0] == "person":   # a person named (a rectification's assignee): in the post they hold there
            d.owner_id = d.owner[1]
            d.owner_role = post_held([p for p in posts if p.person_id == d.owner_id], d.region_code,
                                     _rule_roles(d.rule))
        elif d.owner[0] == "pairing":
            d.owner_id, d.owner_role = cadres.get(d.case_id), "pairing_cadre"
        else:
            d.owner_id, d.owner_role = _nearest(holders, d.owner[1], d.region_code, d.owner[2], cadres.get(d.case_id))



PAIRING = "pairing_cadre"


def _nearest(holders, roles: tuple[str, ...], region_code: str, exclude, cadre: int | None) -> tuple[int | None, str]:
    """The owner among a step's roles, in their order: a pairing cadre is the household's own (first)
    pairing cadre, not whoever holds that role in the village."""
    if PAIRING not in roles:
        return nearest_owner(holders, roles, region_code, exclude)
    i = roles.index(PAIRING)
    before = nearest_owner(holders, roles[:i], region_code, exclude) if i else (None, PAIRING)
    if before[0] is not None:
        return before
    if cadre is not None and cadre not in exclude:
        return cadre, PAIRING
    rest = roles[i + 1:]
    found = nearest_owner(holders, rest, region_code, exclude) if rest else (None, PAIRING)
    return found if found[0] is not None else (None, roles[0])


def _rule_roles(rule: RuleDef) -> tuple[str, ...]:
    return tuple(rule.owner.roles or ()) if isinstance(rule.owner, OwnerSpec) else ()


def schedules(rules: Rules, rule: RuleDef, basis: str, start_on: date, alerts_from: date | None, province: str,
              given: date | None) -> tuple[Schedule, Schedule]:
    """(when a deadline is due, when it is alerted): the same, but for one started by a step entered after the
    fact and due before `alerts_from`, due when the rules say and alerted as if due on `alerts_from`, its ladder
    moved with it (its levels as far apart as ever)."""
    sched = rules.schedule(rule, basis, start_on, province, given)
    if alerts_from is None or alerts_from <= sched.due_on:
        return sched, sched
    shift = alerts_from - sched.due_on
    return sched, rules.schedule(rule, basis, start_on + shift, province, given + shift if given else None)



def _row(rules: Rules, d: _Draft, now: datetime, version: str) -> dict[str, Any]:
    sched, alerted = schedules(rules, d.rule, d.basis, d.start_on, d.alerts_from, d.region_code[:2], d.given_due)
    level, at = alerted.next_from(-1)
    return {"case_id": d.case_id, "procedure_id": d.procedure_id, "step_key": d.step_key, "subject": d.subject,
            "rule": d.rule_name, "type": d.rule.type, "region_code": d.region_code, "owner_id": d.owner_id,
            "owner_role": d.owner_role, "owner_changes": None, "basis": d.basis, "start_on": d.start_on, "due_on": sched.due_on,
            "due_at": sched.due_at, "counting": d.rule.counting, "provisional": sched.provisional or alerted.provisional,
            "ladder": alerted.ladder, "next_level": level, "next_alert_at": at, "status": "open",
            "created_at": now, "closed_at": None, "closed_reason": None, "met_on": None,
            "alerts_from": d.alerts_from if alerted is not sched else None, "rules_version": version}


# --- accountability outcomes, in the transaction that records them ---------------------------------

class _Recorded:
    """An outcome as a rule reads a step: its fields are the step's data. Its problem item's attributes
    are not read (their `due_on` is the rectification's)."""
    case = SimpleNamespace(attrs={})

    def __init__(self, data: dict):
        self.data = data


def after_outcome(app, conn: Connection, problem, outcome: dict[str, Any], now: datetime) -> None:
    """An accountability outcome recorded on a problem item starts the deadline of each rule its kind
    triggers (`when: {outcome: [removal, ...]}`: carried out within a month), from its decision; the
    outcome's own (subject: its id), closed when it is recorded carried out (`after_outcome_done`)."""
    rules = compiled(app.config)
    if rules is None:
        return
    record, work = _Recorded(outcome), _Work(now)
    for name, rule in rules.by_kind.get(problem.kind, {}).items():
        if not any(outcome["outcome"] in (tr.outcome or ()) for tr in rule.when):
            continue
        given = _given_due(rule, record)
        if isinstance(rule.due, DueOn) and rule.due.field and given is None:
            continue
        work.drafts.append(_Draft(name, rule, problem.id, problem.region_code, outcome["decided_on"], basis_of(rule),
                                  subject=str(outcome["id"]), given_due=given, owner=owner_spec(rule, record, None)))
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, app.policy_version)


def after_outcome_done(conn: Connection, problem_id: int, outcome_id: int, now: datetime) -> None:
    """The outcome recorded carried out closes its deadlines, in that record's transaction."""
    _close_subject(conn, problem_id, "outcome", outcome_id, "outcome done", now)


def _close_subject(conn: Connection, case_id: int, kind: str, subject: int, reason: str, now: datetime) -> None:
    """Close, done, the open deadlines of the case's rules of type `kind` about `subject` (an outcome's,
    an objection's id)."""
    found = conn.execute(select(t.deadlines.c.id).where(
        t.deadlines.c.case_id == case_id, t.deadlines.c.type == kind,
        t.deadlines.c.subject == str(subject), t.deadlines.c.status == _OPEN)).scalars().all()
    if found:
        conn.execute(CLOSE, [{"b_id": i, "b_status": "done", "b_at": now, "b_reason": reason} for i in found])


# --- objections, in the transactions that file and rule on them -------------------------------------

def after_objection(app, conn: Connection, case, objection_id: int, filed_on: date, recorder: int,
                    now: datetime) -> None:
    """An objection filed on a notice starts the deadline of each rule `when: {objection: true}` (the
    township rules on it within days), from its filing day, owned by the nearest holder of the rule's
    roles over the case but the cadre who recorded it (who may not rule on it); the objection's own
    (subject: its id), closed by its ruling (`after_objection_ruled`)."""
    rules = compiled(app.config)
    if rules is None:
        return
    record, work = _Recorded({}), _Work(now)
    for name, rule in rules.by_kind.get(case.kind, {}).items():
        if any(tr.objection for tr in rule.when):
            work.drafts.append(_Draft(name, rule, case.id, case.region_code, filed_on, basis_of(rule),
                                      subject=str(objection_id), owner=owner_spec(rule, record, None, (recorder,))))
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, app.policy_version)


def open_objection_waits(conn: Connection, config: Config, now: datetime) -> int:
    """Rules `when: {objection: true}` installed (`config install`, or a release's packaged rules at
    `init`): the objections still open with no deadline of the rule (filed before this home had it) get
    the one their filing would have started, from their filing day, so one long open is overdue and
    escalated at the next sweep. A few a county at a time: the open objections, read whole (ix on case).
    Returns how many were opened."""
    rules = compiled(config)
    o, d = t.objections.c, t.deadlines.c
    work = _Work(now)
    for kind, kind_rules in (rules.by_kind.items() if rules is not None else ()):
        named = [(n, r) for n, r in kind_rules.items() if any(tr.objection for tr in r.when)]
        if not named:
            continue
        running = {(c, r, s) for c, r, s in conn.execute(select(d.case_id, d.rule, d.subject).where(
            d.rule.in_([n for n, _ in named]), d.status == _OPEN))}
        for row in conn.execute(select(o.id, o.case_id, o.filed_on, o.recorded_by, t.cases.c.region_code)
                                .join(t.cases, t.cases.c.id == o.case_id)
                                .where(o.resolution.is_(None), t.cases.c.kind == kind).order_by(o.id)):
            work.drafts.extend(_Draft(name, rule, row.case_id, row.region_code, row.filed_on, basis_of(rule),
                                      subject=str(row.id), owner=owner_spec(rule, _Recorded({}), None,
                                                                            (row.recorded_by,)))
                               for name, rule in named if (row.case_id, name, str(row.id)) not in running)
    if work.drafts:
        _find_owners(conn, work.drafts)
        _write(conn, rules, work, config.version)
    return len(work.drafts)


def after_objection_ruled(conn: Connection, case_id: int, objection_id: int, now: datetime) -> None:
    """The ruling on an objection closes its deadlines, in the ruling's transaction."""
    _close_subject(conn, case_id, "objection", objection_id, "objection ruled", now)


_EVIDENCE_FIELDS = select(t.evidence.c.case_id, t.evidence.c.type, t.evidence.c.fields).where(
    one_of(t.evidence.c.id))
_OPEN_OF_RULES = select(t.deadlines.c.id, t.deadlines.c.case_id, t.deadlines.c.rule).where(
    one_of(t.deadlines.c.case_id), t.deadlines.c.status == _OPEN)


def after_evidence(app, conn: Connection, evidence_ids: Sequence[int], types: Iterable[str]) -> None:
    """Evidence that shows the work done (keys handed over, renovation accepted) closes its deadline;
    evidence whose date a running deadline counts from, dated earlier, moves it earlier (_earlier_start)."""
    rules = compiled(app.config)
    if rules is None:
        return
    types = set(types)
    _earlier_start(app, conn, rules, evidence_ids, types)
    if not rules.evidence_closers:
        return
    wanted = {u.evidence.partition(".")[0] for r in rules.evidence_closers.values() for u in r.until if u.evidence}
    if not wanted & set(types):
        return
    met = {(ev.case_id, name) for ev in conn.execute(_EVIDENCE_FIELDS, {"ids": list(evidence_ids)})
           for name, rule in rules.evidence_closers.items() if _shows_done(rule, ev)}
    if met:
        now = app.clock.now()
        rows = conn.execute(_OPEN_OF_RULES, {"ids": sorted({c for c, _ in met})}).all()
        closes = [{"b_id": r.id, "b_status": "done", "b_at": now, "b_reason": "evidence"} for r in rows
                  if (r.case_id, r.rule) in met]
        if closes:
            conn.execute(CLOSE, closes)


def _earlier_start(app, conn: Connection, rules: Rules, evidence_ids: Sequence[int], types: set[str]) -> None:
    """An item a running deadline's days count from (`start_from`: the monitoring clue's date), attached
    or corrected (a replacement) to a date before the deadline's start, moves it earlier: the days run
    from the first clue, as when the procedure started from it (_on_starts) or a visit found the risk
    before (after_risk_visit); a later date moves nothing. Its due time is counted again from that day
    (the levels already alerted stay alerted), its owner and the step it waits for kept."""
    counted = {name: rule for kind_rules in rules.by_kind.values() for name, rule in kind_rules.items()
               if rule.start_from and rule.start_from.partition(".")[0] in types}
    if not counted:
        return
    items = [ev for ev in conn.execute(_EVIDENCE_FIELDS, {"ids": list(evidence_ids)})
             if any(ev.type == r.start_from.partition(".")[0] for r in counted.values())]
    if not items:
        return
    work = _Work(app.clock.now())
    for d in open_rows(conn, sorted({ev.case_id for ev in items})):
        rule = counted.get(d.rule)
        if rule is None:
            continue
        etype, _, fname = rule.start_from.partition(".")
        days = [day for ev in items if ev.case_id == d.case_id and ev.type == etype
                and (day := as_date((ev.fields or {}).get(fname))) is not None]
        if days and min(days) < d.start_on:
            work.drafts.append(_Draft(d.rule, rule, d.case_id, d.region_code, min(days), d.basis, d.procedure_id,
                                      d.step_key, d.subject, adopts=d, reason="evidence"))
    if work.drafts:
        _write(conn, rules, work, app.policy_version)


def _shows_done(rule: RuleDef, ev) -> bool:
    """The evidence item's TYPE.FIELD that one of the rule's `until` names is true."""
    for u in rule.until:
        etype, _, fname = (u.evidence or "").partition(".")
        if etype == ev.type and ev.fields.get(fname) is True:
            return True
    return False


# --- a changed rule moves open due times ---------------------------------------------------------

_PROVINCE = func.substr(t.deadlines.c.region_code, literal_column("1"), literal_column("2"))   # same SQL twice
_LADDER_TEXT = cast(t.deadlines.c.ladder, Text)     # deadlines of a group share their stored ladder
_GROUPS = select(t.deadlines.c.rule, t.deadlines.c.basis, t.deadlines.c.start_on, t.deadlines.c.due_on,
                 _PROVINCE.label("province"), t.deadlines.c.next_level,
                 t.deadlines.c.due_at, t.deadlines.c.next_alert_at, t.deadlines.c.provisional,
                 _LADDER_TEXT.label("ladder_text"), t.deadlines.c.alerts_from, func.count().label("n")).where(
    t.deadlines.c.status == _OPEN).group_by(
    t.deadlines.c.rule, t.deadlines.c.basis, t.deadlines.c.start_on, t.deadlines.c.due_on,
    _PROVINCE, t.deadlines.c.next_level, t.deadlines.c.due_at,
    t.deadlines.c.next_alert_at, t.deadlines.c.provisional, _LADDER_TEXT, t.deadlines.c.alerts_from)
# Its equalities on (rule, status, due_on, start_on) use the index ix_deadlines_rule_due.
MOVE = update(t.deadlines).where(
    t.deadlines.c.rule == bindparam("b_rule"), t.deadlines.c.status == _OPEN,
    t.deadlines.c.due_on == bindparam("b_due"), t.deadlines.c.start_on == bindparam("b_start"),
    t.deadlines.c.basis == bindparam("b_basis"), t.deadlines.c.region_code.like(bindparam("b_province")),
    or_(t.deadlines.c.next_level == bindparam("b_level"),
        and_(t.deadlines.c.next_level.is_(None), bindparam("b_level_null"))),
    _LADDER_TEXT == bindparam("b_ladder", type_=Text),
    t.deadlines.c.alerts_from.is_not_distinct_from(bindparam("b_alerts_from"))
).values(basis=bindparam("basis"), due_on=bindparam("due_on"), due_at=bindparam("due_at"), ladder=bindparam("ladder"),
         next_level=bindparam("next_level"), next_alert_at=bindparam("next_alert_at"),
         provisional=bindparam("provisional"), rules_version=bindparam("rules_version"))
_RETIRE = update(t.deadlines).where(t.deadlines.c.status == _OPEN, t.deadlines.c.rule == bindparam("b_rule")).values(
    status="cancelled", closed_at=bindparam("b_at"), closed_reason="rule removed")



def reschedule(conn: Connection, config: Config, now: datetime) -> dict[str, int]:
    """Recompute every open deadline's due time and ladder under `config`: one UPDATE statement
    (run for each group of deadlines that share a start, basis, ladder and level). Levels already
    alerted stay alerted, whatever their new position; a level new to the ladder is alerted at its
    time (at the next sweep if that has passed); a moved level is alerted at its new time."""
    rules = compiled(config)
    groups = conn.execute(_GROUPS).all()
    moves = [m for g in groups if rules and g.rule in rules.rules
             and (m := _moved(rules, rules.rules[g.rule], g, config.version)) is not None]
    moved = conn.execute(MOVE, moves).rowcount if moves else 0
    gone = list(dict.fromkeys(g.rule for g in groups if rules is None or g.rule not in rules.rules))
    retired = conn.execute(_RETIRE, [{"b_rule": r, "b_at": now} for r in gone]).rowcount if gone else 0
    return {"groups": len(moves), "moved": max(moved, 0), "retired": max(retired, 0)}


def _current_basis(rule: RuleDef, basis: str) -> str:
    """A fixed number of days or a fixed date takes the rule's new value; other bases stay."""
    if basis.startswith("days:") and isinstance(rule.days, int):
        return f"days:{rule.days}"
    if basis.startswith("date:") and isinstance(rule.due, str):
        return f"date:{rule.due}"
    return basis


def _moved(rules: Rules, rule: RuleDef, g, version: str) -> dict[str, Any] | None:
    """The UPDATE's values for a group of deadlines under the rule in force (None: nothing moves)."""
    basis = _current_basis(rule, g.basis)
    sched, alerted = schedules(rules, rule, basis, g.start_on, g.alerts_from, g.province,
                               g.due_on if basis.startswith("field:") else None)
    old_ladder = json.loads(g.ladder_text)
    nxt = next_after_passed(old_ladder, g.next_level, alerted.ladder)
    level, at = (nxt["level"], parse_at(nxt["at"])) if nxt else (None, None)
    if (basis, sched.due_on, sched.provisional or alerted.provisional, aware(sched.due_at), alerted.ladder, level, at) == \
            (g.basis, g.due_on, bool(g.provisional), aware(g.due_at), old_ladder, g.next_level,
             aware(g.next_alert_at)):
        return None
    return {"b_rule": g.rule, "b_basis": g.basis, "b_start": g.start_on, "b_due": g.due_on,
            "b_province": g.province + "%", "b_level": g.next_level,
            "b_level_null": g.next_level is None, "b_ladder": g.ladder_text, "b_alerts_from": g.alerts_from, "basis": basis,
            "due_on": sched.due_on, "due_at": sched.due_at,
            "ladder": alerted.ladder, "next_level": level, "next_alert_at": at,
            "provisional": sched.provisional or alerted.provisional, "rules_version": version}
