"""A deployed process with a service task of type ``http``, run by the worker loop against the test server.

``data/http_order_lookup.bpmn`` fetches ``/orders/{orderId}`` with a FEEL url,
maps the answer with ``resultExpression`` and catches ``HTTP_404`` on an error
boundary event. Each instance is started, the engine closed and reopened (the
job must survive a restart), and then the worker loop runs the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import Engine, InstanceView, WorkerRegistry
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from protocols.http import JOB_TYPE, EgressPolicy, HttpConnector
from tests.protocols.http.server import EchoServer

BPMN = Path(__file__).parent / "data" / "http_order_lookup.bpmn"


def run_process(tmp_path: Path, policy: EgressPolicy, variables: dict[str, Any]) -> tuple[InstanceView, Engine]:
    url = f"sqlite:///{tmp_path / 'agenthub.db'}"
    engine = Engine.open(url, clock=ManualClock())
    engine.deploy([(BPMN.name, BPMN.read_bytes())])
    key = engine.start("http_order_lookup", variables).key
    engine.close()
    engine = Engine.open(url, clock=ManualClock())
    registry = WorkerRegistry()
    registry.register(JOB_TYPE, HttpConnector(policy))
    run_until_idle(engine, registry, timeout_s=60)
    return engine.instance(key), engine


def completed_elements(engine: Engine, instance: int) -> set[str]:
    return {e["elementId"] for e in engine.journal(instance) if e["type"] == "element_completed"}


def test_a_service_task_of_type_http_stores_the_mapped_answer(tmp_path: Path, http_server: EchoServer) -> None:
    view, engine = run_process(tmp_path, EgressPolicy.from_env("127.0.0.1"),
                               {"baseUrl": http_server.url, "orderId": "o-77"})
    try:
        assert view.state == "completed"
        assert view.variables["orderTotal"] == 42.5
        assert view.variables["firstSku"] == "A-1"
        assert view.variables["sent"] == {"expand": "items", "accept": "application/json"}  # from input mappings
        assert "Found" in completed_elements(engine, view.key)
    finally:
        engine.close()


def test_a_listed_status_is_caught_by_the_error_boundary_event(tmp_path: Path, http_server: EchoServer) -> None:
    view, engine = run_process(tmp_path, EgressPolicy.from_env("127.0.0.1"),
                               {"baseUrl": http_server.url, "orderId": "missing"})
    try:
        assert view.state == "completed"
        assert "orderTotal" not in view.variables
        done = completed_elements(engine, view.key)
        assert "NotFound" in done and "Found" not in done
    finally:
        engine.close()


def test_a_refused_destination_becomes_an_incident_saying_what_to_allow(
    tmp_path: Path, http_server: EchoServer
) -> None:
    before = len(http_server.hits)
    view, engine = run_process(tmp_path, EgressPolicy.from_env(None), {"baseUrl": http_server.url, "orderId": "o-1"})
    try:
        assert view.state == "incident"
        [incident] = engine.incidents(instance=view.key)
        assert incident.element_id == "FetchOrder"
        assert "EgressDenied" in incident.message
        assert "add '127.0.0.1' to AGENTHUB_HTTP_ALLOW" in incident.message
        assert len(http_server.hits) == before
    finally:
        engine.close()
