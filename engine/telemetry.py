"""Traces and metrics of the engine and the layers above it, through the OpenTelemetry API only.

Owns: the tracer and meter every part of agenthub records with, the
instruments (``agenthub.*`` counters and histograms, named as OpenTelemetry's
conventions name things), the spans of engine commands and jobs, and the W3C
trace context an instance keeps (``carrier`` / ``context_of``) so that its
jobs, which run later and maybe in another process, join the trace of the
request that started it.

Does not know: which SDK, exporter or endpoint records them. Until ``use``
hands it providers (the hub does, ``hub.telemetry``, when ``AGENTHUB_OTEL``
is on) it records through the API's global providers: no-ops unless the
embedding application installed an SDK of its own. Nothing here blocks or
raises into the engine's work.

Rejected: setting the API's global providers from the hub. They can be set
once per process, and a process may run several hubs (the tests do) or an
application with an SDK of its own; the hub's providers are handed here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "SCOPE",
    "Instruments",
    "carrier",
    "command_span",
    "context_of",
    "enabled",
    "instruments",
    "meter",
    "recording",
    "span",
    "tracer",
    "use",
]

SCOPE = "agenthub"
"""The instrumentation scope of every span and metric of agenthub."""

_W3C = TraceContextTextMapPropagator()


@dataclass(frozen=True, slots=True)
class Instruments:
    """Every metric agenthub records; names and units follow OpenTelemetry's conventions."""

    instances_started: Counter
    instances_ended: Counter
    jobs_completed: Counter
    jobs_failed: Counter
    job_duration: Histogram
    command_duration: Histogram
    model_tokens: Counter
    model_cost: Counter

    @staticmethod
    def of(meter: Meter) -> Instruments:
        return Instruments(
            instances_started=meter.create_counter(
                "agenthub.instances.started", "{instance}", "Process instances started"
            ),
            instances_ended=meter.create_counter(
                "agenthub.instances.ended",
                "{instance}",
                "Process instances that completed or were terminated (attribute agenthub.instance.state)",
            ),
            jobs_completed=meter.create_counter("agenthub.jobs.completed", "{job}", "Jobs a worker completed"),
            jobs_failed=meter.create_counter("agenthub.jobs.failed", "{job}", "Failed job attempts"),
            job_duration=meter.create_histogram("agenthub.job.duration", "s", "How long a job's handler ran"),
            command_duration=meter.create_histogram(
                "agenthub.command.duration", "s", "How long an engine command took, its transaction included"
            ),
            model_tokens=meter.create_counter(
                "agenthub.model.tokens", "{token}", "Model tokens used (attribute gen_ai.token.type: input|output)"
            ),
            model_cost=meter.create_counter("agenthub.model.cost", "USD", "What model calls cost, as reported"),
        )


@dataclass(frozen=True, slots=True)
class _Recording:
    tracer: Tracer
    meter: Meter
    instruments: Instruments
    enabled: bool


def _recording(tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None) -> _Recording:
    tracer = tracer_provider.get_tracer(SCOPE) if tracer_provider is not None else trace.get_tracer(SCOPE)
    meter = meter_provider.get_meter(SCOPE) if meter_provider is not None else metrics.get_meter(SCOPE)
    return _Recording(tracer, meter, Instruments.of(meter), tracer_provider is not None)


_now = _recording(None, None)


def use(tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None) -> None:
    """Record through these providers from now on (None, None: through the API's global ones again)."""
    global _now
    _now = _recording(tracer_provider, meter_provider)


def enabled() -> bool:
    """Whether ``use`` handed providers in (the hub's telemetry is on)."""
    return _now.enabled


def recording() -> bool:
    """Whether a span started now would record: the hub's providers are in use (``use``), or the embedding
    application installed a global SDK. When none would, ``span``, ``command_span`` and the worker loop's job spans
    start none at all: a span that records nothing carries nothing either (``carrier`` is empty), and making one,
    then making it current and ending it, cost a command 7.6 µs instead of 2.8 (a few per cent of a job's time)."""
    return _now.enabled or not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def tracer() -> Tracer:
    return _now.tracer


def instruments() -> Instruments:
    return _now.instruments


def meter() -> Meter:
    return _now.meter


def carrier() -> dict[str, str]:
    """The current span's W3C trace context (``traceparent``, ``tracestate``); empty when nothing records."""
    if not trace.get_current_span().is_recording():
        return {}
    found: dict[str, str] = {}
    _W3C.inject(found)
    return found


def context_of(data: Mapping[str, Any] | None) -> Context | None:
    """The trace context a carrier (an instance's, a request's ``_meta``, a message's metadata) holds, or None."""
    if not data:
        return None
    fields = {k: v for k in ("traceparent", "tracestate") if isinstance(v := data.get(k), str)}
    if "traceparent" not in fields:
        return None
    found = _W3C.extract(fields)
    return found if trace.get_current_span(found).get_span_context().is_valid else None


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Mapping[str, Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span, current inside the block; ``parent``: a carrier to continue (else the current context's span)."""
    if not recording():
        yield trace.INVALID_SPAN
        return
    context = context_of(parent) if parent else None
    with _now.tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes) as current:
        yield current


@contextmanager
def command_span(command: str, **attributes: Any) -> Iterator[Span]:
    """One engine command: a span ``agenthub.command {command}`` and its duration in ``agenthub.command.duration``.

    ``attributes`` are named by their last word: ``process_id=`` is ``agenthub.process.id``, ``user_task_key=``
    ``agenthub.user_task.key``.
    """
    began = time.perf_counter()
    if not recording():
        try:
            yield trace.INVALID_SPAN
        finally:
            _now.instruments.command_duration.record(time.perf_counter() - began, {"agenthub.command": command})
        return
    values = {
        "agenthub.command": command,
        **{"agenthub." + ".".join(k.rsplit("_", 1)): v for k, v in attributes.items() if v is not None},
    }
    try:
        with _now.tracer.start_as_current_span(f"agenthub.command {command}", attributes=values) as current:
            yield current
    finally:
        _now.instruments.command_duration.record(time.perf_counter() - began, {"agenthub.command": command})
