"""minutes per procedure: a meeting's minutes are the record of the procedure whose appraisal they came with

An appraisal's minutes were kept as if one item a household holds, so an exit's proposal marked the
identification's minutes as replaced by its own (「已被 #… 取代」): to an inspector, a corrected
record. Minutes of another procedure's meeting are now an item of their own. Minutes marked replaced
by those of a different procedure's appraisal (found from the appraisal steps naming each) are
unmarked; those replaced by a meeting held again in the same procedure stay replaced. No event of
the log recorded the marking (only the step and its new minutes), so the chain is untouched.

Revision ID: 0019
Revises: 0018
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_evidence = sa.table("evidence", sa.column("id"), sa.column("type"), sa.column("superseded_by"),
                     sa.column("supersede_reason"))
_steps = sa.table("steps", sa.column("procedure_id"), sa.column("step_type"), sa.column("evidence_hashes"))


def upgrade() -> None:
    conn = op.get_bind()
    replaced = conn.execute(sa.select(_evidence.c.id, _evidence.c.superseded_by).where(
        _evidence.c.type == "appraisal_minutes", _evidence.c.superseded_by.is_not(None))).all()
    if not replaced:
        return
    wanted = {i for pair in replaced for i in pair}
    procedure_of: dict[int, int] = {}
    for s in conn.execute(sa.select(_steps.c.procedure_id, _steps.c.evidence_hashes).where(
            _steps.c.step_type == "appraisal")):
        refs = json.loads(s.evidence_hashes) if isinstance(s.evidence_hashes, str) else s.evidence_hashes
        for ref in refs or []:
            if ref.get("id") in wanted:
                procedure_of.setdefault(ref["id"], s.procedure_id)
    apart = [{"b_id": old} for old, new in replaced
             if None not in (procedure_of.get(old), procedure_of.get(new)) and procedure_of[old] != procedure_of[new]]
    if apart:
        conn.execute(sa.update(_evidence).where(_evidence.c.id == sa.bindparam("b_id")).values(
            superseded_by=None, supersede_reason=None), apart)


def downgrade() -> None:
    pass        # the minutes stay side by side (which was the record of which procedure is not kept)
