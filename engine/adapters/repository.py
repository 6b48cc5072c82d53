"""The SQL side of `CaseRepository`: cases, open procedures, evidence and the facts around them.

Every look-up serves a whole list (a village's 2,000 households) with one statement per table.
Statements are built once with bound parameters: building them per call costs more than executing
them (SQLAlchemy derives a cache key from every literal value).
"""
from __future__ import annotations

from typing import Any, Collection, Sequence

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, true
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.direct import Direct, together
from engine.domain.cases import SIGNING_TYPES, CaseRow, OpenProcedure, StepRecord
from engine.domain.errors import NotFound
from engine.domain.facts import CaseFacts, NoticeFact, ObjectionFact
from engine.domain.kin import kin_shown
from engine.adapters.one_of import one_of

_CASE_COLUMNS = select(
    t.cases.c.id, t.cases.c.kind, t.cases.c.region_code, t.cases.c.title, t.cases.c.stage, t.cases.c.version,
    t.cases.c.attrs, t.cases.c.event_count, t.cases.c.last_event_hash, t.cases.c.open_procedure_id,
    t.cases.c.pending_procedure)
# An expanding IN is re-compiled at every call; one case (the common case) gets a plain `=`.
_SELECT_CASES = _CASE_COLUMNS.where(one_of(t.cases.c.id))
_SELECT_CASE = Direct(_CASE_COLUMNS.where(t.cases.c.id == bindparam("id")))
_STEP_COLUMNS = select(
    t.steps.c.procedure_id, t.steps.c.id, t.steps.c.step_key, t.steps.c.step_type, t.steps.c.person_id,
    t.steps.c.decision, t.steps.c.effective_date, t.steps.c.data, t.steps.c.evidence_hashes, t.steps.c.notice_id,
).where(t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id)
_SELECT_STEPS = _STEP_COLUMNS.where(one_of(t.steps.c.procedure_id))
_SELECT_STEPS_ONE = _STEP_COLUMNS.where(t.steps.c.procedure_id == bindparam("id"))
_SELECT_OPEN_STEPS_OF_CASE = Direct(_STEP_COLUMNS.where(t.steps.c.procedure_id == select(
    t.cases.c.open_procedure_id).where(t.cases.c.id == bindparam("id")).scalar_subquery()))
_EVIDENCE_COLUMNS = select(t.evidence.c.id, t.evidence.c.case_id, t.evidence.c.type, t.evidence.c.fields,
                           t.evidence.c.file_sha256, t.evidence.c.content_hash
                           ).where(t.evidence.c.superseded_by.is_(None)).order_by(t.evidence.c.id)   # newest last
_SELECT_EVIDENCE = _EVIDENCE_COLUMNS.where(one_of(t.evidence.c.case_id))
_SELECT_EVIDENCE_ONE = Direct(_EVIDENCE_COLUMNS.where(t.evidence.c.case_id == bindparam("id")))
_SELECT_EVIDENCE_BY_ID = select(t.evidence).where(one_of(t.evidence.c.id))
_LAST_RECORDED = select(t.steps.c.recorded_at).where(
    t.steps.c.case_id == bindparam("id"), t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id.desc()).limit(1)
_RELATIVES_OF = select(t.relatives.c.case_id, t.relatives.c.relation).where(
    one_of(t.relatives.c.case_id), t.relatives.c.person_id == bindparam("person"))
_PAIRED_WITH = select(t.pairings.c.case_id).where(
    one_of(t.pairings.c.case_id), t.pairings.c.person_id == bindparam("person"),
    t.pairings.c.end_date.is_(None))
_NOTICES = select(t.notices.c.id, t.notices.c.start_date, t.notices.c.end_date, t.notices.c.days_required
                  ).where(one_of(t.notices.c.id))
_OPEN_OBJECTIONS = select(t.objections.c.id, t.objections.c.notice_id, t.objections.c.case_id,
                          t.objections.c.objector, t.objections.c.content).where(
    t.objections.c.notice_id.in_(bindparam("notices", expanding=True)),
    one_of(t.objections.c.case_id),
    t.objections.c.resolution.is_(None)).order_by(t.objections.c.id)


def measure_in_force() -> ColumnElement[bool]:
    """A row of `measures` is in force: not ended, and its procedure completed (a measure recorded
    before measures named theirs counts as in force). In words: engine.domain.cases.measure_status."""
    m = t.measures.c
    adopted = exists().where(t.procedures.c.id == m.procedure_id, t.procedures.c.status == "completed") \
        .correlate(t.measures)
    return and_(m.end_date.is_(None), or_(m.procedure_id.is_(None), adopted))


def load_cases(conn: Connection, case_ids: Sequence[int]) -> dict[int, CaseRow]:
    if len(case_ids) == 1:
        rows = _SELECT_CASE.rows(conn, {"id": case_ids[0]})
    else:
        rows = conn.execute(_SELECT_CASES, {"ids": list(case_ids)}).all()
    return _found(rows, case_ids)


