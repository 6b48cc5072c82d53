"""A household's standing as the figures count it: its stage, except that an applicant whose
identification was rejected and who has no procedure open is counted apart, as not identified
(未通过识别), not as applying (申请中).

A derived status, not a stage: the state machine is unchanged. The case stays a candidate and may
apply again; a new identification procedure makes it an applicant once more (its procedure is open),
and a completed one identifies it. Only household cases have it: a list of every kind (the cases
export, `case list`) gives `kind` (a village applying is applying, whatever became of it before).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import and_, case, exists, or_

from engine.adapters import tables as t

NOT_IDENTIFIED = "not_identified"
APPLYING = "candidate"
HOUSEHOLD = "household"
_p = t.procedures.c


def _rejected(case_id, cutoff: datetime | None = None):
    """The case has a rejected identification (one that started from candidate), ended before `cutoff`."""
    return exists().where(_p.case_id == case_id, _p.status == "rejected", _p.from_stage == APPLYING,
                          *([_p.ended_at < cutoff] if cutoff is not None else []))


def _open_at(case_id, cutoff: datetime):
    """A procedure of the case was open at `cutoff` (started before it, not ended by then)."""
    return exists().where(_p.case_id == case_id, _p.started_at < cutoff,
                          or_(_p.ended_at.is_(None), _p.ended_at >= cutoff))


def rejected_applicant(case_id, stage, open_procedure_id=None, cutoff: datetime | None = None, kind=None):
    """SQL: the case is an applicant whose identification was rejected, with no procedure open (now,
    by its `open_procedure_id`; or at `cutoff`, a past year's end, with `stage` the stage it was in then);
    given its `kind`, a household. Each EXISTS reads the case's procedures through their (case_id,
    status) index."""
    household = [kind == HOUSEHOLD] if kind is not None else []
    if cutoff is None:
        return and_(*household, stage == APPLYING, open_procedure_id.is_(None), _rejected(case_id))
    return and_(*household, stage == APPLYING, _rejected(case_id, cutoff), ~_open_at(case_id, cutoff))


def standing_of(case_id, stage, open_procedure_id=None, cutoff: datetime | None = None, kind=None):
    """SQL: the household's standing (its stage, or NOT_IDENTIFIED); given its `kind`, any case's (a
    case of another kind: its stage)."""
    return case((rejected_applicant(case_id, stage, open_procedure_id, cutoff, kind), NOT_IDENTIFIED), else_=stage)


def case_standing():
    """SQL: the standing of a case of any kind (t.cases): a household's, as standing_of says it; another's,
    its stage."""
    c = t.cases.c
    return standing_of(c.id, c.stage, c.open_procedure_id, kind=c.kind)


def standing_filter(stage: str):
    """SQL conditions on t.cases for the cases of a standing: applying (candidate) leaves the rejected
    household applicants out; NOT_IDENTIFIED is those alone; any other stage is the stage."""
    c = t.cases.c
    rejected = rejected_applicant(c.id, c.stage, c.open_procedure_id, kind=c.kind)
    if stage == NOT_IDENTIFIED:
        return [rejected]
    if stage == APPLYING:
        return [c.stage == APPLYING, ~rejected]
    return [c.stage == stage]


def standing(stage: str, open_procedure: Any, procedures: Iterable[Any]) -> str:
    """A case's standing from its rows (the case record): `procedures` have `status` and `from_stage`."""
    if stage == APPLYING and open_procedure is None and any(
            p.status == "rejected" and p.from_stage == APPLYING for p in procedures):
        return NOT_IDENTIFIED
    return stage


def standings(stages: Iterable[str]) -> list[str]:
    """The standings of a workflow's stages, in order: NOT_IDENTIFIED right after applying."""
    found: list[str] = []
    for s in stages:
        found.append(s)
        if s == APPLYING:
            found.append(NOT_IDENTIFIED)
    return found
