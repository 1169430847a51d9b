"""W3C trace context through MCP and A2A, both ways, and the spans of the calls that carry it.

- MCP: an outgoing request carries ``traceparent`` / ``tracestate`` in its
  ``_meta`` (SEP-414); an incoming request with them in ``_meta`` continues
  that trace (``incoming``).
- A2A: an outgoing message carries them in the message's ``metadata``; an
  incoming message with them there continues that trace.

The engine keeps the trace of the request that started an instance with the
instance (``engine.telemetry``), so a process on hub A that calls a tool or
an agent of hub B shows as one trace: A's job span, A's client span, B's
server span, B's instance and its jobs.

Owns only the carrying. What records the spans is ``engine.telemetry``'s
tracer: nothing is recorded, and nothing is added to a request, unless the
hub's telemetry is on (a span that records is current).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from engine import telemetry

if TYPE_CHECKING:  # the MCP side imports this module too, and needs nothing of the A2A SDK
    from a2a.types import Message

__all__ = ["TRACE_KEYS", "a2a_carrier", "client_span", "failed", "server_span", "stamp_message"]

TRACE_KEYS = ("traceparent", "tracestate")


def stamp_message(message: Message) -> None:
    """Put the current trace context into an outgoing A2A message's metadata (nothing when none records)."""
    found = telemetry.carrier()
    if found:
        message.metadata.update(found)


def a2a_carrier(message: Message) -> dict[str, str]:
    """The trace context an incoming A2A message carries in its metadata."""
    fields = message.metadata.fields
    return {key: fields[key].string_value for key in TRACE_KEYS if key in fields and fields[key].string_value}


@contextmanager
def client_span(name: str, attributes: Mapping[str, Any]) -> Iterator[tuple[Span, dict[str, str]]]:
    """A client span for an outgoing call, and the carrier (W3C trace context) the call should send with it."""
    with telemetry.span(name, kind=SpanKind.CLIENT, attributes=_clean(attributes)) as span:
        yield span, telemetry.carrier()


@contextmanager
def server_span(name: str, carrier: Mapping[str, Any] | None, attributes: Mapping[str, Any]) -> Iterator[Span]:
    """A server span for an incoming request, continuing the trace ``carrier`` holds (else a new one)."""
    with telemetry.span(name, kind=SpanKind.SERVER, parent=carrier, attributes=_clean(attributes)) as span:
        yield span


def failed(span: Span, message: str) -> None:
    """Mark a call's span as failed (a tool result with ``isError``, a failed remote task)."""
    span.set_status(Status(StatusCode.ERROR, message[:200]))


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}
