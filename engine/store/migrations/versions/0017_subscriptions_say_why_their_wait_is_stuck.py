"""subscriptions say why their wait is stuck: a note, the failures in a row, the next check

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:30:00

A message subscription that something outside keeps going (Camunda's A2A
polling catch event, polled by the hub) records what its last check said when
it failed, how many checks failed in a row and when it is checked next, for
the element's ``waitingFor`` (REST, CLI, console) and for the poller after a
restart. Subscriptions written before this revision have no note.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wait_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("wait_failures", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_check_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("next_check_at")
        batch_op.drop_column("wait_failures")
        batch_op.drop_column("wait_note")
