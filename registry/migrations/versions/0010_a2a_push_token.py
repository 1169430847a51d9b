"""registry: the hash of the push token an a2a call gave its agent, so the agent's notification wakes the job

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("a2a_remote_calls") as batch:
        batch.add_column(sa.Column("push_token_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("a2a_remote_calls") as batch:
        batch.drop_column("push_token_hash")
