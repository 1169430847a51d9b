"""The analyses of our own journal, over an imported log: its summary and brief (``discover.inventory``), a
model mined from it and its conformance to a deployed process (``discover.mining``).

Nothing here computes a measure of its own: the imported cases are fed, as
traces (``discover.imported``), to the same statistics and miner the
journal's instances go through, so a measure means the same on both. What
a log does not record is absent rather than invented: it has no incidents,
agents or gateway choices, so its brief has none of those.
"""

from __future__ import annotations

from typing import Any

from discover.inventory import ProcessSummary, brief_of, collect
from discover.log_store import ImportedLogs
from discover.mining import conform, deployed_model, ensure_mining, frame_of, mine
from discover.stats import ProcessStats
from engine import Engine

__all__ = ["log_brief", "log_conformance", "log_model", "log_summary"]


def _stats(logs: ImportedLogs, name: str) -> ProcessStats:
    return collect(logs.traces(name), logs.catalog(name)).get(name) or ProcessStats(name)


def _labelled(found: dict[str, Any], logs: ImportedLogs, name: str) -> dict[str, Any]:
    log = logs.get(name)
    found.pop("versions", None)  # a log has no versions of ours
    return {"log": name, "source": log.source, "format": log.format, **found}


def log_summary(logs: ImportedLogs, name: str) -> dict[str, Any]:
    """The inventory line of a log: cases (``instances``), all completed, and their cycle times."""
    return _labelled(ProcessSummary(_stats(logs, name)).to_json(), logs, name)


def log_brief(logs: ImportedLogs, name: str) -> dict[str, Any]:
    """The improvement brief of a log: where its cases spend their time, its rework loops, its opportunities."""
    return _labelled(brief_of(_stats(logs, name)), logs, name)


def log_model(logs: ImportedLogs, name: str, *, noise: float = 0.0) -> bytes:
    """A BPMN model mined from the log (pm4py's inductive miner), its process id ``discovered-NAME``."""
    logs.get(name)
    ensure_mining()
    return mine(frame_of(logs.traces(name), logs.catalog(name)), name, noise)


def log_conformance(engine: Engine, logs: ImportedLogs, name: str, process_id: str,
                    version: int | None = None) -> dict[str, Any]:
    """How well the log's cases fit a deployed process version (its latest by default): matched by activity
    name (the log's activities against the model's task names)."""
    logs.get(name)
    xml, deployed = deployed_model(engine, process_id, version)
    ensure_mining()
    frame = frame_of(logs.traces(name), logs.catalog(name))
    ids = logs.case_ids(name, sorted({int(c) for c in frame["case:concept:name"]}))
    found = conform(frame, xml, process_id, deployed, lambda case: ids.get(int(case), case))
    return {"log": name, **found}
