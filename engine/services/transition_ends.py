"""The transition periods' ends (过渡期, engine/domain/monitoring.py) reckoned again under new rules.

The case row keeps each household's transition end (`cases.transition_until`, indexed) for the lists
and figures that filter and count by its year; a household's page reckons it from its exit under the
rules in force. When the rules put in force change the period's length (policy.yaml's
`transition_period_years`, by province and exit year), every household's column is reckoned again in the
same transaction that installs them, a batch at a time, so the lists and the pages say the same.
Only the column changes: the attributes, and so the record, do not (a household's next procedure
writes the column from the same reckoning)."""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.domain.exit_years import EXITED_STAGES
from engine.domain.monitoring import period_years, transition_end
from engine.domain.regions import province_of

BATCH = 1000


def reckon_transition_ends(conn: Connection, policy) -> int:
    """Every exited or consolidated household's transition end under `policy` (config's Policy), written
    where it differs from its row's; returns how many rows changed."""
    c, last, changed = t.cases.c, 0, 0
    while True:
        rows = conn.execute(select(c.id, c.stage, c.region_code, c.attrs, c.transition_until).where(
            c.kind == "household", c.stage.in_(EXITED_STAGES), c.id > last).order_by(c.id).limit(BATCH)).all()
        if not rows:
            return changed
        moved = [{"b_id": r.id, "b_until": until} for r in rows
                 if (until := transition_end(r.stage, r.attrs, period_years(policy, province_of(r.region_code))))
                 != r.transition_until]
        if moved:
            conn.execute(update(t.cases).where(c.id == bindparam("b_id")).values(
                transition_until=bindparam("b_until")), moved)
            changed += len(moved)
        last = rows[-1].id
