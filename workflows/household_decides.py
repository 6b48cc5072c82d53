"""What a monitoring identification (防返贫监测识别) or a risk elimination (风险消除) decides, as its next
step shows it (`case next`, the case page's step, the API's `next.decides`): the monitoring type, the
risk clue's date and source, the income per head the decision rests on (its year and the day it was
recorded), the monitoring line of that year, and in words where they do not fit together: an income
recorded before the clue (the exit's income taken as today's), or a type the income contradicts (a
突发严重困难户 under the line is 脱贫不稳定户 by definition). The county had signed 同意 seeing none of it
(audit a12 #7)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from config import Policy

from engine.adapters import tables as t
from engine.adapters.repository import load_members
from engine.reads.case_record import MONITORING_PROCEDURES, person_names
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import Msg
from engine.domain.evidence import code_words, read_code
from .household_codes import MONITORING_TYPES

# A case's newest item in force of a type (b_case, b_type), with when it was attached.
NEWEST_ITEM = (select(t.evidence.c.id, t.evidence.c.fields, t.evidence.c.attached_at)
           .where(t.evidence.c.case_id == bindparam("b_case"), t.evidence.c.type == bindparam("b_type"),
                  t.evidence.c.superseded_by.is_(None))
           .order_by(t.evidence.c.id.desc()).limit(1))


def monitoring_type_code(fields: dict, labels) -> str | None:
    """A clue's monitoring type as its code (read as the clue's check reads it)."""
    return read_code(fields.get("monitoring_type", ""), code_words("monitoring_type", tuple(MONITORING_TYPES), labels))


# A procedure's steps in force with what they recorded, newest first: where a type corrected is read.
_STEPS_RECORDED = (select(t.steps.c.data, t.steps.c.step_key, t.steps.c.person_id, t.steps.c.effective_date)
                   .where(t.steps.c.procedure_id == bindparam("b_proc"), t.steps.c.voided_at.is_(None))
                   .order_by(t.steps.c.id.desc()))


def type_corrected(conn, procedure_id: int | None) -> dict | None:
    """The newest correction of the monitoring type in the identification `procedure_id` (a township's
    review or the county's decision recorded it: {from, to} with its step, signer and date), or None."""
    if procedure_id is None:
        return None
    for row in conn.execute(_STEPS_RECORDED, {"b_proc": procedure_id}):
        corrected = (row.data or {}).get("monitoring_type")
        if corrected:
            return {**corrected, "step": row.step_key, "person_id": row.person_id, "on": row.effective_date}
    return None


def identified_type(conn, case, labels, clue_fields: dict | None) -> tuple[str | None, dict | None]:
    """The type a monitoring identification decides: the one its township or county corrected it to,
    else the clue's; and the correction, if any."""
    corrected = type_corrected(conn, case.open_procedure_id)
    if corrected:
        return corrected["to"], corrected
    return (monitoring_type_code(clue_fields, labels) if clue_fields is not None else None), None


def decides(app, conn, case, procedure: str, on) -> list[tuple[str, Msg]]:
    """[(kind, words)] of what the procedure's next step decides: kind `fact`, or `warning` where the
    facts do not fit together. Empty for any other procedure."""
    if procedure not in MONITORING_PROCEDURES:
        return []
    out: list[tuple[str, Msg]] = []
    clue = conn.execute(NEWEST_ITEM, {"b_case": case.id, "b_type": "monitoring_clue"}).first()
    monitored = (case.attrs or {}).get("monitoring") or {}
    kind, corrected = monitored.get("type") if procedure == "risk_elimination" else None, None
    if procedure == "monitoring":
        kind, corrected = identified_type(conn, case, app.config.labels, clue.fields if clue is not None else None)
    if kind:
        out.append(("fact", Msg("decides.type", dict(type=Msg(f"field.monitoring_type.{kind}")))))
    if corrected:
        out.append(("fact", _corrected_words(conn, corrected)))
    if clue is not None:
        out.append(("fact", Msg("decides.clue", dict(date=clue.fields.get("clue_date", "-"),
                                source=_source(clue.fields, app.config.labels)))))
    if procedure == "risk_elimination" and monitored.get("since"):
        out.append(("fact", Msg("decides.since", dict(since=monitored["since"]))))
    income = conn.execute(NEWEST_ITEM, {"b_case": case.id, "b_type": "income_assessment"}).first()
    if income is None:
        out.append(("warning", Msg("decides.no_income")))
        return out
    members = len(load_members(conn, case.id)) or 1
    year = int(income.fields.get("year", on.year))
    per_capita = float(income.fields.get("net_income", 0)) / members
    recorded = wall_clock(app.config, income.attached_at)[:10]
    out.append(("fact", Msg("decides.income", dict(per_capita=f"{per_capita:,.0f}", members=members, year=year,
                            recorded=recorded))))
    if clue is not None and income.id < clue.id:
        out.append(("warning", Msg("decides.income_before_clue", dict(recorded=recorded,
                                   clue_date=clue.fields.get("clue_date", "-"), year=year))))
    found = app.config.policy.monitoring_line_for(year, on.year)
    if found is None:
        return out
    line, source = found
    out.append(("fact", Msg("decides.line", dict(line=f"{line:,.0f}", source=Msg(*Policy.line_source(source))))))
    misfits = type_misfit(kind, per_capita, line)
    out += [("warning", w) for w in misfits]
    if misfits and procedure == "monitoring":      # where it is put right: the township's review, the county's decision
        out.append(("warning", Msg("decides.type_correctable")))
    return out


def _corrected_words(conn, corrected: dict) -> Msg:
    """A correction of the type in words: from what to what, at which step, by whom, on which day."""
    code, name = person_names(conn, [corrected["person_id"]]).get(corrected["person_id"], ("-", "-"))
    return Msg("decides.type_corrected", dict(
        was=Msg(f"field.monitoring_type.{corrected['from']}"), now=Msg(f"field.monitoring_type.{corrected['to']}"),
        step=Msg(f"step.{corrected['step']}"), person=name, on=str(corrected["on"])))


def type_misfit(kind: str | None, per_capita: float, line: float) -> list[Msg]:
    """The monitoring type the income contradicts (research §5.3): a 突发严重困难户 is one whose income is
    above the range; a 脱贫不稳定户 or 边缘易致贫户 one whose income is inside it."""
    shown: dict[str, Any] = {"per_capita": f"{per_capita:,.0f}", "line": f"{line:,.0f}"}
    if kind == "sudden_hardship" and per_capita <= line:
        return [Msg("decides.misfit_under", dict(**shown))]
    if kind in ("unstable", "edge") and per_capita > line:
        return [Msg("decides.misfit_over", dict(type=Msg(f"field.monitoring_type.{kind}"), **shown))]
    return []


def _source(fields: dict, labels) -> Msg | str:
    """A clue's channel in the reader's words (field.source.visit: 基层干部排查走访), with its note when it
    has one; a clue recorded before channels were codes, as it was typed."""
    source, note = fields.get("source"), fields.get("source_note")
    said = Msg(f"field.source.{source}") if f"field.source.{source}" in labels else str(source or "-")[:60]
    return Msg("decides.source_noted", dict(source=said, note=str(note)[:60])) if note else said
