"""Event logs: every step of a set of instances, trace by trace, read in pages so that a log of any size streams.

Owns: which instances a log holds (``LogFilter``) and reading their journal
as traces, one instance's events after another in journal order. Each page
is its own reader (``Store.reader``): a long export never holds a
transaction open, and a writer never waits for it. At most one page of
instances and one page of events are in memory, plus the trace being built.

Does not know: XES, OCEL, mining or any statistics; ``discover`` turns
traces into those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.store.event_log import LogFilter, LoggedInstanceRow
from engine.store.protocol import Store

__all__ = ["EventLogQueries", "LogEvent", "LogFilter", "LoggedInstanceRow", "Trace"]

INSTANCE_PAGE = 500
EVENT_PAGE = 5000


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One journal entry: ``data`` as the step wrote it (``by`` is who made the command, ``engine.Actor``)."""

    position: int
    type: str
    element_id: str | None
    element_instance: int | None
    data: dict[str, Any] | None
    at: int


@dataclass(frozen=True, slots=True)
class Trace:
    instance: LoggedInstanceRow
    events: tuple[LogEvent, ...]


class EventLogQueries:
    def __init__(self, store: Store, *, instance_page: int = INSTANCE_PAGE, event_page: int = EVENT_PAGE) -> None:
        self._store = store
        self._instance_page = instance_page
        self._event_page = event_page

    def instances(self, where: LogFilter) -> Iterator[LoggedInstanceRow]:
        """The instances of ``where``, oldest first, a page at a time."""
        after: int | None = None
        while True:
            with self._store.reader() as tx:
                page = tx.instances.log_instances(where, after=after, limit=self._instance_page)
            yield from page
            if len(page) < self._instance_page:
                return
            after = page[-1].key

    def traces(self, where: LogFilter) -> Iterator[Trace]:
        """Each instance of ``where`` (oldest first) with its journal in order; an instance with no journal rows
        comes with no events."""
        after: int | None = None
        while True:
            with self._store.reader() as tx:
                page = tx.instances.log_instances(where, after=after, limit=self._instance_page)
            if not page:
                return
            yield from self._traces_of(page)
            if len(page) < self._instance_page:
                return
            after = page[-1].key

    def _traces_of(self, page: Sequence[LoggedInstanceRow]) -> Iterator[Trace]:
        by_key = {row.key: row for row in page}
        keys = [row.key for row in page]
        events: dict[int, list[LogEvent]] = {}
        done = 0  # traces of keys[:done] are yielded
        after: tuple[int, int] | None = None
        while True:
            with self._store.reader() as tx:
                rows = tx.instances.journal_of(keys, after=after, limit=self._event_page)
            for r in rows:
                element_instance = None if r.element_instance is None else int(r.element_instance)
                events.setdefault(int(r.instance_key), []).append(LogEvent(
                    int(r.id), str(r.type), r.element_id, element_instance, json.loads(r.data) if r.data else None,
                    int(r.at)))
            complete = len(rows) < self._event_page
            last = int(rows[-1].instance_key) if rows else 0
            # every instance before the one the page ended in is complete: its trace can go out
            while done < len(keys) and (complete or keys[done] < last):
                yield Trace(by_key[keys[done]], tuple(events.pop(keys[done], ())))
                done += 1
            if complete:
                return
            after = (int(rows[-1].instance_key), int(rows[-1].id))
