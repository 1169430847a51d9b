"""jobs that wait on remote work without a worker: the reason, while they wait

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 19:00:00

A job whose handler raised ``WaitRemote`` (an A2A task that runs for hours)
is ready again at its next check, with no lease; ``wait_reason`` says what
it waits on, for the instance's ``waitingFor`` and the job listings. Jobs
written before this revision never waited so: the column is left empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wait_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("wait_reason")
