"""Report safety: deliveries given up for good, the bot's own facts (key check, migrated group id), filing quota,
encrypted evidence file ids (longer column).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("prioritized", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("sender_key", sa.String(64), nullable=True))
    op.execute("UPDATE report SET prioritized = urgent")
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("gave_up_at", WHEN, nullable=True))
    with op.batch_alter_table("status_lookup") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="status"))
    with op.batch_alter_table("report_evidence") as batch:
        batch.alter_column("file_id", type_=sa.Text(), existing_type=sa.String(300), existing_nullable=False)
    op.create_table(
        "bot_meta",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_meta")
    with op.batch_alter_table("report_evidence") as batch:
        batch.alter_column("file_id", type_=sa.String(300), existing_type=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("status_lookup") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("gave_up_at")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("sender_key")
        batch.drop_column("prioritized")
