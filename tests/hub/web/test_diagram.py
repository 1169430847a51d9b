"""GET /processes/{processId}/diagram.bpmn: the deployed XML, laid out where it has no DI, behind the read scope."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from engine import Engine
from hub.api.common import Hub, problem_handlers
from hub.web import diagram
from hub.web.diagram import DiagramCache, routes
from registry import Principal

DATA = Path(__file__).resolve().parents[2] / "data"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
TOKENS = {"reader": frozenset({"read"}), "writer": frozenset({"write"})}


def _bearer(app: Any) -> Any:
    """Bearer tokens to principals, as the hub's Guard does (reduced to two fixed tokens)."""

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            token = Request(scope).headers.get("authorization", "").removeprefix("Bearer ")
            if token in TOKENS:
                scope.setdefault("state", {})["principal"] = Principal(token, TOKENS[token])
        await app(scope, receive, send)

    return guarded


@pytest.fixture
def engine() -> Iterator[Engine[Any]]:
    opened: Engine[Any] = Engine.open("memory:")
    yield opened
    opened.close()


@pytest.fixture
def client(engine: Engine[Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(diagram, "_cache", DiagramCache())
    app = Starlette(routes=routes, exception_handlers=dict(problem_handlers))
    app.state.hub = Hub(engine=engine, registry=None, workers=None, settings=None)  # type: ignore[arg-type]
    with TestClient(_bearer(app), headers={"Authorization": "Bearer reader"}) as opened:
        yield opened


def _model(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_a_model_without_a_diagram_is_answered_laid_out(engine: Engine[Any], client: TestClient) -> None:
    engine.deploy([("parallel_join.bpmn", _model("scenarios/parallel_join.bpmn"))])

    answer = client.get("/processes/parallel_join/diagram.bpmn")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert answer.headers["x-content-type-options"] == "nosniff"
    shapes = etree.fromstring(answer.content).findall(f".//{{{BPMNDI}}}BPMNShape")
    assert {s.get("bpmnElement") for s in shapes} >= {"Start", "Fork", "A", "B", "C", "Join", "After", "End"}


def test_a_model_with_its_diagram_is_answered_as_deployed(engine: Engine[Any], client: TestClient) -> None:
    billing = b"""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="b" targetNamespace="urn:t">
      <process id="billing" isExecutable="true"><startEvent id="s"/></process></definitions>"""
    engine.deploy([("order.bpmn", _model("parser/camunda8_order.bpmn")), ("billing.bpmn", billing)])

    answer = client.get("/processes/order-fulfilment/diagram.bpmn")

    assert answer.status_code == 200
    assert answer.text == engine.definition_xml("order-fulfilment")


def test_a_version_is_answered_as_asked_and_latest_without_one(engine: Engine[Any], client: TestClient) -> None:
    first = _model("scenarios/parallel_join.bpmn")
    engine.deploy([("v1.bpmn", first)])
    engine.deploy([("v2.bpmn", first.replace(b'id="After"', b'id="Later"').replace(b'"After"', b'"Later"'))])

    one = client.get("/processes/parallel_join/diagram.bpmn?version=1").text
    latest = client.get("/processes/parallel_join/diagram.bpmn").text

    assert 'bpmnElement="After"' in one and 'bpmnElement="Later"' not in one
    assert 'bpmnElement="Later"' in latest


def test_the_laid_out_xml_is_drawn_once_per_deployed_model(
    engine: Engine[Any], client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.deploy([("parallel_join.bpmn", _model("scenarios/parallel_join.bpmn"))])
    drawn: list[int] = []
    real = diagram.layout
    monkeypatch.setattr(diagram, "layout", lambda xml: drawn.append(1) or real(xml))

    answers = {client.get("/processes/parallel_join/diagram.bpmn?version=1").text for _ in range(3)}

    assert len(answers) == 1
    assert drawn == [1]


def test_the_cache_forgets_the_least_recently_used_first() -> None:
    cache = DiagramCache(size=2)
    models = {name: _model(f"scenarios/{name}.bpmn").decode() for name in ("parallel_join", "inclusive_join")}
    cache.laid_out("a", models["parallel_join"])
    cache.laid_out("b", models["inclusive_join"])
    cache.laid_out("a", models["parallel_join"])
    cache.laid_out("c", models["parallel_join"])

    assert len(cache) == 2
    assert set(cache._items) == {("a", _digest(models["parallel_join"])), ("c", _digest(models["parallel_join"]))}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("headers", "path", "status", "says"),
    [
        ({"Authorization": ""}, "/processes/parallel_join/diagram.bpmn", 401, "API token"),
        ({"Authorization": "Bearer writer"}, "/processes/parallel_join/diagram.bpmn", 403, "'read' scope"),
        ({}, "/processes/nothing_here/diagram.bpmn", 404, "'nothing_here' is not deployed"),
        ({}, "/processes/parallel_join/diagram.bpmn?version=two", 400, "must be an integer"),
    ],
)
def test_a_refused_request_is_a_problem_saying_why(
    engine: Engine[Any], client: TestClient, headers: dict[str, str], path: str, status: int, says: str
) -> None:
    engine.deploy([("parallel_join.bpmn", _model("scenarios/parallel_join.bpmn"))])

    answer = client.get(path, headers=headers)

    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert says in answer.json()["detail"]
