"""registry: discover's tables in the hub's database: imported event logs (kept apart from the engine's journal)
and AI-drafted process changes awaiting approval

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discover_logs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("case_type", sa.String(length=255), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("activities", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=False),
        sa.Column("imported_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "discover_log_cases",
        sa.Column("log", sa.String(length=64), nullable=False),
        sa.Column("case_no", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log", "case_no"),
    )
    op.create_table(
        "discover_log_events",
        sa.Column("log", sa.String(length=64), nullable=False),
        sa.Column("case_no", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=255), nullable=False),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("log", "case_no", "position"),
    )
    op.create_table(
        "discover_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("bpmn", sa.Text(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("deployed_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_discover_drafts_process", "discover_drafts", ["process_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_discover_drafts_process", table_name="discover_drafts")
    op.drop_table("discover_drafts")
    op.drop_table("discover_log_events")
    op.drop_table("discover_log_cases")
    op.drop_table("discover_logs")
