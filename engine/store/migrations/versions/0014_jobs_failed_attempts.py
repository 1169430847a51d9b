"""jobs count their failed attempts, so that a worker's retry backoff grows with them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:50:00

The worker loop waits base, 2x base, 4x base ... between attempts of a job
that fails. It computed the attempt from the retries left and the job's
retries as it was claimed, which is always the first attempt: the backoff
never grew. ``failures`` counts the failed attempts (reset when an incident
is retried). Jobs written before this revision start at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("failures")
