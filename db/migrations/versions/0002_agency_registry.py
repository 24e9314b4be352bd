"""Agency registry: agencies, branches, status history, syncs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("normalized_name", sa.String(200), nullable=False, index=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("licence_number", sa.String(100)),
        sa.Column("licence_key", sa.String(100), index=True),
        sa.Column("licence_date", sa.Date()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_basis", sa.Text()),
        sa.Column("status_date", sa.Date()),
        sa.Column("address", sa.Text()),
        sa.Column("city", sa.String(100)),
        sa.Column("province", sa.String(100)),
        sa.Column("phone", sa.String(100)),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "agency_branch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("regency", sa.String(100)),
        sa.Column("province", sa.String(100)),
        sa.Column("address", sa.Text()),
        sa.Column("registered", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "agency_status_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("basis", sa.Text()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "registry_sync",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("registry_sync", "agency_status_change", "agency_branch", "agency"):
        op.drop_table(table)
