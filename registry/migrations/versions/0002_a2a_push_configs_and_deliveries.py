"""registry: A2A push notification configs and their delivery outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_push_configs",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("config_id", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("auth_scheme", sa.String(length=64), nullable=True),
        sa.Column("auth_credentials", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("notified", sa.String(length=255), nullable=True),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("task_id", "config_id"),
    )
    with op.batch_alter_table("a2a_push_configs", schema=None) as batch_op:
        batch_op.create_index("ix_a2a_push_configs_done", ["done", "task_id"], unique=False)

    op.create_table(
        "a2a_push_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("config_id", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("a2a_push_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_a2a_push_deliveries_due", ["state", "next_at"], unique=False)
        batch_op.create_index("ix_a2a_push_deliveries_config", ["task_id", "config_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("a2a_push_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_a2a_push_deliveries_config")
        batch_op.drop_index("ix_a2a_push_deliveries_due")
    op.drop_table("a2a_push_deliveries")
    with op.batch_alter_table("a2a_push_configs", schema=None) as batch_op:
        batch_op.drop_index("ix_a2a_push_configs_done")
    op.drop_table("a2a_push_configs")
