"""Trafficking reports: reports, evidence, status audit log, delivery outbox, /status rate limit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("chat_state") as batch:
        batch.add_column(sa.Column("last_update_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("draft_key", sa.String(40), nullable=False, unique=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(40)),
        sa.Column("location_kind", sa.String(20)),
        sa.Column("location", sa.String(100)),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id", ondelete="SET NULL")),
        sa.Column("details_secret", sa.Text(), nullable=False),
        sa.Column("contact_mode", sa.String(20), nullable=False),
        sa.Column("reporter_secret", sa.Text()),
        sa.Column("reporter_key", sa.String(64), index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("status_changed_at", WHEN, nullable=False),
        sa.Column("staff_message_id", sa.BigInteger()),
        sa.Column("delivered_at", WHEN),
    )
    op.create_table(
        "report_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("file_id", sa.String(300), nullable=False),
    )
    op.create_table(
        "report_status_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_name", sa.String(200), nullable=False),
        sa.Column("changed_at", WHEN, nullable=False),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300)),
        sa.Column("sent_at", WHEN, index=True),
        sa.Column("message_id", sa.BigInteger()),
        sa.UniqueConstraint("report_id", "kind", "ref"),
    )
    op.create_table(
        "status_lookup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_key", sa.String(64), nullable=False, index=True),
        sa.Column("at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in ("status_lookup", "delivery", "report_status_change", "report_evidence", "report"):
        op.drop_table(table)
    with op.batch_alter_table("chat_state") as batch:
        batch.drop_column("last_update_id")
