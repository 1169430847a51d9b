"""files deployed beside the BPMN (agents' model files), stored with their deployment

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_resources",
        sa.Column("deployment_key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_key", "name"),
    )


def downgrade() -> None:
    op.drop_table("deployment_resources")
