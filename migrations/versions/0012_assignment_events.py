"""assignment events: each role assignment names the organisation event that granted it

Revision ID: 0012
Revises: 0011

Existing assignments are matched with their events (person_added, role_granted) in log order; one
that no event granted is left without, and so grants nothing from now on.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("role_assignments") as batch:
        batch.add_column(sa.Column("event_seq", sa.BigInteger()))
        batch.add_column(sa.Column("event_hash", sa.String(64)))
    conn = op.get_bind()
    granted = {}
    for seq, action, region, detail, digest in conn.execute(sa.text(
            "SELECT seq, action, region_code, detail, hash FROM audit_events WHERE case_id IS NULL "
            "AND action IN ('person_added', 'role_granted') ORDER BY seq")):
        detail = json.loads(detail) if isinstance(detail, str) else detail
        for role, where in _granted(action, region, detail):
            granted[(detail.get("person"), role, where)] = (seq, digest)
    for row_id, code, role, region in conn.execute(sa.text(
            "SELECT ra.id, p.code, ra.role, ra.region_code FROM role_assignments ra JOIN persons p ON p.id = ra.person_id")):
        found = granted.get((code, role, region))
        if found:
            conn.execute(sa.text("UPDATE role_assignments SET event_seq = :seq, event_hash = :hash WHERE id = :id"),
                         {"seq": found[0], "hash": found[1], "id": row_id})


def _granted(action, region, detail):
    if action == "role_granted":
        return [(detail.get("granted_role"), region)]
    return [tuple(r) for r in detail.get("roles") or []]


def downgrade() -> None:
    with op.batch_alter_table("role_assignments") as batch:
        batch.drop_column("event_hash")
        batch.drop_column("event_seq")
