"""What the engine knows of a case while it works on it: plain records, no framework."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from engine.domain.regions import province_of

# Step types whose signer vouches for the case: separation of duties and the evidence they relied on.
SIGNING_TYPES = ("signoff", "announcement")


def measure_status(procedure_status: str | None, end_date: date | None) -> str:
    """Where a measure of a household's plan (一户一策) stands: `ended` once a later plan was adopted
    (`end_date`), `in_force` once the procedure that proposed it completed (or when no procedure is
    known: a measure recorded before they were), `proposed` while that procedure is open and
    `rejected` when it was (it never came into force). In SQL: repository.measure_in_force."""
    if end_date is not None:
        return "ended"
    return {None: "in_force", "completed": "in_force", "open": "proposed"}.get(procedure_status, "rejected")


@dataclass
class StepInput:
    """What a person enters for a step; which fields matter depends on the step type."""
    date: date | None = None
    decision: str | None = None          # approve | reject (sign-off, verification)
    reason: str | None = None
    attendance: int | None = None        # appraisal
    votes_for: int | None = None
    votes_against: int | None = None
    votes: dict[int, tuple[int, int]] = field(default_factory=dict)   # a list's appraisal: case -> (for, against)
    minutes: Path | None = None          # appraisal: its meeting's signed minutes, a scan or photo (one for a list)
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
    monitoring_type: str | None = None   # signoff: the monitoring type corrected (the workflow's handler rules it)
    expect_version: int | None = None

    def given(self, name: str) -> bool:
        """Whether the field `name` was filled in."""
        return getattr(self, name) not in (None, (), {})


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

    @property
    def last_step_on(self) -> date | None:
        found = self.attrs.get("last_step_on")
        return date.fromisoformat(found) if found else None


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

    @property
    def last(self) -> StepRecord | None:
        return self.steps[-1] if self.steps else None


def next_step(proc_def: Any, open_proc: OpenProcedure | None) -> Any:
    """The step of `proc_def` that comes next, or None when all are done."""
    done = len(open_proc.steps) if open_proc else 0
    return proc_def.steps[done] if done < len(proc_def.steps) else None


def participants(open_proc: OpenProcedure | None) -> dict[int, str]:
    """person id -> the step they took part in, for everyone already in this procedure."""
    if open_proc is None:
        return {}
    seen: dict[int, str] = {}
    for s in open_proc.steps:
        seen.setdefault(s.person_id, s.step_key)
        for pid in s.data.get("verifier_ids", []):
            seen.setdefault(pid, s.step_key)
    return seen
