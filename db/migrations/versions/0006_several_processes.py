"""Several processes: an inbox of Telegram updates (stored before they are acknowledged), fencing tokens on outbox
claims, leases for jobs one process runs at a time (the delivery leader), the set of a chat's updates handled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("done_at", WHEN, nullable=True, index=True),
    )
    op.create_table(
        "lease",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
    # Updates of a chat handled recently (a set, not the newest id: updates of one chat handled by several workers
    # can arrive out of order, and an older one must still be handled).
    with op.batch_alter_table("chat_state") as batch:
        batch.add_column(sa.Column("recent_updates", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("last_replies", sa.JSON(), nullable=True))
        batch.drop_column("last_update_id")


def downgrade() -> None:
    with op.batch_alter_table("chat_state") as batch:
        batch.add_column(sa.Column("last_update_id", sa.BigInteger(), nullable=True))
        batch.drop_column("recent_updates")
        batch.drop_column("last_replies")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("claim_token")
    op.drop_table("lease")
    op.drop_table("inbox")
