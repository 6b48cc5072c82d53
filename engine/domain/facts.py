"""The facts a step's guards need, loaded once for a case (or a whole list) before any rule runs.

A `CaseRepository` loads them; the SQL one lives in engine/adapters/repository.py and a fake in
tests/unit stands in for it, so that the guards run without a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Collection, Protocol, Sequence

from engine.domain.cases import CaseRow, OpenProcedure


def last_day(end: date) -> date:
    """A notice's last day, as its board gives it: its stored end is the day after, from which the
    next step may go on and an objection no longer counts."""
    return end - timedelta(days=1)


def announced(days_required: int, start: date, end: date) -> bool:
    """A notice row that is an announcement (公告: the result published), not a notice (公示) open to
    objections: it runs no days, its end its start."""
    return days_required == 0 and start == end


@dataclass(frozen=True)
class NoticeFact:
    id: int
    start_date: date
    end_date: date
    days_required: int


@dataclass(frozen=True)
class ObjectionFact:
    id: int
    objector: str
    content: str


@dataclass
class CaseFacts:
    """One case as a step's guards see it, with what concerns the acting person."""
    case: CaseRow
    open_proc: OpenProcedure | None = None
    evidence: dict[str, Any] = field(default_factory=dict)   # current evidence by type
    # an item of a type each procedure needs its own of, left out as an earlier procedure's (by type)
    earlier: dict[str, Any] = field(default_factory=dict)
    relation: str | None = None      # the actor is this relative of someone in the household
    paired: bool = False             # the actor is one of the case's pairing cadres
    notice: NoticeFact | None = None                       # the notice of the last step, if it was one
    objections: list[ObjectionFact] = field(default_factory=list)   # open objections on that notice
    relied: dict[int, Any] = field(default_factory=dict)   # evidence rows earlier signers relied on, by id
    last_recorded_on: date | None = None   # the day the latest step was entered (loaded for `case next`)

    @property
    def last_step(self):
        return self.open_proc.last if self.open_proc else None


class CaseRepository(Protocol):
    """Loads cases and the facts around them; every method serves a whole list at once."""

    def cases(self, case_ids: Sequence[int]) -> dict[int, CaseRow]: ...

    def open_procedures(self, cases: Sequence[CaseRow]) -> dict[int, OpenProcedure]: ...

    def current_evidence(self, case_ids: Sequence[int], types: Sequence[str], *, kept: Collection[str],
                         earlier: dict[int, dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]: ...

    def last_recorded_on(self, case_id: int) -> date | None: ...

    def facts(self, cases: Sequence[CaseRow], evidence_types: Sequence[str], person_id: int,
              signing: bool, *, kept: Collection[str]) -> dict[int, CaseFacts]: ...


def runs_beside(case: CaseRow, procedure: str, proc_def: Any) -> bool:
    """Whether `procedure` runs beside the case's open procedure (`beside_open`: one step, no stage
    change, such as a pairing change while the exit waits for the pairing cadre's signature)."""
    return bool(getattr(proc_def, "beside_open", False)) and case.open_procedure_id is not None \
        and case.pending_procedure != procedure


def beside(facts: CaseFacts, procedure: str, proc_def: Any) -> CaseFacts:
    """The facts `procedure` is judged on: a procedure that runs beside the open one sees none open
    (neither its steps, its signers nor its notice); the open one is left as it was."""
    if not runs_beside(facts.case, procedure, proc_def):
        return facts
    return CaseFacts(facts.case, None, facts.evidence, facts.earlier, facts.relation, facts.paired,
                     last_recorded_on=facts.last_recorded_on)
