"""instances keep who started them in a column of their own, indexed: a caller's instances without a scan

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:00

An instance's ``startedBy`` (the principal that started it; null when the engine
did) was only in its state. A2A's ListTasks lists a caller's own tasks, and
read every instance of the agent's process to find them. The column is filled
from the state for the instances there are; the index is partial (instances the
engine started itself have no row in it), so a start by nobody writes no page
of it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_STARTED_BY = "started_by IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_by", sa.String(length=255), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE instances SET started_by = CAST(state AS jsonb) ->> 'startedBy'"
                   " WHERE CAST(state AS jsonb) ? 'startedBy'")
    else:
        op.execute("UPDATE instances SET started_by = json_extract(state, '$.startedBy')"
                   " WHERE json_extract(state, '$.startedBy') IS NOT NULL")
    op.create_index("ix_instances_started_by", "instances", ["started_by", "key"], unique=False,
                    sqlite_where=sa.text(_STARTED_BY), postgresql_where=sa.text(_STARTED_BY))


def downgrade() -> None:
    op.drop_index("ix_instances_started_by", table_name="instances")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("started_by")
