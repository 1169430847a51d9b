"""registry: the upstream MCP tasks that mcp service tasks wait on without a worker, so that an orphaned one is
cancelled

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_remote_calls",
        sa.Column("job", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("instance", sa.BigInteger(), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=False),
        sa.Column("task_id", sa.String(length=255), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("mcp_remote_calls")
