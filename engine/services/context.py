"""What a workflow's policy checks and step handlers are given, and what a workflow gives the engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, TYPE_CHECKING

from sqlalchemy.engine import Connection

from engine.adapters.app import App
from engine.adapters.repository import load_members
from engine.domain.auth import Actor
from engine.domain.cases import CaseRow, StepInput
from engine.domain.errors import RuleViolation
from engine.domain.deadline_rules import roles_at

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import StepDef


@dataclass
class StepContext:
    """Everything a policy check or step handler may look at; handlers add rows to `writes`."""
    app: App
    conn: Connection
    actor: Actor
    case: CaseRow
    procedure: str
    step: StepDef
    effective_date: date                   # the step's date, or the day `case next` judges as of
    inputs: StepInput
    evidence: dict[str, Any]               # current evidence by type
    writes: list[Callable[[Connection], Any]] = field(default_factory=list)   # run at write time
    data: dict[str, Any] = field(default_factory=dict)                        # recorded with the step
    batch: dict[Any, Any] = field(default_factory=dict)   # shared by the cases of one list
    # The step's procedure, set before `writes` run (a procedure's first step inserts it in the same
    # transaction, so a handler cannot know it earlier): what a write reads it from.
    procedure_id: int | None = None
    _members: list | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.app.config.policy.params(self.case.province, self.effective_date.year)

    def income_line(self, year: int) -> tuple[float, str]:
        """The line of the household's province for `year`, and where it came from."""
        found = self.app.config.policy.income_line(self.case.province, year)
        if found is None:
            prov = self.app.config.policy.data.provinces.get(self.case.province)
            raise RuleViolation("policy.no_income_line", province=self.case.province, year=year,
                                name=prov.name if prov else self.case.province)
        return found

    def members(self) -> list:
        if self._members is None:
            self._members = load_members(self.conn, self.case.id)
        return self._members


Check = Callable[[StepContext], list]
Handler = Callable[[StepContext], None]
Effect = Callable[[StepContext, dict], None]


@dataclass(frozen=True)
class WorkflowRules:
    """The Python side of a workflow: policy checks, step handlers and completion effects."""
    checks: dict[str, Check]
    handlers: dict[str, Handler]
    effects: dict[str, Effect]
    # The checks that say who may take a step (the original approver, not the rectifier): they bind a
    # step that rejects as well; the others (standards an approval must meet) do not.
    who_checks: frozenset[str] = frozenset()
    # The checks that read none of the step's own evidence: judged even while that evidence is missing,
    # so that the step says at once what else holds it (an exit's aged checks at the acknowledgement,
    # before the household is asked to sign its confirmation).
    evidence_free: frozenset[str] = frozenset()
    # Who may register a problem item of a finding over a region: registrar(app, actor, region, finding,
    # found_by) -> the assignment it is registered under, else a refusal (a wrong exit: the exits' approvers,
    # or the system for a third-party evaluator); what a finding waiting to be registered is checked against.
    registrar: Callable[..., Any] | None = None
    # What `case next` shows besides the next step: figures(app, conn, case, lang, as_of=None) -> dict
    # with `lines` in words (a village: its incidence and the households behind it, team, coverage).
    figures: Callable[..., dict] | None = None
    # Whether a procedure that may start from the case's stage is offered to start now: offered(case,
    # procedure[, conn]) -> bool (a risk elimination to a monitored household only). The step's checks still rule.
    offered: Callable[..., bool] | None = None
    # What the case needs before its stage's main path, and why: needs(case, conn) -> (procedure, Msg) or
    # None (a household reopened, or newly monitored, needs a new assistance plan before anything else);
    # `conn` (None: what the case row says alone) to look up what its attributes cannot say.
    needs: Callable[[Any, Any], tuple[str, Any] | None] | None = None
    # What a decision's recorded facts fail (the inspection undoes a change made shortly before it and
    # asks again): fact_failures(facts, labels) -> the unmet conditions, as its checks return them, of
    # what its checks recorded they read (a household's exit decision: `exit_facts`).
    fact_failures: Callable[[dict, Any], list] | None = None
    # What a procedure's next step decides on, shown with it (`case next`, the case page, the API's
    # `next.decides`): decides(app, conn, case, procedure, day) -> [(kind, Msg)], kind `fact` or
    # `warning` (a monitoring's type, clue, income per head and line; where they do not fit together).
    decides: Callable[..., list] | None = None
    # An evidence type a step needs that another type on file is easily taken for (a household's income
    # computation for the income check its application came with): not_instead[needed] = (the other
    # type, the refusal's code), the refusal saying that the item on file does not count, why, and what
    # to record instead (engine/services/guards.py).
    not_instead: dict[str, tuple[str, str]] = field(default_factory=dict)
    # How a service registers a case of this kind that something else found (engine/services/problems.py:
    # a problem item, from a sample check's wrong exit): register(app, actor, ProblemInput, FoundBy | None) -> id.
    register: Callable[..., int] | None = None


def needed_first(app: App, case, conn: Connection | None = None) -> tuple[str, Any] | None:
    """(procedure, why) the case needs before its stage's main path (WorkflowRules.needs), or None."""
    rules = app.rules.get(case.kind)
    return rules.needs(case, conn) if rules is not None and rules.needs is not None else None


def workflow_roles(app: App, kind: str) -> tuple[str, ...]:
    """The roles that do some step of a case of `kind` (its own cadres and approvers): those who may
    attach evidence to it or declare who may not sign it off."""
    workflow = app.config.workflows[kind]
    return tuple(sorted({r for p in workflow.procedures.values() for s in p.steps for r in (*s.roles, *s.verifier_roles)}))


def step_roles(app: App, step: StepDef, region_code: str, day: date) -> tuple[str, ...]:
    """The roles that may do `step` on a case of `region_code` on `day` (engine/domain/deadline_rules.roles_at:
    a step whose approver level is configuration keeps only the roles of that level)."""
    return roles_at(app.config, step, region_code, day)
