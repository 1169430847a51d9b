"""A process's instances over time: how many started each day (UTC), and how its cycle times spread.

Reads the instances only (``Engine.event_log.instances``, keyset pages), not
their journal: one number per day and one per completed instance are kept.
Days with no start are in the series as zero, so a plot's gaps are real.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from discover.export import check_process
from engine import Engine
from engine.event_log import LogFilter

__all__ = ["BINS", "MAX_DAYS", "Timeline", "timeline"]

BINS = 10  # cycle-time histogram bins, of equal width from the fastest to the slowest
MAX_DAYS = 366  # the series covers at most the last year of starts
_DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class Timeline:
    started_per_day: list[tuple[str, int]]  # (ISO date, instances started that day), oldest first
    cycle_times: list[tuple[int, int, int]]  # (from ms, to ms, completed instances) per bin

    def to_json(self) -> dict[str, Any]:
        return {"startedPerDay": [{"day": d, "instances": n} for d, n in self.started_per_day],
                "cycleTimeHistogram": [{"fromMs": a, "toMs": b, "instances": n} for a, b, n in self.cycle_times]}


def _histogram(values: list[int]) -> list[tuple[int, int, int]]:
    if not values:
        return []
    low, high = min(values), max(values)
    width = max(1, -(-(high - low + 1) // BINS))
    counts = Counter(min(BINS - 1, (v - low) // width) for v in values)
    return [(low + i * width, low + (i + 1) * width, counts.get(i, 0)) for i in range(BINS)]


def timeline(engine: Engine, process_id: str) -> Timeline:
    check_process(engine, LogFilter(process_id=process_id))
    days: Counter[int] = Counter()
    cycle: list[int] = []
    for row in engine.event_log.instances(LogFilter(process_id=process_id)):
        days[row.created_at // _DAY] += 1
        if row.status == "completed" and row.ended_at is not None:
            cycle.append(row.ended_at - row.created_at)
    series: list[tuple[str, int]] = []
    if days:
        last = max(days)
        for day in range(max(min(days), last - MAX_DAYS + 1), last + 1):
            series.append((dt.datetime.fromtimestamp(day * _DAY / 1000, tz=dt.UTC).date().isoformat(),
                           days.get(day, 0)))
    return Timeline(series, _histogram(cycle))
