"""Event logs in: an XES (IEEE 1849), OCEL 2.0 JSON or CSV file from another system, read as a stream of events.

Each reader turns a file into ``ImportedEvent``s (case, activity, start or
complete, time, resource) and leaves storing them to ``discover.log_store``:

- XES with lxml's ``iterparse``, one trace at a time (a trace's events are
  held until its end, where its ``concept:name`` is certain; the elements
  read are cleared), so the memory needed is one trace, not the log. No
  DTD, no entity expansion, no network. ``.gz`` files are read as such.
- OCEL 2.0 JSON with the ``json`` module (the format is one document, so it
  is read whole): events are flattened onto one object type, the cases.
  ``case_type`` picks it; by default it is the type with the most objects
  (the first declared on a tie). An event related to several objects of
  that type is an event of each; one related to none is skipped and counted.
- CSV with the ``csv`` module: comma, semicolon or tab separated, a header
  row, the columns named by ``CsvColumns`` or found by their usual names.

Lifecycle: ``start`` and ``complete`` are kept (an event with none is a
completion); the other XES transitions (assign, suspend ...) are skipped
and counted. Times are ISO 8601 (UTC when they carry no offset).

Problems are collected with the file and line (``events[12]`` in OCEL) and
raised together as one ``LogFormatError`` once the file is read, or as soon
as there are ``MAX_PROBLEMS``: nothing of a file with problems is stored.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any, cast

from lxml import etree

from discover.exceptions import LogFormatError, UnknownFormat
from discover.steps import Lifecycle

__all__ = ["MAX_PROBLEMS", "CsvColumns", "ImportFormat", "ImportedEvent", "LogReader"]

MAX_PROBLEMS = 20
_ATTRIBUTES = frozenset({"string", "date", "int", "float", "boolean", "id"})
_CSV_NAMES = {
    "case": ("case:concept:name", "case_id", "case id", "caseid", "case"),
    "activity": ("concept:name", "activity", "activity name", "event"),
    "timestamp": ("time:timestamp", "timestamp", "time", "complete timestamp", "end time"),
    "resource": ("org:resource", "resource", "user"),
    "lifecycle": ("lifecycle:transition", "lifecycle", "transition"),
}


class ImportFormat(StrEnum):
    XES = "xes"
    OCEL = "ocel"
    CSV = "csv"

    @classmethod
    def parse(cls, value: str) -> ImportFormat:
        try:
            return cls(value.lower())
        except ValueError:
            raise UnknownFormat(f"'{value}' is not a log format we import: use xes, ocel or csv") from None

    @classmethod
    def of_file(cls, name: str) -> ImportFormat:
        """The format a file's name says (``.xes``, ``.xes.gz``, ``.json``/``.jsonocel``, ``.csv``)."""
        lower = name.lower().removesuffix(".gz")
        for suffix, fmt in ((".xes", cls.XES), (".json", cls.OCEL), (".jsonocel", cls.OCEL), (".csv", cls.CSV)):
            if lower.endswith(suffix):
                return fmt
        raise UnknownFormat(f"cannot tell the format of '{name}' from its name: give it (xes, ocel or csv)")


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    case: str
    activity: str
    lifecycle: Lifecycle  # START or COMPLETE
    at: int  # epoch milliseconds
    resource: str | None


@dataclass(frozen=True, slots=True)
class CsvColumns:
    """The CSV columns to read, by header name (None: found by the usual names, such as ``case:concept:name``
    or ``case_id``)."""

    case: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    resource: str | None = None
    lifecycle: str | None = None


