"""XES (IEEE 1849-2016) out, streamed: one trace per instance, written with lxml's incremental writer.

The log declares the four standard extensions it uses (concept, time,
lifecycle, org), the global attributes every trace and event carries and
two classifiers. A trace's ``concept:name`` is the instance key; each event
has ``concept:name`` (the element's name, else its id), ``time:timestamp``,
``lifecycle:transition`` and, where a person or an agent acted,
``org:resource``; agenthub's own keys (``agenthub:*``: element id, process,
version, status) ride along for the tools that want them.

The writer writes into a buffer that is emptied after every trace, so the
memory it needs does not grow with the log (rejected: building an
``ElementTree`` and serializing it, which holds the whole log).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from discover.elements import ElementCatalog
from discover.steps import Step, steps_of
from engine.event_log import Trace

__all__ = ["XES_NAMESPACE", "iso_time", "xes_chunks"]

XES_NAMESPACE = "http://www.xes-standard.org/"
_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)
_EPOCH = "1970-01-01T00:00:00.000+00:00"


def iso_time(millis: int) -> str:
    """Epoch milliseconds as ISO 8601 with milliseconds and the UTC offset, as XES's ``date`` wants."""
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="milliseconds")


def xes_chunks(traces: Iterable[Trace], catalog: ElementCatalog, counts: list[int] | None = None) -> Iterator[bytes]:
    """The XES document in pieces (a trace or so each); ``counts``, when given, is kept at [traces, events]."""
    tally = counts if counts is not None else [0, 0]
    tally[:] = [0, 0]
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("log", {"xes.version": "1849-2016", "xes.features": "nested-attributes"},
                        nsmap={None: XES_NAMESPACE}):
            _head(xf)
            yield _drain(buffer, xf)
            for trace in traces:
                steps = steps_of(trace.events, catalog.of(trace.instance.process_id, trace.instance.version))
                xf.write(_trace(trace, steps))
                tally[0] += 1
                tally[1] += len(steps)
                yield _drain(buffer, xf)
    yield _drain(buffer, None)


def _drain(buffer: io.BytesIO, xf: Any) -> bytes:
    if xf is not None:
        xf.flush()
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _q(tag: str) -> str:
    return f"{{{XES_NAMESPACE}}}{tag}"


def _head(xf: Any) -> None:
    for name, prefix, uri in _EXTENSIONS:
        xf.write(etree.Element(_q("extension"), name=name, prefix=prefix, uri=uri))
    trace_globals = etree.Element(_q("global"), scope="trace")
    etree.SubElement(trace_globals, _q("string"), key="concept:name", value="__INVALID__")
    xf.write(trace_globals)
    event_globals = etree.Element(_q("global"), scope="event")
    etree.SubElement(event_globals, _q("string"), key="concept:name", value="__INVALID__")
    etree.SubElement(event_globals, _q("date"), key="time:timestamp", value=_EPOCH)
    etree.SubElement(event_globals, _q("string"), key="lifecycle:transition", value="complete")
    xf.write(event_globals)
    xf.write(etree.Element(_q("classifier"), name="Activity", keys="concept:name"))
    xf.write(etree.Element(_q("classifier"), name="Activity and transition", keys="concept:name lifecycle:transition"))
    xf.write(etree.Element(_q("string"), key="concept:name", value="agenthub"))
    xf.write(etree.Element(_q("string"), key="lifecycle:model", value="standard"))


_STRING, _DATE, _INT, _EVENT = (f"{{{XES_NAMESPACE}}}{tag}" for tag in ("string", "date", "int", "event"))


def _trace(trace: Trace, steps: list[Step]) -> etree._Element:
    instance = trace.instance
    node = etree.Element(_q("trace"))
    add = etree.SubElement
    add(node, _STRING, {"key": "concept:name", "value": str(instance.key)})
    add(node, _STRING, {"key": "agenthub:processId", "value": instance.process_id})
    add(node, _INT, {"key": "agenthub:version", "value": str(instance.version)})
    add(node, _STRING, {"key": "agenthub:status", "value": instance.status})
    add(node, _DATE, {"key": "agenthub:startedAt", "value": iso_time(instance.created_at)})
    for step in steps:  # the hot loop of a large export: one SubElement per attribute, nothing else
        event = add(node, _EVENT)
        add(event, _STRING, {"key": "concept:name", "value": step.activity})
        add(event, _DATE, {"key": "time:timestamp", "value": iso_time(step.at)})
        add(event, _STRING, {"key": "lifecycle:transition", "value": step.lifecycle.value})
        if step.resource:
            add(event, _STRING, {"key": "org:resource", "value": step.resource})
        add(event, _STRING, {"key": "agenthub:elementId", "value": step.element_id})
        if step.kind:
            add(event, _STRING, {"key": "agenthub:elementType", "value": step.kind})
        add(event, _INT, {"key": "agenthub:position", "value": str(step.position)})
    return node
