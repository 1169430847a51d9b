"""Camunda's ad-hoc tools schema connector (``io.camunda.agenticai:adhoctoolsschema:1``): built in, no model asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.scheduler import WorkerRegistry, run_until_idle
from hub.job_types import close_handlers, job_handlers
from hub.settings import HubSettings
from registry import Registry

MODEL = Path(__file__).resolve().parents[1] / "data" / "agent" / "camunda_tools_schema.bpmn"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Engine, WorkerRegistry]]:
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    workers = job_handlers(registry, HubSettings(), engine=engine)
    try:
        [deployed] = engine.deploy([(MODEL.name, MODEL.read_bytes())])
        assert deployed.warnings == ()  # built in: nothing waits for an external worker
        yield engine, workers
    finally:
        close_handlers(workers)
        engine.close()
        registry.close()


def test_the_tools_schema_of_an_ad_hoc_subprocess_is_its_tools_and_gateways_in_camundas_shape(
    hub: tuple[Engine, WorkerRegistry],
) -> None:
    engine, workers = hub
    key = engine.start("camunda_tools_schema", {"container": "Tools"}).key
    run_until_idle(engine, workers, timeout_s=30)

    view = engine.instance(key)
    assert view.state == "completed"
    result = view.variables["toolsResult"]
    assert [t["name"] for t in result["toolDefinitions"]] == ["Multiply", "AskPerson"]
    multiply = result["toolDefinitions"][0]
    assert multiply["description"] == "Multiplies two numbers."
    assert multiply["inputSchema"]["properties"] == {
        "a": {"type": "number", "description": "The first factor"},
        "b": {"type": "number", "description": "The second factor"},
    }
    assert result["toolDefinitions"][1]["description"] == "Ask a person"  # no documentation: the name
    assert result["gatewayToolDefinitions"] == [
        {"type": "mcpClient", "name": "Files", "description": "Reads and writes files."}
    ]


def test_a_container_that_is_no_ad_hoc_subprocess_is_an_incident_naming_the_ones_there_are(
    hub: tuple[Engine, WorkerRegistry],
) -> None:
    engine, workers = hub
    key = engine.start("camunda_tools_schema", {"container": "Schema"}).key
    run_until_idle(engine, workers, timeout_s=30)

    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "Schema"
    assert "'Schema' is not an ad-hoc subprocess" in incident.message and "Tools" in incident.message
