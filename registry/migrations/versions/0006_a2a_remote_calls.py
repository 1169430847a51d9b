"""registry: the A2A tasks that a2a service tasks wait on without a worker, for the sweep that cancels orphans

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_remote_calls",
        sa.Column("job", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("instance", sa.BigInteger(), nullable=False),
        sa.Column("agent", sa.String(length=255), nullable=False),
        sa.Column("task_id", sa.String(length=255), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("a2a_remote_calls")