def _found(rows, case_ids: Sequence[int]) -> dict[int, CaseRow]:
    found = {r.id: CaseRow(*r) for r in rows}
    missing = [str(i) for i in case_ids if i not in found]
    if missing:
        raise NotFound("case.unknown", case=", ".join(missing))
    return found


def load_open_procedures(conn: Connection, cases: Sequence[CaseRow], steps: list | None = None
                         ) -> dict[int, OpenProcedure]:
    """The open procedure of each case (found from the case row) with its steps still in force;
    `steps`: their rows, when they were read with the case."""
    result = {c.id: OpenProcedure(c.open_procedure_id, c.pending_procedure)
              for c in cases if c.open_procedure_id is not None}
    if result:
        by_proc = {p.id: p for p in result.values()}
        if steps is not None and any(r.procedure_id not in by_proc for r in steps):
            steps = None        # read ahead as another writer moved the case on: read them for this row
        rows = steps if steps is not None else (
            conn.execute(_SELECT_STEPS_ONE, {"id": next(iter(by_proc))}) if len(by_proc) == 1
            else conn.execute(_SELECT_STEPS, {"ids": list(by_proc)}))
        for r in rows:
            by_proc[r.procedure_id].steps.append(StepRecord(*r[1:]))
    return result


def load_current_evidence(conn: Connection, case_ids: Sequence[int], types: Sequence[str],
                          rows: list | None = None, kept: Collection[str] = (),
                          earlier: dict[int, dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]:
    """Each case's evidence in force of the `types`; `rows`: all its evidence in force, when they
    were read with the case. An item of a type `kept` per procedure that a step of another procedure
    than the case's open one named is that procedure's record, not this one's (as `held_evidence`
    says it): left out, and put in `earlier` (by case, by type) when given, to say why it is missing."""
    result: dict[int, dict[str, Any]] = {i: {} for i in case_ids}
    if not types:
        return result
    # Filtering by type in Python keeps the statement's shape fixed (no second expanding IN).
    if rows is None:
        rows = (_SELECT_EVIDENCE_ONE.rows(conn, {"id": case_ids[0]}) if len(case_ids) == 1
                else conn.execute(_SELECT_EVIDENCE, {"ids": list(case_ids)}).all())
    wanted = set(types)
    for r in rows:
        if r.type in wanted:
            result[r.case_id][r.type] = r
    kept_held = sorted({c for c, items in result.items() if any(k in items for k in kept)})
    if kept_held:
        named = _named_by_other_procedures(conn, kept_held)
        for c in kept_held:
            for k in [k for k in kept if k in result[c] and result[c][k].id in named]:
                found = result[c].pop(k)
                if earlier is not None:
                    earlier.setdefault(c, {})[k] = found
    return result


_HELD = select(t.evidence.c.id, t.evidence.c.case_id, t.evidence.c.fields).where(
    t.evidence.c.type == bindparam("type"), t.evidence.c.superseded_by.is_(None),
    t.evidence.c.case_id.in_(bindparam("ids", expanding=True))).order_by(t.evidence.c.id)
_STEPS_OF_OTHER_PROCEDURES = select(t.steps.c.procedure_id, t.steps.c.evidence_hashes).join(
    t.cases, t.cases.c.id == t.steps.c.case_id).where(
    t.steps.c.case_id.in_(bindparam("ids", expanding=True)),
    or_(t.cases.c.open_procedure_id.is_(None), t.steps.c.procedure_id != t.cases.c.open_procedure_id))


def _named_by_other_procedures(conn: Connection, case_ids: Sequence[int]) -> set[int]:
    """The evidence items a step of the cases named in a procedure other than the case's open one."""
    named: set[int] = set()
    for s in conn.execute(_STEPS_OF_OTHER_PROCEDURES, {"ids": list(case_ids)}):
        named.update(ref.get("id") for ref in s.evidence_hashes or [])
    return named


def held_evidence(conn: Connection, etype: str, case_ids: Sequence[int], per_procedure: bool) -> dict[int, Any]:
    """The item of `etype` each case holds, which a new one of the type replaces (id, case_id, fields):
    its newest in force; for a type kept `per_procedure`, none of an earlier procedure's (an item a step
    of a procedure not open named stays that procedure's record: the new one is an item of its own)."""
    if not case_ids:
        return {}
    rows = conn.execute(_HELD, {"type": etype, "ids": list(case_ids)}).all()
    earlier = _named_by_other_procedures(conn, sorted({r.case_id for r in rows})) \
        if per_procedure and rows else set()
    return {r.case_id: r for r in rows if r.id not in earlier}


class SqlCaseRepository:
    """`CaseRepository` on a connection (the caller owns the transaction)."""

    def __init__(self, conn: Connection, read_ahead: bool = False):
        self.conn = conn
        # read_ahead: a single case is read with what a step on it reads next, its open procedure's
        # steps and its evidence in force, sent together (PostgreSQL: one round trip, not three);
        # each is used once, by the next open_procedures and current_evidence of that case alone.
        self._read_ahead = read_ahead
        self._ahead: dict[str, tuple[int, list]] = {}

    def cases(self, case_ids: Sequence[int]) -> dict[int, CaseRow]:
        if self._read_ahead and len(case_ids) == 1:
            return self._case_read_ahead(case_ids[0])
        return load_cases(self.conn, case_ids)

    def _case_read_ahead(self, case_id: int) -> dict[int, CaseRow]:
        params = {"id": case_id}
        with together(self.conn):
            sent = [s.send(self.conn, params) for s in (_SELECT_CASE, _SELECT_OPEN_STEPS_OF_CASE, _SELECT_EVIDENCE_ONE)]
        case, steps, evidence = (s.rows() for s in sent)
        self._ahead = {"steps": (case_id, steps), "evidence": (case_id, evidence)}
        return _found(case, [case_id])

    def _read(self, what: str, case_ids: Sequence[int]) -> list | None:
        ahead = self._ahead.pop(what, None)
        return ahead[1] if ahead is not None and [ahead[0]] == list(case_ids) else None

    def open_procedures(self, cases: Sequence[CaseRow]) -> dict[int, OpenProcedure]:
        return load_open_procedures(self.conn, cases, self._read("steps", [c.id for c in cases]))

    def current_evidence(self, case_ids: Sequence[int], types: Sequence[str], *, kept: Collection[str],
                         earlier: dict[int, dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]:
        return load_current_evidence(self.conn, case_ids, types, self._read("evidence", case_ids), kept, earlier)

    def last_recorded_on(self, case_id: int):
        """The day the case's latest step in force was entered (not the date it bears), if any."""
        found = self.conn.execute(_LAST_RECORDED, {"id": case_id}).scalar()
        return found.date() if found is not None else None

    def facts(self, cases: Sequence[CaseRow], evidence_types: Sequence[str], person_id: int,
              signing: bool, *, kept: Collection[str]) -> dict[int, CaseFacts]:
        """Each case's facts for a step by `person_id`: one statement per table for the whole list;
        `kept`: the evidence types each procedure needs its own item of (an earlier one's left out)."""
        ids = [c.id for c in cases]
        procs = self.open_procedures(cases)
        earlier: dict[int, dict[str, Any]] = {}
        evidence = self.current_evidence(ids, evidence_types, kept=kept, earlier=earlier)
        facts = {c.id: CaseFacts(c, procs.get(c.id), evidence[c.id], earlier=earlier.get(c.id, {})) for c in cases}
        if signing:
            self._people(facts, ids, person_id)
        self._notices(facts, ids)
        self._relied(facts)
        return facts

    def _people(self, facts: dict[int, CaseFacts], ids: list[int], person_id: int) -> None:
        params = {"ids": ids, "person": person_id}
        for r in self.conn.execute(_RELATIVES_OF, params):
            facts[r.case_id].relation = kin_shown(r.relation)     # one typed before the kinship list: its code
        for r in self.conn.execute(_PAIRED_WITH, params):
            facts[r.case_id].paired = True

    def _notices(self, facts: dict[int, CaseFacts], ids: list[int]) -> None:
        by_notice = {f.last_step.notice_id: [] for f in facts.values()
                     if f.last_step is not None and f.last_step.step_type == "notice"}
        if not by_notice:
            return
        notices = {r.id: NoticeFact(*r) for r in self.conn.execute(_NOTICES, {"ids": list(by_notice)})}
        for f in facts.values():
            if f.last_step is not None and f.last_step.notice_id in notices:
                f.notice = notices[f.last_step.notice_id]
        rows = self.conn.execute(_OPEN_OBJECTIONS, {"notices": list(by_notice), "ids": ids})
        for r in rows:
            fact = facts[r.case_id]
            if fact.notice is not None and fact.notice.id == r.notice_id:
                fact.objections.append(ObjectionFact(r.id, r.objector, r.content))

    def _relied(self, facts: dict[int, CaseFacts]) -> None:
        """The evidence rows earlier sign-offs relied on (whatever their state now)."""
        wanted = {e["id"] for f in facts.values() if f.open_proc for s in f.open_proc.steps
                  if s.step_type in SIGNING_TYPES for e in s.evidence_hashes}
        if not wanted:
            return
        rows = {r.id: r for r in self.conn.execute(_SELECT_EVIDENCE_BY_ID, {"ids": sorted(wanted)})}
        for f in facts.values():
            f.relied = rows


_SELECT_MEMBERS = select(t.household_members).where(
    t.household_members.c.case_id == bindparam("case_id"), t.household_members.c.active == true()
).order_by(t.household_members.c.id)


def load_members(conn: Connection, case_id: int) -> list:
    """The active members of a household, in the order they were entered."""
    return conn.execute(_SELECT_MEMBERS, {"case_id": case_id}).all()
