"""The console's reads of instances: filtered keyset pages, counts per process version, heat maps, whole states.

Each runs in a reader (``Store.reader``), never waits for writers, and asks
the store for exactly what it shows (``engine.store.instance_search``): a
page is one indexed query with a ``LIMIT``, counts are SQL aggregates.
"""

from __future__ import annotations

import json

from engine.core import EngineCore
from engine.exceptions import NotFound
from engine.queries import instance_view
from engine.runtime import InstanceState
from engine.store.instance_search import ElementTally, InstanceFilter, ProcessCount
from engine.views import InstanceView

__all__ = ["InstanceQueries"]


class InstanceQueries:
    def __init__(self, kernel: EngineCore) -> None:
        self._store = kernel.store

    def search(self, where: InstanceFilter, *, limit: int = 50, before: int | None = None) -> list[InstanceView]:
        """Instances matching ``where``, newest first, with keys below ``before``."""
        with self._store.reader() as tx:
            rows = tx.instances.search(where, limit=limit, before=before)
            # ready={}: a list shows no job details, so it reads no jobs
            return [instance_view(tx, InstanceState.from_dict(json.loads(r.state)), r, {}) for r in rows]

    def scanned_to(self, where: InstanceFilter, *, before: int | None = None) -> int | None:
        """Where a search with a variable filter stopped looking (``engine.store.instance_search.SCAN``)."""
        with self._store.reader() as tx:
            return tx.instances.scanned_to(where, before=before)

    def count(self, where: InstanceFilter) -> int:
        """How many instances match ``where`` (no variable filter: that one only pages)."""
        with self._store.reader() as tx:
            return tx.instances.count(where)

    def counts(self) -> list[ProcessCount]:
        with self._store.reader() as tx:
            return list(tx.instances.counts())

    def element_tally(self, process_id: str, version: int, *, after: int = 0) -> ElementTally:
        """The version's element events in the journal past position ``after``, and its open incidents."""
        with self._store.reader() as tx:
            return tx.instances.element_tally(process_id, version, after=after)

    def detail(self, key: int) -> tuple[InstanceView, InstanceState]:
        """The instance as the API shows it (with its times) and its whole state, read together."""
        with self._store.reader() as tx:
            # the row by its key: a keyset page of one, below key + 1
            rows = tx.instances.search(InstanceFilter(), limit=1, before=key + 1)
            if not rows or int(rows[0].key) != key:
                raise NotFound(f"process instance {key} does not exist")
            state = InstanceState.from_dict(json.loads(rows[0].state))
            return instance_view(tx, state, rows[0]), state

    def state(self, key: int) -> InstanceState:
        """The instance's whole state (every element instance, every scope's variables), to look at."""
        with self._store.reader() as tx:
            loaded = tx.instances.load(key, lock=False)
            if loaded is None:
                raise NotFound(f"process instance {key} does not exist")
            return loaded[0]
