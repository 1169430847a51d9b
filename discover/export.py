"""Event logs out: a set of instances (by process, version, start-time range) as XES or OCEL 2.0 JSON, streamed.

``export_chunks`` is the document in pieces, for an HTTP response or a
file; ``export_to`` writes a file and says how much it wrote. Neither holds
more than a page of the journal and one trace in memory
(``engine.event_log``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path

from discover.elements import ElementCatalog
from discover.exceptions import DiscoverError, UnknownFormat, UnknownProcess
from discover.ocel import ocel_chunks
from discover.xes import xes_chunks
from engine import Engine
from engine.event_log import LogFilter

__all__ = ["ExportCounts", "ExportFormat", "epoch_millis", "export_chunks", "export_to", "media_type"]


class ExportFormat(StrEnum):
    XES = "xes"
    OCEL = "ocel"

    @classmethod
    def parse(cls, value: str) -> ExportFormat:
        try:
            return cls(value.lower())
        except ValueError:
            raise UnknownFormat(f"'{value}' is not an export format: use xes or ocel") from None


@dataclass(frozen=True, slots=True)
class ExportCounts:
    traces: int  # instances
    events: int


def epoch_millis(text: str, name: str) -> int:
    """A moment given as ISO 8601 (``2026-12-01``, ``2026-12-01T10:00``, with or without an offset; UTC when it
    has none) in epoch milliseconds; ``DiscoverError`` naming the option ``name`` otherwise."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text or " " in text else \
            datetime.combine(date.fromisoformat(text), time())
    except ValueError:
        raise DiscoverError(f"{name} '{text}' is not an ISO 8601 date or time (2026-12-01 or 2026-12-01T10:00Z)") \
            from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def media_type(fmt: ExportFormat) -> str:
    return "application/xml" if fmt == ExportFormat.XES else "application/json"


def check_process(engine: Engine, where: LogFilter) -> None:
    """``UnknownProcess`` when ``where`` names a process (version) that was never deployed: an empty log would
    hide a typo."""
    if where.process_id is not None and not engine.definitions(where.process_id):
        raise UnknownProcess(f"process '{where.process_id}' is not deployed")
    if where.version is not None and where.process_id is not None and not any(
            d["version"] == where.version for d in engine.definitions(where.process_id)):
        raise UnknownProcess(f"process '{where.process_id}' has no version {where.version}")


def export_chunks(engine: Engine, fmt: ExportFormat, where: LogFilter, counts: list[int] | None = None
                  ) -> Iterator[bytes]:
    """The document in pieces, read as it is written; ``counts`` (if given) ends as [traces, events]."""
    check_process(engine, where)
    catalog = ElementCatalog(engine)
    traces = engine.event_log.traces(where)
    if fmt == ExportFormat.XES:
        return xes_chunks(traces, catalog, counts)
    return ocel_chunks(traces, catalog, counts)


def export_to(engine: Engine, fmt: ExportFormat, where: LogFilter, out: Path) -> ExportCounts:
    """Write the log to ``out`` (through a temporary file beside it, so a failed export leaves no half file)."""
    counts = [0, 0]
    chunks = export_chunks(engine, fmt, where, counts)
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("wb") as f:
            for chunk in chunks:
                f.write(chunk)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportCounts(counts[0], counts[1])
