"""The in-memory store's deployed Camunda Form versions; mirrors ``engine.store.tx_forms``."""

from __future__ import annotations

import hashlib

from engine.store.memory_tables import Tables
from engine.store.rows import FormRow


class MemoryForms:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def insert(self, row: FormRow) -> None:
        self._t.forms[row.key] = row

    def find(self, form_id: str, *, version_tag: str | None = None) -> FormRow | None:
        rows = [r for r in self._versions(form_id) if version_tag is None or r.version_tag == version_tag]
        return rows[-1] if rows else None

    def in_deployment(self, form_id: str, deployment_key: int) -> FormRow | None:
        sums = {hashlib.sha256(content.encode()).hexdigest()
                for (deployment, _), content in self._t.resources.items() if deployment == deployment_key}
        rows = [r for r in self._versions(form_id) if r.checksum in sums]
        return rows[-1] if rows else None

    def _versions(self, form_id: str) -> list[FormRow]:
        return sorted((r for r in self._t.forms.values() if r.form_id == form_id), key=lambda r: r.version)
