"""plan indexes: every list, worklist and report query served by an index (tests/test_query_plans.py)

Deadlines and alerts of a region, accountability outcomes of a region, steps of a type (the
inspection's flags) and cases of a kind in a region (the funds report's projects).

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_deadlines_region", "deadlines", ["region_code"]),
    ("ix_alerts_region", "alerts", ["region_code"]),
    ("ix_accountability_outcomes_region", "accountability_outcomes", ["region_code"]),
    ("ix_steps_step_type", "steps", ["step_type"]),
    ("ix_cases_kind_region", "cases", ["kind", "region_code"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