def _moment(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _attributes(element: Any) -> dict[str, str]:
    """An XES element's own attributes (its ``<string key= value=>`` children, ``<date>``, ...) by key."""
    return {str(child.get("key")): str(child.get("value", "")) for child in element
            if child.get("key") is not None and str(child.tag).rpartition("}")[2] in _ATTRIBUTES}


def _lifecycle(text: str | None) -> Lifecycle | None:
    value = (text or "complete").strip().lower()
    return Lifecycle.START if value == "start" else Lifecycle.COMPLETE if value == "complete" else None


class LogReader:
    """Reads one file; iterate ``events()`` once. ``case_type`` is the OCEL object type used, ``skipped`` the
    events left out (other lifecycle transitions, OCEL events related to no case)."""

    def __init__(self, stream: IO[bytes], fmt: ImportFormat, *, source: str, columns: CsvColumns | None = None,
                 case_type: str | None = None) -> None:
        self._stream: IO[bytes] = stream
        if source.lower().endswith(".gz"):
            self._stream = cast(IO[bytes], gzip.GzipFile(fileobj=stream))  # a GzipFile is a binary stream
        self.format = fmt
        self.source = source
        self.columns = columns or CsvColumns()
        self.case_type = case_type
        self.skipped = 0
        self._problems: list[str] = []

    def events(self) -> Iterator[ImportedEvent]:
        reader = {ImportFormat.XES: self._xes, ImportFormat.OCEL: self._ocel, ImportFormat.CSV: self._csv}[self.format]
        try:
            yield from reader()
        except (OSError, EOFError, UnicodeDecodeError) as exc:  # a gzip that is not one, bytes that are no UTF-8
            self._problem(None, f"cannot read the file: {exc}")
        finally:
            if isinstance(self._stream, gzip.GzipFile):
                self._stream.close()  # the file under it is the caller's to close
        if self._problems:
            raise LogFormatError(self._problems)

    def _problem(self, where: int | str | None, message: str) -> None:
        self._problems.append(f"{self.source}:{where}: {message}" if where is not None else f"{self.source}: {message}")
        if len(self._problems) >= MAX_PROBLEMS:
            raise LogFormatError([*self._problems, f"{self.source}: stopped after {MAX_PROBLEMS} problems"])

    def _event(self, where: int | str | None, case: str, activity: str | None, time: str | None,
               lifecycle: str | None, resource: str | None) -> ImportedEvent | None:
        at = None if time is None else _moment(time)
        if not activity:
            self._problem(where, "an event without an activity (concept:name)")
        elif time is None or not time.strip():
            self._problem(where, f"event '{activity}' has no timestamp")
        elif at is None:
            self._problem(where, f"timestamp '{time}' of event '{activity}' is not ISO 8601 (2026-12-01T10:00:00Z)")
        else:
            transition = _lifecycle(lifecycle)
            if transition is None:
                self.skipped += 1
                return None
            return ImportedEvent(case, activity, transition, at, resource or None)
        return None

    # --- XES ----------------------------------------------------------------------------------------

    def _xes(self) -> Iterator[ImportedEvent]:
        # Only the ends of events and traces are reported (lxml matches the tags in C): an event's attributes are
        # its children then, and a trace's attributes are its children that are no events.
        parsing = etree.iterparse(self._stream, events=("end",), tag=("{*}event", "{*}trace"), resolve_entities=False,
                                  no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
                                  remove_pis=True)
        held: list[tuple[int | None, dict[str, str]]] = []  # the current trace's events: line, attributes
        try:
            for _, element in parsing:
                if str(element.tag).endswith("event"):
                    held.append((element.sourceline, _attributes(element)))
                    element.clear()
                    continue
                yield from self._trace(element.sourceline, _attributes(element), held)
                held = []
                element.clear()
                while element.getprevious() is not None:  # the traces read, and the log's head
                    del element.getparent()[0]
        except etree.XMLSyntaxError as exc:
            self._problem(exc.lineno, f"not well-formed XML: {exc.msg}")

    def _trace(self, line: int | None, trace: dict[str, str], held: list[tuple[int | None, dict[str, str]]]
               ) -> Iterator[ImportedEvent]:
        case = trace.get("concept:name", "").strip()
        if not case:
            self._problem(line, "a trace without a concept:name (its case id)")
            return
        for event_line, a in held:
            found = self._event(event_line, case, a.get("concept:name"), a.get("time:timestamp"),
                                a.get("lifecycle:transition"), a.get("org:resource"))
            if found is not None:
                yield found

    # --- OCEL 2.0 JSON -----------------------------------------------------------------------------

    def _ocel(self) -> Iterator[ImportedEvent]:
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig")
        try:
            document = json.load(text)
        except json.JSONDecodeError as exc:
            self._problem(exc.lineno, f"not valid JSON: {exc.msg}")
            return
        finally:
            text.detach()  # the stream is the caller's to close
        if not isinstance(document, dict) or not isinstance(document.get("objects"), list) \
                or not isinstance(document.get("events"), list):
            self._problem(None, 'not an OCEL 2.0 JSON log: it needs "objects" and "events" lists')
            return
        types: dict[str, str] = {}
        for n, o in enumerate(document["objects"]):
            if not isinstance(o, dict) or not isinstance(o.get("id"), str) or not isinstance(o.get("type"), str):
                self._problem(f"objects[{n}]", 'an object needs a string "id" and "type"')
                continue
            types[o["id"]] = o["type"]
        self.case_type = self._case_type(document, types)
        for n, e in enumerate(document["events"]):
            yield from self._ocel_event(f"events[{n}]", e, types)

    def _case_type(self, document: dict[str, Any], types: dict[str, str]) -> str:
        counts = Counter(types.values())
        declared = [t.get("name") for t in document.get("objectTypes") or [] if isinstance(t, dict)]
        order = [t for t in declared if isinstance(t, str)] + [t for t in counts if t not in declared]
        if self.case_type is not None:
            if self.case_type not in counts:
                self._problem(None, f"no object has type '{self.case_type}': the types are "
                                    + ", ".join(f"'{t}'" for t in order if t in counts))
            return self.case_type
        if not counts:
            self._problem(None, "the log has no objects: there is nothing to take as the cases")
            return ""
        return max(order, key=lambda t: (counts.get(t, 0), -order.index(t)))

    def _ocel_event(self, where: str, e: Any, types: dict[str, str]) -> Iterator[ImportedEvent]:
        if not isinstance(e, dict):
            self._problem(where, "an event must be an object")
            return
        relationships = e.get("relationships") or []
        cases = [r.get("objectId") for r in relationships if isinstance(r, dict)
                 and types.get(str(r.get("objectId"))) == self.case_type]
        if not cases:
            self.skipped += 1
            return
        attributes = {a.get("name"): a.get("value") for a in e.get("attributes") or [] if isinstance(a, dict)}
        resource = attributes.get("org:resource") or attributes.get("resource")
        time, kind = e.get("time"), e.get("type")
        for case in dict.fromkeys(cases):
            found = self._event(where, str(case), kind if isinstance(kind, str) else None,
                                time if isinstance(time, str) else None, str(attributes.get("lifecycle") or ""),
                                str(resource) if resource is not None else None)
            if found is not None:
                yield found

    # --- CSV ----------------------------------------------------------------------------------------

    def _csv(self) -> Iterator[ImportedEvent]:
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig", newline="")
        try:
            yield from self._rows(text)
        finally:
            text.detach()  # the stream is the caller's to close

    def _rows(self, text: io.TextIOWrapper) -> Iterator[ImportedEvent]:
        first = text.readline()
        delimiter = max((",", ";", "\t"), key=first.count)
        rows = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        header = next(rows, None)
        if not header:
            self._problem(1, "the file is empty: a CSV log needs a header row")
            return
        column = {name: self._column(header, name) for name in _CSV_NAMES}
        if column["case"] is None or column["activity"] is None or column["timestamp"] is None:
            return
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                self._problem(rows.line_num, f"{len(row)} fields where the header has {len(header)}")
                continue

            def cell(name: str, row: list[str] = row) -> str | None:
                index = column[name]
                return None if index is None else row[index].strip()

            case = cell("case")
            if not case:
                self._problem(rows.line_num, "a row without a case id")
                continue
            found = self._event(rows.line_num, case, cell("activity"), cell("timestamp"), cell("lifecycle"),
                                cell("resource"))
            if found is not None:
                yield found

    def _column(self, header: list[str], name: str) -> int | None:
        given = getattr(self.columns, name)
        names = [h.strip().lower() for h in header]
        if given is not None:
            if given.strip().lower() in names:
                return names.index(given.strip().lower())
            self._problem(1, f"no column '{given}': the header has {', '.join(repr(h) for h in header)}")
            return None
        found = next((names.index(n) for n in _CSV_NAMES[name] if n in names), None)
        if found is None and name in ("case", "activity", "timestamp"):
            self._problem(1, f"no {name} column: the header has {', '.join(repr(h) for h in header)}; name it "
                             f"with --{name}-column (or {name}Column over REST)")
        return found
