"""DMN decisions deployed beside BPMN, versioned per decision id

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:15:00

One row per decision version; the DMN text itself is the deployment's
resource (``deployment_resources``), found by deployment key and resource
name. Indexed for the three bindings of a business rule task: the latest
version of an id, the latest with a version tag, and the version whose text
a given deployment carries (by checksum).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("decision_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("version_tag", sa.String(255), nullable=True),
        sa.Column("deployment_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_name", sa.String(255), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("decision_id", "version", name="uq_decisions_decision_version"),
    )
    op.create_index("ix_decisions_tag", "decisions", ["decision_id", "version_tag"], unique=False)
    op.create_index("ix_decisions_checksum", "decisions", ["decision_id", "checksum"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_decisions_checksum", table_name="decisions")
    op.drop_index("ix_decisions_tag", table_name="decisions")
    op.drop_table("decisions")
