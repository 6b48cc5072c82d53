"""not included: a household applicant turned down waits for nothing

Since stop 52 a household applicant whose identification the villagers' vote, the verification, an
objection upheld or the final approval turned down is not included (未通过识别): it waits for nothing
(engine.services.procedures.not_included) and leaves every list of work, where before it waited for a
new application for good. A township's review that sent it back (a sign-off before the last) still
hands it back to the village. Here the case rows turned down before then are set so, a batch at a
time: a household at the initial stage with no procedure open, whose latest procedure ended rejected
by such a step or by an objection upheld (no step rejected it).

Revision ID: 0035
Revises: 0034
"""
import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

BATCH = 5000
_cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("stage"), sa.column("open_procedure_id"),
                  sa.column("pending_procedure"), sa.column("pending_step"))
_procedures = sa.table("procedures", sa.column("id"), sa.column("case_id"), sa.column("kind"), sa.column("status"))
_steps = sa.table("steps", sa.column("procedure_id"), sa.column("step_key"), sa.column("decision"),
                  sa.column("voided_at"))


def upgrade() -> None:
    from config import load_config
    from engine.services.procedures import NOT_INCLUDED_KIND, not_included
    workflow = load_config().workflows.get(NOT_INCLUDED_KIND)
    if workflow is None:
        return
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_cases.c.id).where(
            _cases.c.id > last, _cases.c.kind == NOT_INCLUDED_KIND, _cases.c.stage == workflow.initial,
            _cases.c.open_procedure_id.is_(None), _cases.c.pending_step.is_not(None))
            .order_by(_cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        latest = dict(conn.execute(sa.select(_procedures.c.case_id, sa.func.max(_procedures.c.id))
                                   .where(_procedures.c.case_id.in_(ids)).group_by(_procedures.c.case_id)).all())
        ended = {r.id: r.kind for r in conn.execute(sa.select(_procedures.c.id, _procedures.c.kind).where(
            _procedures.c.id.in_(list(latest.values())), _procedures.c.status == "rejected"))}
        by_step = dict(conn.execute(sa.select(_steps.c.procedure_id, _steps.c.step_key).where(
            _steps.c.procedure_id.in_(list(ended)), _steps.c.decision == "rejected",
            _steps.c.voided_at.is_(None))).all()) if ended else {}
        out = []
        for case, proc_id in latest.items():
            if proc_id not in ended or ended[proc_id] not in workflow.procedures:
                continue
            proc_def = workflow.procedures[ended[proc_id]]
            step = proc_def.step(by_step[proc_id]) if proc_id in by_step else None
            if not_included(workflow, NOT_INCLUDED_KIND, workflow.initial, "rejected", proc_def, step):
                out.append({"b_id": case})
        if out:
            conn.execute(sa.update(_cases).where(_cases.c.id == sa.bindparam("b_id")).values(
                pending_procedure=None, pending_step=None), out)
        last = ids[-1]


def downgrade() -> None:
    pass     # a case not included waits for nothing, whatever the schema
