"""The process inventory (every process: how often, how long, how often it fails) and one process's brief.

Both are one streamed pass over the journal (``ProcessStats``): the
inventory over every instance, the brief over one process's. The JSON
field names (``processId``, ``instances``, ``completed``, ``incidents``,
``cycleTimeMs``) are the surface the CLI and REST both print.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from discover.elements import Catalog, ElementCatalog
from discover.export import check_process
from discover.opportunities import opportunities
from discover.stats import CONTAINERS, ElementStats, ProcessStats, percentiles
from engine import Engine
from engine.event_log import LogFilter, Trace

__all__ = ["ProcessSummary", "brief", "brief_of", "collect", "inventory"]

TOP = 5  # entries in each of the brief's lists


@dataclass(frozen=True, slots=True)
class ProcessSummary:
    stats: ProcessStats

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        ended = s.completed + s.terminated
        return {
            "processId": s.process_id,
            "versions": sorted(s.versions),
            "instances": s.instances,
            "completed": s.completed,
            "terminated": s.terminated,
            "active": s.active,
            "incidents": s.with_incidents,
            "openIncidents": s.open_incidents,
            "incidentRate": _rate(s.with_incidents, s.instances),
            "failureRate": _rate(s.terminated, ended),
            "cycleTimeMs": percentiles(s.cycle_times),
        }


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def collect(traces: Iterable[Trace], catalog: Catalog) -> dict[str, ProcessStats]:
    """One pass over ``traces``: the statistics of each process they are of (the journal's, or an imported log's)."""
    found: dict[str, ProcessStats] = {}
    for trace in traces:
        process_id = trace.instance.process_id
        stats = found.get(process_id)
        if stats is None:
            stats = found[process_id] = ProcessStats(process_id)
        stats.add(trace, catalog)
    return found


def inventory(engine: Engine) -> list[ProcessSummary]:
    """Every process that has instances, by process id."""
    found = collect(engine.event_log.traces(LogFilter()), ElementCatalog(engine))
    return [ProcessSummary(found[p]) for p in sorted(found)]


def brief(engine: Engine, process_id: str, version: int | None = None) -> dict[str, Any]:
    """The improvement brief of one process (of one version of it): its summary, where time goes (waiting by
    element, bottlenecks first), rework loops, exception hot spots, its agents, and the automation opportunities
    ranked by expected impact."""
    where = LogFilter(process_id=process_id, version=version)
    check_process(engine, where)
    return brief_of(collect(engine.event_log.traces(where), ElementCatalog(engine)).get(process_id)
                    or ProcessStats(process_id))


def brief_of(stats: ProcessStats) -> dict[str, Any]:
    """The brief of statistics already collected (``collect``)."""
    # a subprocess's time is its children's: it is listed, but only the elements that do the work are bottlenecks
    waiting = sorted((e for e in stats.elements.values() if e.durations), key=lambda e: (-sum(e.durations),
                                                                                         e.element_id))
    working = [e for e in waiting if e.kind not in CONTAINERS]
    total = sum(sum(e.durations) for e in working) or 1
    return {
        **ProcessSummary(stats).to_json(),
        "waitingByElement": [_waiting(e, total) for e in waiting],
        "bottlenecks": [_waiting(e, total) for e in working[:TOP]],
        "reworkLoops": [
            {"elementId": e.element_id, "name": e.label, "instances": e.rework_instances, "extraPasses": e.extra_passes,
             "rate": _rate(e.rework_instances, stats.instances)}
            for e in sorted(stats.elements.values(), key=lambda e: (-e.extra_passes, e.element_id)) if e.extra_passes
        ][:TOP],
        "exceptionHotSpots": [
            {"elementId": e.element_id, "name": e.label, "incidents": e.incidents, "errors": e.errors,
             "aborted": e.aborted, "suspendedMs": e.suspended_ms}
            for e in sorted(stats.elements.values(), key=lambda e: (-(e.incidents + e.errors), e.element_id))
            if e.incidents or e.errors
        ][:TOP],
        "agents": [
            {"elementId": a.element_id, "runs": a.runs, "modelCalls": a.model_calls, "toolCalls": a.tool_calls,
             "denied": a.denied, "rejected": a.rejected, "repeatedCalls": a.repeated, "limitReached": a.limit_reached}
            for a in sorted(stats.agents.values(), key=lambda a: a.element_id)
        ],
        "opportunities": opportunities(stats),
    }


def _waiting(e: ElementStats, total: int) -> dict[str, Any]:
    spent = sum(e.durations)
    return {"elementId": e.element_id, "name": e.label, "type": e.kind, "passes": e.passes, "totalMs": spent,
            "share": None if e.kind in CONTAINERS else round(spent / total, 4), "waitMs": percentiles(e.durations)}
