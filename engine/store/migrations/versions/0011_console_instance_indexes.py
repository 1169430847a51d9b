"""indexes for the console: instances by version, status and dates; the journal by element

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:30:00

The console lists instances newest first with filters (process, version,
status, start and end dates) a page at a time, counts them per process
version, and draws a heat map from the journal's element events. Each of
those is an index range read with a ``LIMIT`` (or an index-only count), so
it stays fast at a million instances.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INSTANCES = (
    ("ix_instances_version", ["process_id", "version", "status", "key"]),
    ("ix_instances_process_status", ["process_id", "status", "key"]),
    ("ix_instances_created", ["created_at", "key"]),
    ("ix_instances_ended", ["ended_at", "key"]),
)


_WITH_INCIDENT = "status = 'active' AND incidents > 0"


def upgrade() -> None:
    for name, columns in _INSTANCES:
        op.create_index(name, "instances", columns, unique=False)
    op.create_index("ix_instances_incident", "instances", ["process_id", "version", "key"], unique=False,
                    sqlite_where=sa.text(_WITH_INCIDENT), postgresql_where=sa.text(_WITH_INCIDENT))
    op.create_index("ix_journal_element", "journal", ["instance_key", "type", "element_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_journal_element", table_name="journal")
    op.drop_index("ix_instances_incident", table_name="instances")
    for name, _columns in reversed(_INSTANCES):
        op.drop_index(name, table_name="instances")
