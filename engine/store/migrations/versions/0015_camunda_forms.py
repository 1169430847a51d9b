"""Camunda Forms deployed beside BPMN, versioned per form id

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:00:00

One row per form version; the form-js JSON itself is the deployment's
resource (``deployment_resources``). Indexed for the three bindings of a
user task's ``zeebe:formDefinition formId``: the latest version of an id,
the latest with a version tag, and the version a given deployment carries
(by checksum).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("form_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("version_tag", sa.String(255), nullable=True),
        sa.Column("deployment_key", sa.BigInteger(), nullable=False),
        sa.Column("resource_name", sa.String(255), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("form_id", "version", name="uq_forms_form_version"),
    )
    op.create_index("ix_forms_tag", "forms", ["form_id", "version_tag"], unique=False)
    op.create_index("ix_forms_checksum", "forms", ["form_id", "checksum"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_forms_checksum", table_name="forms")
    op.drop_index("ix_forms_tag", table_name="forms")
    op.drop_table("forms")
