"""The text of ``agenthub discover brief PROCESS --compare OLD NEW``: two versions side by side, as a person
reads them in a terminal; ``--json`` prints what REST answers (``discover.compare``)."""

from __future__ import annotations

from typing import Any

from hub.tables import table

__all__ = ["compare_lines", "duration"]

_MEASURES = (
    ("instances", "instances", str),
    ("completed", "completed", str),
    ("cycleTimeP50Ms", "cycle time p50", "ms"),
    ("cycleTimeP90Ms", "cycle time p90", "ms"),
    ("cycleTimeMeanMs", "cycle time mean", "ms"),
    ("incidentRate", "incident rate", "pct"),
    ("failureRate", "failure rate", "pct"),
    ("reworkExtraPasses", "rework (extra passes)", str),
    ("waitingMs", "time in the work", "ms"),
)


def duration(value: Any) -> str:
    if value is None:
        return "-"
    ms = int(value)
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{sign}{ms / size:.1f} {unit}"
    return f"{sign}{ms} ms"


def _cell(value: Any, kind: Any) -> str:
    if value is None:
        return "-"
    if kind == "ms":
        return duration(value)
    if kind == "pct":
        return f"{value:.1%}"
    return str(value)


def compare_lines(found: dict[str, Any]) -> list[str]:
    old, new, change = found["old"], found["new"], found["change"]
    lines = [f"process {found['processId']}: version {old['version']} against version {new['version']}", ""]
    lines += table(["MEASURE", f"VERSION {old['version']}", f"VERSION {new['version']}", "CHANGE"], [
        [label, _cell(old[key], kind), _cell(new[key], kind), _cell(change.get(key), kind)]
        for key, label, kind in _MEASURES])
    return lines
