"""Alembic environment for the registry: runs on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from registry.schema import metadata

VERSION_TABLE = "registry_alembic_version"

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` command line, for writing new revisions
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///alembic-dev.db")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE
    )
    with context.begin_transaction():
        context.run_migrations()
