"""registry: virtual MCP servers, each a curated set of processes, federated tools and agents at /mcp/{name}

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:00:00.000000
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
        "virtual_servers",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("processes", sa.Text(), server_default="[]", nullable=False),
        sa.Column("tools", sa.Text(), server_default="[]", nullable=False),
        sa.Column("agents", sa.Text(), server_default="[]", nullable=False),
        sa.Column("allow_users", sa.Text(), server_default="[]", nullable=False),
        sa.Column("allow_groups", sa.Text(), server_default="[]", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("virtual_servers")
