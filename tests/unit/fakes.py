"""An in-memory `CaseRepository` and small builders, so that guards run without a database."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any, Sequence

from config import ProcedureDef, StepDef
from engine.domain.auth import Actor, Assignment
from engine.domain.cases import CaseRow, OpenProcedure, StepRecord
from engine.domain.errors import NotFound
from engine.domain.evidence import content_hash
from engine.domain.facts import CaseFacts, NoticeFact, ObjectionFact

VILLAGE = "360730100201"


def case_row(case_id: int = 1, stage: str = "candidate", **attrs: Any) -> CaseRow:
    return CaseRow(case_id, "household", VILLAGE, f"户{case_id}", stage, 1, dict(attrs), 0, None)


def step_def(key: str, type_: str = "evidence", roles: tuple[str, ...] = ("village_secretary",), **kw) -> StepDef:
    return StepDef(key=key, type=type_, roles=roles, **kw)


def procedure(*steps: StepDef, sources=("candidate",), to: str | None = "identified") -> ProcedureDef:
    return ProcedureDef.model_validate({"from": sources, "to": to, "steps": steps})


def record(step_id: int, key: str, type_: str, person: int, day: date, notice_id: int | None = None,
           evidence: list | None = None, **data: Any) -> StepRecord:
    return StepRecord(step_id, key, type_, person, "done", day, data, evidence or [], notice_id)


def actor(person_id: int = 7, code: str = "p7", *assignments: tuple[str, str]) -> Actor:
    return Actor(person_id, code, code, tuple(Assignment(r, c) for r, c in assignments))


def evidence(eid: int, type_: str, **fields: Any):
    """A current evidence row, hashed as attached."""
    return SimpleNamespace(id=eid, type=type_, fields=fields, file_sha256=None,
                           content_hash=content_hash(type_, fields, None), superseded_by=None)


@dataclass
class FakeRepository:
    """What a SQL repository would load, kept in dictionaries."""
    rows: dict[int, CaseRow] = field(default_factory=dict)
    procs: dict[int, OpenProcedure] = field(default_factory=dict)
    evidence: dict[int, dict[str, Any]] = field(default_factory=dict)
    relatives: dict[tuple[int, int], str] = field(default_factory=dict)   # (case, person) -> relation
    pairings: set[tuple[int, int]] = field(default_factory=set)          # (case, person)
    notices: dict[int, NoticeFact] = field(default_factory=dict)
    objections: dict[int, list[ObjectionFact]] = field(default_factory=dict)   # case -> open objections
    evidence_by_id: dict[int, Any] = field(default_factory=dict)
    recorded: dict[int, date] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def cases(self, case_ids: Sequence[int]) -> dict[int, CaseRow]:
        self.calls.append("cases")
        missing = [str(i) for i in case_ids if i not in self.rows]
        if missing:
            raise NotFound("case.unknown", case=", ".join(missing))
        return {i: self.rows[i] for i in case_ids}

    def open_procedures(self, cases: Sequence[CaseRow]) -> dict[int, OpenProcedure]:
        self.calls.append("open_procedures")
        return {c.id: self.procs[c.id] for c in cases if c.id in self.procs}

    def current_evidence(self, case_ids: Sequence[int], types: Sequence[str], *, kept: Sequence[str] = (),
                         earlier: dict | None = None) -> dict[int, dict[str, Any]]:
        self.calls.append("current_evidence")
        return {i: {k: v for k, v in self.evidence.get(i, {}).items() if k in types} for i in case_ids}

    def last_recorded_on(self, case_id: int) -> date | None:
        return self.recorded.get(case_id)

    def facts(self, cases: Sequence[CaseRow], evidence_types: Sequence[str], person_id: int,
              signing: bool, *, kept: Sequence[str] = ()) -> dict[int, CaseFacts]:
        procs = self.open_procedures(cases)
        current = self.current_evidence([c.id for c in cases], evidence_types)
        out = {}
        for c in cases:
            f = CaseFacts(c, procs.get(c.id), current[c.id], relied=self.evidence_by_id)
            if signing:
                f.relation, f.paired = self.relatives.get((c.id, person_id)), (c.id, person_id) in self.pairings
            last = f.last_step
            if last is not None and last.step_type == "notice":
                f.notice = self.notices.get(last.notice_id)
                f.objections = list(self.objections.get(c.id, []))
            out[c.id] = f
        return out

