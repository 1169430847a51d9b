"""fewer index pages per commit: one journal index instead of two, partial indexes for rare values

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:30:00

Every commit writes each B-tree page it touched to the WAL and, at FULL,
waits for it to reach the disk; an instance of the benchmark's straight
process wrote 47 pages, 40 of them index pages, some of them entries that no
query ever reads. After this revision it writes 37 (docs/BENCHMARKS.md):

- the journal had two indexes, ``ix_journal_instance (instance_key, id)``
  for reading an instance's journal in order and ``ix_journal_element
  (instance_key, type, element_id)`` for the console's heat map. One index
  ``(instance_key, id, type, element_id)`` serves both: the ordered read is
  its prefix, and the heat map's join by instance is still answered from the
  index alone. Every journal row now updates two B-trees, not three.
- ``ix_instances_start_key`` holds only instances started by a message with
  a correlation key (``start_key IS NOT NULL``): the only query on it asks
  for one key, and the others were entries with a NULL key.
- ``ix_instances_ended`` holds only ended instances: every query on it
  bounds ``ended_at``, so an active instance's NULL entry was never read.
- ``ix_jobs_lock`` holds only locked jobs: the claim asks it for the locked
  jobs whose lease ran out, so a ready job's entry was never read.

Rejected: one journal row per step (the events of a step as one JSON array),
which saves more (see docs/BENCHMARKS.md) but changes the position every
reader pages by and the heat map's SQL; left for a later revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_STARTED_BY_KEY = "start_key IS NOT NULL"
_ENDED = "ended_at IS NOT NULL"
_LOCKED = "state = 'locked'"


def upgrade() -> None:
    op.drop_index("ix_journal_element", table_name="journal")
    op.drop_index("ix_journal_instance", table_name="journal")
    op.create_index("ix_journal_instance", "journal", ["instance_key", "id", "type", "element_id"], unique=False)
    _partial("instances", "ix_instances_start_key", ["process_id", "start_key", "status"], _STARTED_BY_KEY)
    _partial("instances", "ix_instances_ended", ["ended_at", "key"], _ENDED)
    _partial("jobs", "ix_jobs_lock", ["state", "lock_expires_at"], _LOCKED)


def downgrade() -> None:
    for table, name, columns in (
        ("jobs", "ix_jobs_lock", ["state", "lock_expires_at"]),
        ("instances", "ix_instances_ended", ["ended_at", "key"]),
        ("instances", "ix_instances_start_key", ["process_id", "start_key", "status"]),
    ):
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
    op.drop_index("ix_journal_instance", table_name="journal")
    op.create_index("ix_journal_instance", "journal", ["instance_key", "id"], unique=False)
    op.create_index("ix_journal_element", "journal", ["instance_key", "type", "element_id"], unique=False)


def _partial(table: str, name: str, columns: list[str], where: str) -> None:
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, unique=False, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
