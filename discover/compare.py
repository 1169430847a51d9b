"""Measuring the result of a change: two versions of one process side by side, on the same measures.

Each version's instances go through the brief's own statistics
(``discover.inventory``), so "before" and "after" are measured alike:
cycle-time percentiles, incident and failure rates, rework (instances that
ran an activity again, and the extra passes), and the time spent waiting in
the elements that do the work. ``change`` is new minus old; ``None`` where
either side has nothing to measure (no completed instance yet).
"""

from __future__ import annotations

from typing import Any

from discover.elements import ElementCatalog
from discover.export import check_process
from discover.inventory import ProcessSummary, collect
from discover.stats import CONTAINERS, ProcessStats
from engine import Engine
from engine.event_log import LogFilter

__all__ = ["compare_versions", "measures_of"]


def measures_of(stats: ProcessStats) -> dict[str, Any]:
    summary = ProcessSummary(stats).to_json()
    cycle = summary["cycleTimeMs"]
    reworked = {e.element_id for e in stats.elements.values() if e.rework_instances}
    return {
        "instances": stats.instances,
        "completed": stats.completed,
        "cycleTimeP50Ms": cycle.get("p50"),
        "cycleTimeP90Ms": cycle.get("p90"),
        "cycleTimeMeanMs": cycle.get("mean"),
        "incidentRate": summary["incidentRate"],
        "failureRate": summary["failureRate"],
        "reworkExtraPasses": sum(e.extra_passes for e in stats.elements.values()),
        "reworkElements": sorted(reworked),
        "waitingMs": sum(sum(e.durations) for e in stats.elements.values() if e.kind not in CONTAINERS),
    }


def _change(old: Any, new: Any) -> Any:
    if isinstance(old, bool) or not isinstance(old, int | float) or not isinstance(new, int | float):
        return None
    return round(new - old, 4) if isinstance(old, float) or isinstance(new, float) else new - old


def compare_versions(engine: Engine, process_id: str, old: int, new: int) -> dict[str, Any]:
    """``{"processId", "old": {"version", measures...}, "new": {...}, "change": {measure: new - old}}``."""
    for version in (old, new):
        check_process(engine, LogFilter(process_id=process_id, version=version))
    catalog = ElementCatalog(engine)
    sides = {}
    for version in (old, new):
        found = collect(engine.event_log.traces(LogFilter(process_id=process_id, version=version)), catalog)
        sides[version] = measures_of(found.get(process_id) or ProcessStats(process_id))
    before, after = sides[old], sides[new]
    return {"processId": process_id, "old": {"version": old, **before}, "new": {"version": new, **after},
            "change": {k: _change(before[k], after[k]) for k in before if _change(before[k], after[k]) is not None
                       or before[k] is None or after[k] is None}}
