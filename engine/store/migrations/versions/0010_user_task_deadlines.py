"""user tasks' due and follow-up dates as sortable instants, and when a task was escalated

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:20:00

``due_date`` and ``follow_up_date`` keep the text the model gave (shown as
is); ``due_at`` and ``follow_up_at`` are the same instants in epoch
milliseconds, so a task list sorts by them in SQL with an index.
``escalated_at`` is set when an approval passed its due date and its policy
says ``onTimeout="escalate"``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _millis(text: str | None) -> int | None:
    """The instant of a stored date, or None where it is not an ISO 8601 date-time (it stays unsorted, last)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def upgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_user_tasks_due", ["state", "due_at", "key"], unique=False)
        batch_op.create_index("ix_user_tasks_follow_up", ["state", "follow_up_at", "key"], unique=False)
        batch_op.create_index("ix_user_tasks_priority", ["state", "priority", "key"], unique=False)
    # Tasks created before this revision: their instants from the text columns, in batches.
    conn = op.get_bind()
    tasks = sa.table("user_tasks", sa.column("key"), sa.column("due_date"), sa.column("follow_up_date"),
                     sa.column("due_at"), sa.column("follow_up_at"))
    after = -(2**63)
    while True:
        page = (sa.select(tasks.c.key, tasks.c.due_date, tasks.c.follow_up_date)
                .where(tasks.c.key > after, sa.or_(tasks.c.due_date.is_not(None), tasks.c.follow_up_date.is_not(None)))
                .order_by(tasks.c.key).limit(1000))
        rows = conn.execute(page).all()
        if not rows:
            break
        for key, due, follow_up in rows:
            conn.execute(sa.update(tasks).where(tasks.c.key == key)
                         .values(due_at=_millis(due), follow_up_at=_millis(follow_up)))
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_user_tasks_priority")
        batch_op.drop_index("ix_user_tasks_follow_up")
        batch_op.drop_index("ix_user_tasks_due")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("follow_up_at")
        batch_op.drop_column("due_at")
