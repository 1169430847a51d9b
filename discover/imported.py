"""An imported log's cases as the traces the statistics and mining read (``engine.event_log.Trace``).

So every analysis of our own journal (``discover.stats``, ``discover.mining``)
runs unchanged over another system's log: a case is a completed instance
(from its first event to its last) of a "process" named after the log, and
an activity is an element of kind ``task`` whose id and name are the
activity's name.

Events with only a completion time (most CSV logs) say when work ended, not
when it began: such an activity is taken to have begun when the case's
previous event happened (at the case's first event for the first), so its
duration is the waiting before it plus its work, as process mining tools
commonly read single-timestamp logs. A ``start`` event pairs with the next
``complete`` of the same activity in the case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from discover.elements import ElementInfo
from discover.steps import Lifecycle
from engine.event_log import LogEvent, LoggedInstanceRow, Trace

__all__ = ["IMPORTED_KIND", "ImportedCatalog", "StoredEvent", "trace_of"]

IMPORTED_KIND = "task"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    activity: str
    lifecycle: str
    at: int
    resource: str | None


class ImportedCatalog:
    """The element catalog of an imported log (``discover.elements.Catalog``): each activity a task."""

    def __init__(self, activities: Iterable[str]) -> None:
        self._elements = {a: ElementInfo(a, IMPORTED_KIND) for a in activities}

    def of(self, process_id: str, version: int) -> Mapping[str, ElementInfo]:
        return self._elements

    def flows(self, process_id: str, version: int) -> Mapping[str, tuple[str, str]]:
        return {}  # a log names no flows: its choices are not known


def trace_of(log: str, case_no: int, started_at: int, ended_at: int, events: list[StoredEvent]) -> Trace:
    """One case as an instance's trace: ``element_activated`` / ``element_completed`` per activity pass."""
    row = LoggedInstanceRow(key=case_no, process_id=log, version=1, status="completed", incidents=0,
                            parent_instance=None, created_at=started_at, ended_at=ended_at)
    out: list[LogEvent] = []
    open_passes: dict[str, list[int]] = {}
    passes = 0
    last = started_at
    for e in sorted(events, key=lambda e: (e.at, e.position)):
        by = {"by": {"id": e.resource}} if e.resource else None
        if e.lifecycle == Lifecycle.START:
            passes += 1
            open_passes.setdefault(e.activity, []).append(passes)
            out.append(LogEvent(e.position, "element_activated", e.activity, passes, None, e.at))
        else:
            waiting = open_passes.get(e.activity)
            if waiting:
                element_instance = waiting.pop(0)
            else:
                passes += 1
                element_instance = passes
                out.append(LogEvent(e.position, "element_activated", e.activity, passes, None, last))
            out.append(LogEvent(e.position, "element_completed", e.activity, element_instance, by, e.at))
        last = e.at
    return Trace(row, tuple(out))
