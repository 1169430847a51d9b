"""registry: a virtual server may also be an A2A agent at /a2a/{name}; the gateway's daily call budgets

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("virtual_servers") as batch:
        batch.add_column(sa.Column("a2a", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "gateway_budget_usage",
        sa.Column("budget", sa.String(length=300), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("budget", "day"),
    )


def downgrade() -> None:
    op.drop_table("gateway_budget_usage")
    with op.batch_alter_table("virtual_servers") as batch:
        batch.drop_column("a2a")
