"""The in-memory store's deployed DMN decision versions; mirrors ``engine.store.tx_decisions``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from engine.store.memory_tables import Tables
from engine.store.rows import DecisionRow


class MemoryDecisions:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def insert(self, row: DecisionRow) -> None:
        self._t.decisions[row.key] = row

    def find(self, decision_id: str, version: int | None = None, *,
             version_tag: str | None = None) -> DecisionRow | None:
        rows = [r for r in self.versions(decision_id)
                if (version is None or r.version == version) and (version_tag is None or r.version_tag == version_tag)]
        return rows[-1] if rows else None

    def in_deployment(self, decision_id: str, deployment_key: int) -> DecisionRow | None:
        sums = {hashlib.sha256(content.encode()).hexdigest()
                for (deployment, _), content in self._t.resources.items() if deployment == deployment_key}
        rows = [r for r in self.versions(decision_id) if r.checksum in sums]
        return rows[-1] if rows else None

    def versions(self, decision_id: str | None = None) -> Sequence[DecisionRow]:
        rows = [r for r in self._t.decisions.values() if decision_id is None or r.decision_id == decision_id]
        return sorted(rows, key=lambda r: (r.decision_id, r.version))
