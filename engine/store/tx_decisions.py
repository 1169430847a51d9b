"""The SQL rows of deployed DMN decision versions (their text is a deployment resource)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from engine.store.rawsql import Session
from engine.store.rows import DecisionRow
from engine.store.schema import decisions

_COLUMNS = "key, decision_id, version, name, version_tag, deployment_key, resource_name, checksum, created_at"


class SqlDecisions:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert(self, row: DecisionRow) -> None:
        self._s.conn.execute(insert(decisions).values(
            key=row.key, decision_id=row.decision_id, version=row.version, name=row.name,
            version_tag=row.version_tag, deployment_key=row.deployment_key, resource_name=row.resource_name,
            checksum=row.checksum, created_at=row.created_at,
        ))

    def find(self, decision_id: str, version: int | None = None, *, version_tag: str | None = None) -> Any:
        where, params = "decision_id = :d", dict[str, Any](d=decision_id)
        if version is not None:
            where, params = where + " AND version = :v", {**params, "v": version}
        if version_tag is not None:
            where, params = where + " AND version_tag = :t", {**params, "t": version_tag}
        return self._s.run(
            f"SELECT {_COLUMNS} FROM decisions WHERE {where} ORDER BY version DESC LIMIT 1", params
        ).first()

    def in_deployment(self, decision_id: str, deployment_key: int) -> Any:
        columns = ", ".join(f"d.{c.strip()}" for c in _COLUMNS.split(","))
        return self._s.run(
            f"SELECT {columns} FROM decisions d JOIN deployment_resources r ON r.checksum = d.checksum "
            "WHERE d.decision_id = :d AND r.deployment_key = :k ORDER BY d.version DESC LIMIT 1",
            {"d": decision_id, "k": deployment_key},
        ).first()

    def versions(self, decision_id: str | None = None) -> Sequence[Any]:
        where = " WHERE decision_id = :d" if decision_id is not None else ""
        return self._s.run(
            f"SELECT {_COLUMNS} FROM decisions{where} ORDER BY decision_id, version", {"d": decision_id}
        ).all()
