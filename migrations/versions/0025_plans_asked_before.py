"""plans asked before: what a household reopened or monitored before the new-plan marker waits for

Since stop 46 a household reopened (返贫, 错退) or newly monitored carries a marker asking for a new
assistance plan (workflows/household_steps.py): its case row's pending step is the plan's (`/work`
lists it so) and its exit waits for the plan. One reopened or monitored before then carries none: the
rule `plan_asked` now reads its last reopening (or its monitoring) and the plans approved since, at
read time, so that it too waits for its plan; its attributes and record are not changed. Here its case
row's pending step (what `/work` and the lists read) is set to the plan's, a batch at a time, where no
procedure is open and no plan was approved on the reopening's (or monitoring's) day or since.

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BATCH = 5000
_cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("stage"), sa.column("attrs", sa.JSON),
                  sa.column("open_procedure_id"), sa.column("pending_procedure"), sa.column("pending_step"))
_procedures = sa.table("procedures", sa.column("id"), sa.column("case_id"), sa.column("kind"), sa.column("status"))
_steps = sa.table("steps", sa.column("procedure_id"), sa.column("step_key"), sa.column("effective_date"),
                  sa.column("voided_at"))
PLAN = ("plan_revision", "plan")


def upgrade() -> None:
    from workflows.household_steps import unmarked_ask
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_cases.c.id, _cases.c.stage, _cases.c.attrs).where(
            _cases.c.id > last, _cases.c.kind == "household", _cases.c.stage.in_(("assisted", "consolidated")),
            _cases.c.open_procedure_id.is_(None)).order_by(_cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        asked = {r.id: found for r in rows if (found := unmarked_ask(r.stage, r.attrs))}
        if asked:
            approved = dict(conn.execute(
                sa.select(_procedures.c.case_id, sa.func.max(_steps.c.effective_date))
                .select_from(_steps.join(_procedures, _procedures.c.id == _steps.c.procedure_id))
                .where(_procedures.c.case_id.in_(list(asked)), _procedures.c.status == "completed",
                       _procedures.c.kind.in_(("assistance", "plan_revision")), _steps.c.step_key == "plan_approval",
                       _steps.c.voided_at.is_(None)).group_by(_procedures.c.case_id)).all())
            waiting = [{"b_id": case} for case, a in asked.items()
                       if approved.get(case) is None or str(approved[case])[:10] < a["since"]]
            if waiting:
                conn.execute(sa.update(_cases).where(_cases.c.id == sa.bindparam("b_id")).values(
                    pending_procedure=PLAN[0], pending_step=PLAN[1]), waiting)
        last = rows[-1].id


def downgrade() -> None:
    pass     # a pending step is what the case waits for: the plan it waits for still, whatever the schema
