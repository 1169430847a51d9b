"""OpenTelemetry for the hub: the SDK's providers and exporters when ``AGENTHUB_OTEL`` is on, and ``GET /metrics``.

    telemetry = install()              # AGENTHUB_OTEL=1, `agenthub serve --otel`, `agenthub worker`
    watch(engine)                      # its ready jobs become the gauge agenthub.jobs.ready

Owns: the SDK's ``TracerProvider`` and ``MeterProvider``, handed to
``engine.telemetry`` (which every layer records through); their exporters:
OTLP over HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or its ``_TRACES_`` /
``_METRICS_`` variant) is set, read by the exporters themselves with the other
standard ``OTEL_*`` variables, and Prometheus text at ``GET /metrics`` (a
token with the ``read`` scope, like every other read of the hub; 404 with a
problem that says how to turn it on while telemetry is off).

One installation per process, whatever number of hubs it runs: the engine's
instruments are process-wide. ``install`` returns the installation already
made; ``uninstall`` (tests) hands the engine back to the API's no-op providers.
The API's global providers are left alone (see ``engine.telemetry``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import Engine, telemetry
from hub.api.common import problem, require

__all__ = ["METRICS_PATH", "Telemetry", "install", "installed", "routes", "uninstall", "unwatch", "watch"]

log = logging.getLogger("agenthub.telemetry")

METRICS_PATH = "/metrics"
_OTLP = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")


@dataclass(frozen=True, slots=True)
class Telemetry:
    """The installed SDK: its providers and the Prometheus registry ``/metrics`` reads."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    prometheus: CollectorRegistry
    otlp: bool

    def metrics_text(self) -> bytes:
        """Every metric in Prometheus's text format (collects now: the ready-jobs gauge reads the database)."""
        return bytes(generate_latest(self.prometheus))

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        self.meter_provider.force_flush()


_lock = threading.Lock()
_installed: Telemetry | None = None
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def installed() -> Telemetry | None:
    return _installed


def install(
    *,
    span_exporter: SpanExporter | None = None,
    metric_readers: Sequence[MetricReader] = (),
    env: Mapping[str, str] | None = None,
) -> Telemetry:
    """Install the SDK (once per process; later calls return the first installation).

    ``span_exporter`` (tests: the SDK's ``InMemorySpanExporter``) gets every span as it ends, and
    ``metric_readers`` (tests: ``InMemoryMetricReader``) read the metrics besides Prometheus's. ``env``
    (default ``os.environ``) says whether OTLP is on and names the service; the OTLP exporters read their
    endpoint and options from ``os.environ`` themselves.
    """
    global _installed
    env = os.environ if env is None else env
    with _lock:
        if _installed is not None:
            return _installed
        otlp = any(env.get(name) for name in _OTLP)
        resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "agenthub"})
        tracer_provider = TracerProvider(resource=resource)
        if span_exporter is not None:
            tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        if otlp:
            tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        registry = CollectorRegistry(auto_describe=True)
        readers: list[MetricReader] = [PrometheusMetricReader(registry=registry), *metric_readers]
        if otlp:
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        telemetry.use(tracer_provider, meter_provider)
        telemetry.meter().create_observable_gauge(
            "agenthub.jobs.ready", [_ready_jobs], "{job}", "Jobs due and waiting for a worker (the queue's depth)"
        )
        _installed = Telemetry(tracer_provider, meter_provider, registry, otlp)
        log.info("OpenTelemetry on: Prometheus at %s%s", METRICS_PATH, ", OTLP over HTTP" if otlp else "")
        return _installed


def uninstall() -> None:
    """Shut the SDK down and record through the API's (no-op) providers again."""
    global _installed
    with _lock:
        found, _installed = _installed, None
        telemetry.use(None, None)
    if found is not None:
        found.tracer_provider.shutdown()
        found.meter_provider.shutdown()


def watch(engine: Engine) -> None:
    """Count ``engine``'s ready jobs in ``agenthub.jobs.ready`` (summed over the engines watched)."""
    _engines.add(engine)


def unwatch(engine: Engine) -> None:
    _engines.discard(engine)


def _ready_jobs(_options: CallbackOptions) -> Iterable[Observation]:
    total = 0
    for engine in list(_engines):
        try:
            with engine.store.transaction() as tx:
                total += tx.jobs.count(state="ready")
        except Exception:  # a busy or closed database: this collection goes without it
            log.debug("could not count the ready jobs", exc_info=True)
    return [Observation(total)]


async def metrics(request: Request) -> Response:
    """``GET /metrics``: Prometheus's text format; needs the ``read`` scope."""
    require(request, "read")
    found: Telemetry | None = getattr(request.app.state, "telemetry", None)  # this hub's, set by create_app
    if found is None:
        return problem(
            404,
            "telemetry is off, so there are no metrics here: start the hub with AGENTHUB_OTEL=1 "
            "(or `agenthub serve --otel`)",
        )
    body = await asyncio.to_thread(found.metrics_text)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


routes = [Route(METRICS_PATH, metrics, methods=["GET"])]
