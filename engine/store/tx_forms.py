"""The SQL rows of deployed Camunda Form versions (their JSON is a deployment resource)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from engine.store.rawsql import Session
from engine.store.rows import FormRow
from engine.store.schema import forms

_COLUMNS = "key, form_id, version, version_tag, deployment_key, resource_name, checksum, created_at"


class SqlForms:
    def __init__(self, session: Session) -> None:
        self._s = session

    def insert(self, row: FormRow) -> None:
        self._s.conn.execute(insert(forms).values(
            key=row.key, form_id=row.form_id, version=row.version, version_tag=row.version_tag,
            deployment_key=row.deployment_key, resource_name=row.resource_name, checksum=row.checksum,
            created_at=row.created_at,
        ))

    def find(self, form_id: str, *, version_tag: str | None = None) -> Any:
        where, params = "form_id = :f", dict[str, Any](f=form_id)
        if version_tag is not None:
            where, params = where + " AND version_tag = :t", {**params, "t": version_tag}
        return self._s.run(f"SELECT {_COLUMNS} FROM forms WHERE {where} ORDER BY version DESC LIMIT 1", params).first()

    def in_deployment(self, form_id: str, deployment_key: int) -> Any:
        columns = ", ".join(f"f.{c.strip()}" for c in _COLUMNS.split(","))
        return self._s.run(
            f"SELECT {columns} FROM forms f JOIN deployment_resources r ON r.checksum = f.checksum "
            "WHERE f.form_id = :f AND r.deployment_key = :k ORDER BY f.version DESC LIMIT 1",
            {"f": form_id, "k": deployment_key},
        ).first()
