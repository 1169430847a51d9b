"""Discover's own tables in the hub's database: imported event logs and AI-drafted process changes.

They live beside the registry's tables and are created by the registry's
migrations (``registry/migrations``, revision 0015), so one Alembic history
covers every table the hub adds to the engine's database; the engine's
journal never holds them (an imported log is other systems' history, not
ours, and a draft is not deployed until a person approves it). This is
their current shape. Times are epoch milliseconds (UTC).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

__all__ = ["drafts", "log_cases", "log_events", "logs", "metadata"]

metadata = MetaData()

logs = Table(
    "discover_logs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("format", String(8), nullable=False),  # xes, ocel or csv
    Column("source", String(255), nullable=False),  # the file's name
    Column("case_type", String(255)),  # OCEL: the object type whose objects are the cases
    Column("cases", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    Column("activities", Text, nullable=False),  # JSON list, sorted
    Column("imported_at", BigInteger, nullable=False),
    Column("imported_by", String(255)),
)

log_cases = Table(
    "discover_log_cases",
    metadata,
    Column("log", String(64), primary_key=True),
    Column("case_no", Integer, primary_key=True),  # 1, 2, ... in the order the file first names them
    Column("case_id", String(255), nullable=False),  # as the file names it
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=False),
)

log_events = Table(
    "discover_log_events",
    metadata,
    Column("log", String(64), primary_key=True),
    Column("case_no", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),  # the event's place in the file
    Column("activity", String(255), nullable=False),
    Column("lifecycle", String(16), nullable=False),  # start or complete
    Column("at", BigInteger, nullable=False),
    Column("resource", String(255)),
)

drafts = Table(
    "discover_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("process_id", String(255), nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("goal", Text, nullable=False),
    Column("model", String(255), nullable=False),
    Column("bpmn", Text, nullable=False),  # laid out; the model's answer as it came when it is no BPMN we can read
    Column("checks", Text, nullable=False),  # JSON: {"errors": [...], "warnings": [...]}
    Column("diff", Text, nullable=False),  # JSON: discover.draft_diff
    Column("state", String(16), nullable=False),  # discover.drafts.DraftState
    Column("requested_by", String(255), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("decided_by", String(255)),
    Column("decided_at", BigInteger),
    Column("reason", Text),
    Column("deployed_version", Integer),
    Index("ix_discover_drafts_process", "process_id", "id"),
)
