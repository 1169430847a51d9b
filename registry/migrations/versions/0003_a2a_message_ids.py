"""registry: A2A message ids accepted from each caller, for deduplication

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_message_ids",
        sa.Column("caller", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("accepted_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("caller", "message_id"),
    )
    with op.batch_alter_table("a2a_message_ids", schema=None) as batch_op:
        batch_op.create_index("ix_a2a_message_ids_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("a2a_message_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_a2a_message_ids_expires")
    op.drop_table("a2a_message_ids")
