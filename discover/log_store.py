"""Imported event logs, kept in discover's own tables (``discover.schema``), apart from the engine's journal.

``ImportedLogs.add`` stores what a ``LogReader`` reads in one transaction:
a file with a problem leaves nothing behind, and a log's name is taken
only once its events are in. Events go in batches as they are read, so an
import holds a batch and one number per case (its first and last time),
never the log. ``traces`` reads a log back case by case in keyset pages, as
the engine's ``event_log`` reads the journal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from discover.exceptions import DiscoverError, LogExists, UnknownLog
from discover.imported import ImportedCatalog, StoredEvent, trace_of
from discover.log_import import LogReader
from discover.schema import log_cases, log_events, logs
from engine.event_log import Trace
from registry.store import RegistryStore, now_ms

__all__ = ["ImportedLog", "ImportedLogs", "valid_log_name"]

BATCH = 1000
EVENT_PAGE = 5000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def valid_log_name(name: str) -> str:
    if not _NAME.match(name):
        raise DiscoverError(f"invalid log name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', starting "
                            "with a letter or digit")
    return name


@dataclass(frozen=True, slots=True)
class ImportedLog:
    name: str
    format: str
    source: str
    case_type: str | None
    cases: int
    events: int
    activities: tuple[str, ...]
    imported_at: int
    imported_by: str | None
    skipped: int = 0  # known only right after the import

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "source": self.source, "caseType": self.case_type,
                "cases": self.cases, "events": self.events, "activities": list(self.activities),
                "importedAt": self.imported_at, "importedBy": self.imported_by, "skipped": self.skipped}


def _log(row: Any, skipped: int = 0) -> ImportedLog:
    return ImportedLog(row.name, row.format, row.source, row.case_type, row.cases, row.events,
                       tuple(json.loads(row.activities)), row.imported_at, row.imported_by, skipped)


class ImportedLogs:
    def __init__(self, store: RegistryStore) -> None:
        self._store = store

    def add(self, name: str, reader: LogReader, *, by: str | None = None) -> ImportedLog:
        """Read the whole file into a new log ``name``; ``LogExists`` if one has that name, ``LogFormatError``
        listing the file's problems (and nothing stored) if it is not a log we can read."""
        valid_log_name(name)
        try:
            with self._store.begin() as conn:
                if conn.execute(select(logs.c.name).where(logs.c.name == name)).first() is not None:
                    raise LogExists(f"a log named '{name}' is imported already: delete it first, or choose another "
                                    "name")
                return self._fill(conn, name, reader, by)
        except IntegrityError:
            raise LogExists(f"a log named '{name}' was imported at the same time") from None

    def _fill(self, conn: Connection, name: str, reader: LogReader, by: str | None) -> ImportedLog:
        cases: dict[str, list[int]] = {}  # case id -> [case number, first time, last time]
        activities: set[str] = set()
        batch: list[dict[str, Any]] = []
        events = 0
        for e in reader.events():
            case = cases.get(e.case)
            if case is None:
                case = cases[e.case] = [len(cases) + 1, e.at, e.at]
            case[1], case[2] = min(case[1], e.at), max(case[2], e.at)
            activities.add(e.activity)
            events += 1
            batch.append({"log": name, "case_no": case[0], "position": events, "activity": e.activity[:255],
                          "lifecycle": str(e.lifecycle), "at": e.at, "resource": (e.resource or "")[:255] or None})
            if len(batch) >= BATCH:
                conn.execute(insert(log_events), batch)
                batch = []
        if batch:
            conn.execute(insert(log_events), batch)
        if not events:
            raise DiscoverError(f"{reader.source} holds no events we can read"
                                + (f" ({reader.skipped} skipped: not start or complete, or related to no case)"
                                   if reader.skipped else ""))
        rows = [{"log": name, "case_no": n, "case_id": case_id[:255], "started_at": first, "ended_at": last}
                for case_id, (n, first, last) in cases.items()]
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(log_cases), rows[start:start + BATCH])
        conn.execute(insert(logs).values(
            name=name, format=str(reader.format), source=reader.source[:255], case_type=reader.case_type or None,
            cases=len(cases), events=events, activities=json.dumps(sorted(activities)), imported_at=now_ms(),
            imported_by=by))
        row = conn.execute(select(logs).where(logs.c.name == name)).one()
        return _log(row, reader.skipped)

    def all(self) -> list[ImportedLog]:
        with self._store.read() as conn:
            return [_log(r) for r in conn.execute(select(logs).order_by(logs.c.name))]

    def get(self, name: str) -> ImportedLog:
        with self._store.read() as conn:
            row = conn.execute(select(logs).where(logs.c.name == name)).first()
        if row is None:
            raise UnknownLog(f"no imported log is named '{name}': `agenthub discover logs` lists them")
        return _log(row)

    def delete(self, name: str) -> None:
        with self._store.begin() as conn:
            if not conn.execute(delete(logs).where(logs.c.name == name)).rowcount:
                raise UnknownLog(f"no imported log is named '{name}'")
            conn.execute(delete(log_events).where(log_events.c.log == name))
            conn.execute(delete(log_cases).where(log_cases.c.log == name))

    def catalog(self, name: str) -> ImportedCatalog:
        return ImportedCatalog(self.get(name).activities)

    def case_ids(self, name: str, case_numbers: list[int]) -> dict[int, str]:
        """The file's ids of the cases numbered ``case_numbers``."""
        with self._store.read() as conn:
            return {r.case_no: r.case_id for r in conn.execute(select(log_cases.c.case_no, log_cases.c.case_id).where(
                log_cases.c.log == name, log_cases.c.case_no.in_(case_numbers)))}

    def traces(self, name: str) -> Iterator[Trace]:
        """Each case of the log, in the order the file first named them, as a trace (``discover.imported``).
        A page of events is read at a time, each page in its own short read."""
        self.get(name)
        after = (0, 0)
        pending: list[StoredEvent] = []
        current = 0
        spans: dict[int, tuple[int, int]] = {}
        while True:
            with self._store.read() as conn:
                rows = conn.execute(
                    select(log_events).where(log_events.c.log == name, (log_events.c.case_no > after[0]) | (
                        (log_events.c.case_no == after[0]) & (log_events.c.position > after[1])))
                    .order_by(log_events.c.case_no, log_events.c.position).limit(EVENT_PAGE)).all()
                numbers = sorted({r.case_no for r in rows} - set(spans))
                spans.update({c.case_no: (c.started_at, c.ended_at) for c in conn.execute(
                    select(log_cases).where(log_cases.c.log == name, log_cases.c.case_no.in_(numbers)))})
            for r in rows:
                if r.case_no != current and pending:
                    yield trace_of(name, current, *spans.pop(current), pending)
                    pending = []
                current = r.case_no
                pending.append(StoredEvent(r.position, r.activity, r.lifecycle, r.at, r.resource))
            if len(rows) < EVENT_PAGE:
                if pending:
                    yield trace_of(name, current, *spans.pop(current), pending)
                return
            after = (rows[-1].case_no, rows[-1].position)
