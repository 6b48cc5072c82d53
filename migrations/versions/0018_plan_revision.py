"""plan revision: a measure names the procedure that proposed it and the day it stopped being in force

A household's plan (一户一策) is revised while it is assisted and through the transition period: a
measure comes into force when the procedure whose plan step proposed it completes, and ends when a
later plan is adopted. The rows are kept (inspectors read the history).

Existing measures are matched with the plan step that wrote them (same case, date and person): one
whose assistance procedure is still open is proposed, awaiting its approval, as a new one would be.
A measure no step matches keeps no procedure and is in force.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("measures") as batch:
        batch.add_column(sa.Column("procedure_id", Id, sa.ForeignKey(
            "procedures.id", name="fk_measures_procedure_id_procedures")))
        batch.add_column(sa.Column("end_date", sa.Date()))
    op.execute(
        "UPDATE measures SET procedure_id = (SELECT s.procedure_id FROM steps s WHERE s.case_id = measures.case_id "
        "AND s.step_type = 'plan' AND s.effective_date = measures.start_date AND s.person_id = measures.created_by "
        "ORDER BY s.id DESC LIMIT 1)")


def downgrade() -> None:
    with op.batch_alter_table("measures") as batch:
        batch.drop_column("end_date")
        batch.drop_column("procedure_id")
