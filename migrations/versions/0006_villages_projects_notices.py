"""villages, fund projects and notices as objects: resident work teams, project funds,
beneficiaries, milestones, disbursements and assets; members' contact details (never shown on a
notice); a notice keeps its rendered text

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Money = sa.Numeric(14, 2)


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("household_members") as batch:
        batch.add_column(sa.Column("phone", sa.String(20)))
        batch.add_column(sa.Column("bank_account", sa.String(40)))
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("rendered", sa.Text()))
        batch.add_column(sa.Column("working_days", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "village_team",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, _fk("village_team", "case_id", "cases"), nullable=False),
        sa.Column("person_id", Id, _fk("village_team", "person_id", "persons"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),          # first_secretary, leader, member
        sa.Column("unit", sa.String(100), nullable=False),         # the dispatching unit (派出单位)
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),          # end of the term
        sa.Column("left_on", sa.Date()),
        sa.Column("assigned_by", Id, _fk("village_team", "assigned_by", "persons"), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_team")),
    )
    op.create_index("ix_village_team_case_id", "village_team", ["case_id"])
    # One village case per village (workflows/village.py), held by the database.
    op.create_index("uq_cases_village_region", "cases", ["region_code"], unique=True,
                    sqlite_where=sa.text("kind = 'village'"), postgresql_where=sa.text("kind = 'village'"))
    op.create_table(
        "project_funds",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, _fk("project_funds", "case_id", "cases"), nullable=False),
        sa.Column("source", sa.String(30), nullable=False),        # central, provincial, city, county, integrated, other
        sa.Column("amount", Money, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),          # budget (planned) or allocated
        sa.Column("document", sa.String(200)),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", Id, _fk("project_funds", "recorded_by", "persons"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_on", sa.Date()),                      # replaced by a plan change from this date
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_funds")),
    )
    op.create_index("ix_project_funds_case_id", "project_funds", ["case_id"])
    op.create_table(
        "project_beneficiaries",
        sa.Column("project_id", Id, _fk("project_beneficiaries", "project_id", "cases"), nullable=False),
        sa.Column("case_id", Id, _fk("project_beneficiaries", "case_id", "cases"), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "case_id", name=op.f("pk_project_beneficiaries")),
    )
    op.create_index("ix_project_beneficiaries_case_id", "project_beneficiaries", ["case_id"])
    op.create_table(
        "project_milestones",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, _fk("project_milestones", "case_id", "cases"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date()),
        sa.Column("recorded_by", Id, _fk("project_milestones", "recorded_by", "persons"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_milestones")),
        sa.UniqueConstraint("case_id", "seq", name="uq_project_milestones_case_seq"),
    )
    op.create_index("ix_project_milestones_due", "project_milestones", ["done_on", "due_date"])
    op.create_table(
        "disbursements",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, _fk("disbursements", "case_id", "cases"), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("payee_kind", sa.String(20), nullable=False),    # contractor, beneficiary, retention, other
        sa.Column("payee", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(100)),
        sa.Column("recorded_by", Id, _fk("disbursements", "recorded_by", "persons"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disbursements")),
    )
    op.create_index("ix_disbursements_case_id", "disbursements", ["case_id"])
    op.create_table(
        "project_assets",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, _fk("project_assets", "case_id", "cases"), nullable=False),
        sa.Column("asset_class", sa.String(20), nullable=False),   # operating, public_welfare, household
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", Money, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("owner_case_id", Id, _fk("project_assets", "owner_case_id", "cases")),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", Id, _fk("project_assets", "recorded_by", "persons"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_assets")),
    )
    op.create_index("ix_project_assets_case_id", "project_assets", ["case_id"])


def downgrade() -> None:
    op.drop_index("uq_cases_village_region", table_name="cases")
    for table in ("project_assets", "disbursements", "project_milestones", "project_beneficiaries",
                  "project_funds", "village_team"):
        op.drop_table(table)
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("working_days")
        batch.drop_column("rendered")
    with op.batch_alter_table("household_members") as batch:
        batch.drop_column("bank_account")
        batch.drop_column("phone")
