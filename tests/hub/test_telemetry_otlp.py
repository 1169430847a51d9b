"""OTLP export (AGENTHUB_OTEL with OTEL_EXPORTER_OTLP_ENDPOINT): traces and metrics reach a collector on 127.0.0.1.

The collector is a plain HTTP server that records what is posted to it; the
payloads are OTLP protobuf, so the test checks the paths, the content type
and that the instrument and span names are in the bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from engine import Engine, WorkerRegistry
from engine.scheduler import run_until_idle
from hub import telemetry as hub_telemetry
from tests.models import one_service_task
from tests.ports import free_port

ONE_JOB = one_service_task("exported")


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.received.append((self.path, self.headers.get("content-type") or "", body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, bytes]]]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    received: list[tuple[str, str, bytes]] = []
    _Collector.received = received
    try:
        yield received
    finally:
        hub_telemetry.uninstall()
        server.shutdown()
        server.server_close()


def test_with_an_otlp_endpoint_spans_and_metrics_are_posted_to_it(collector: list[tuple[str, str, bytes]]) -> None:
    installed = hub_telemetry.install()
    assert installed.otlp
    engine = Engine.open("memory:")
    engine.deploy([("exported.bpmn", ONE_JOB)])
    engine.start("exported")
    workers = WorkerRegistry()
    workers.register("work", lambda job: {})
    run_until_idle(engine, workers)
    installed.flush()
    paths = {path for path, _, _ in collector}
    assert {"/v1/traces", "/v1/metrics"} <= paths
    assert all(kind == "application/x-protobuf" for _, kind, _ in collector)
    traces = b"".join(body for path, _, body in collector if path == "/v1/traces")
    metrics = b"".join(body for path, _, body in collector if path == "/v1/metrics")
    assert b"agenthub.command start" in traces and b"job work" in traces
    assert b"agenthub.instances.started" in metrics and b"agenthub.jobs.ready" in metrics
