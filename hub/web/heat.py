"""Heat maps kept current: each process version's element counts summed once, then only what the journal added.

Counting every element event of a version's instances is one SQL aggregate
(``engine.store.instance_search.element_tally_sql``), but at 100,000
instances it reads about a million journal rows. So the hub keeps the sums
per version and asks only for the rows past the last journal position it
counted: a page after the first reads what happened since. Open incidents
are counted afresh each time (they are few, and they end).

The sums are rebuilt from scratch every ``REBUILD_S``: on PostgreSQL a
transaction can commit a journal row below a position already counted (ids
are handed out before commit), and a rebuild brings that row in. Rejected:
counters kept in a table by every step, which would make every instance of a
process write the same rows and queue behind each other.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.store.instance_search import ElementCount, element_counts

__all__ = ["HeatMaps"]

REBUILD_S = 300.0


@dataclass
class _Sums:
    made: float
    last: int = 0
    passed: Counter[tuple[str, str]] = field(default_factory=Counter)


class HeatMaps:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sums: dict[tuple[int, str, int], _Sums] = {}

    def counts(self, engine: Any, process_id: str, version: int) -> list[ElementCount]:
        """Per element of the version: there now, passed, terminated, open incidents. Blocking: call in a thread."""
        key = (id(engine), process_id, version)
        with self._lock:  # one tally at a time: a second page asking meanwhile gets the sums the first one made
            now = time.monotonic()
            sums = self._sums.get(key)
            if sums is None or now - sums.made > REBUILD_S:
                sums = self._sums[key] = _Sums(made=now)
            tally = engine.console.element_tally(process_id, version, after=sums.last)
            for element, kind, n in tally.passed:
                sums.passed[(element, kind)] += n
            sums.last = tally.last
            passed = [(element, kind, n) for (element, kind), n in sums.passed.items()]
        return element_counts(passed, tally.incidents)
