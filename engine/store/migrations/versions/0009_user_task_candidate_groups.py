"""user tasks' candidate groups as rows, so a group's task list is one indexed query with a LIMIT

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 13:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_task_groups",
        sa.Column("group_name", sa.String(255), nullable=False),
        sa.Column("task_key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("group_name", "task_key"),
    )
    # Tasks created before this revision: their groups from the JSON column, in batches.
    conn = op.get_bind()
    groups = sa.table("user_task_groups", sa.column("group_name"), sa.column("task_key"))
    tasks = sa.table("user_tasks", sa.column("key"), sa.column("candidate_groups"))
    after = -(2**63)
    while True:
        page = sa.select(tasks.c.key, tasks.c.candidate_groups).where(tasks.c.key > after).order_by(tasks.c.key)
        rows = conn.execute(page.limit(1000)).all()
        if not rows:
            break
        values = [
            {"group_name": name, "task_key": key}
            for key, text in rows
            for name in sorted(set(json.loads(text or "[]")))
            if isinstance(name, str) and name
        ]
        if values:
            conn.execute(sa.insert(groups), values)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("user_task_groups")
