"""agents' conversations, one row per message

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("owner", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("instance_key", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "seq"),
    )
    op.create_index("ix_conversations_instance", "conversations", ["instance_key"])


def downgrade() -> None:
    op.drop_index("ix_conversations_instance", table_name="conversations")
    op.drop_table("conversations")
