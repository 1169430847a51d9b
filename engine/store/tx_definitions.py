"""The SQL rows of deployments, their files and the process definitions they created."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update

from engine.store.rawsql import Session
from engine.store.rows import DefinitionRow
from engine.store.schema import definitions, deployment_resources, deployments

_SUMMARY = "key, process_id, version, name, deployment_key, resource_name, checksum, created_at, exposed"


class SqlDefinitions:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert_deployment(self, key: int, name: str, at: int) -> None:
        self._s.conn.execute(insert(deployments).values(key=key, name=name, created_at=at))

    def insert_resource(self, deployment_key: int, name: str, checksum: str, content: str, at: int) -> None:
        self._s.conn.execute(
            insert(deployment_resources).values(
                deployment_key=deployment_key, name=name, checksum=checksum, content=content, created_at=at
            )
        )

    def resource(self, deployment_key: int, name: str) -> str | None:
        return self._s.conn.execute(
            select(deployment_resources.c.content).where(
                deployment_resources.c.deployment_key == deployment_key, deployment_resources.c.name == name
            )
        ).scalar()

    def deployment_of(self, definition_key: int) -> int | None:
        found = self._s.conn.execute(
            select(definitions.c.deployment_key).where(definitions.c.key == definition_key)
        ).scalar()
        return int(found) if found is not None else None

    def deployments(self, limit: int, after: int | None) -> Sequence[Any]:
        query = select(deployments).order_by(deployments.c.key).limit(limit)
        if after is not None:
            query = query.where(deployments.c.key > after)
        return self._s.conn.execute(query).all()

    def insert(self, row: DefinitionRow, xml: str) -> None:
        self._s.conn.execute(
            insert(definitions).values(
                key=row.key,
                process_id=row.process_id,
                version=row.version,
                name=row.name,
                deployment_key=row.deployment_key,
                resource_name=row.resource_name,
                checksum=row.checksum,
                xml=xml,
                created_at=row.created_at,
                exposed=row.exposed,
            )
        )

    def expose(self, key: int) -> None:
        self._s.conn.execute(update(definitions).where(definitions.c.key == key).values(exposed=True))

    def latest(self, process_id: str) -> Any:
        return self._s.run(
            f"SELECT {_SUMMARY} FROM definitions WHERE process_id = :p ORDER BY version DESC LIMIT 1",
            {"p": process_id},
        ).first()

    def find(self, process_id: str, version: int | None = None) -> Any:
        if version is None:
            return self.latest(process_id)
        return self._s.run(
            f"SELECT {_SUMMARY} FROM definitions WHERE process_id = :p AND version = :v",
            {"p": process_id, "v": version},
        ).first()

    def version_of(self, key: int) -> int:
        return int(self._s.run("SELECT version FROM definitions WHERE key = :k", {"k": key}).one().version)

    def source(self, key: int) -> Any:
        return self._s.run(
            "SELECT key, process_id, version, xml, resource_name, deployment_key FROM definitions WHERE key = :k",
            {"k": key},
        ).first()

    def versions(self, process_id: str | None = None) -> Sequence[Any]:
        where = " WHERE process_id = :p" if process_id is not None else ""
        return self._s.run(
            f"SELECT {_SUMMARY} FROM definitions{where} ORDER BY process_id, version", {"p": process_id}
        ).all()
