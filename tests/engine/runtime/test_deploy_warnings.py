"""Deploying a model that uses what the engine accepts but will not act on succeeds, with a warning per element."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.parser import parse_bpmn
from engine.runtime.support import process_warnings

DATA = Path(__file__).resolve().parents[2] / "data"
UNACTED = DATA / "deploy" / "unacted.bpmn"


def _line(marker: str) -> int:
    [line] = [n for n, text in enumerate(UNACTED.read_text().splitlines(), start=1) if marker in text]
    return line


def test_each_element_that_will_not_be_acted_on_is_warned_about_with_its_line(engine: Engine) -> None:
    [deployed] = engine.deploy([("unacted.bpmn", UNACTED.read_bytes())])
    assert deployed.process_id == "unacted" and deployed.version == 1
    found = {w.element_id: w for w in deployed.warnings}
    assert set(found) == {"agent", "fetch", "hook"}
    assert all(w.source_name == "unacted.bpmn" for w in deployed.warnings)
    agent, fetch, hook = found["agent"], found["fetch"], found["hook"]
    assert agent.line == _line('id="agent"')
    assert "'my-planner'" in agent.message
    assert "implemented by a job worker are not supported" in agent.message and "no job is created" in agent.message
    assert fetch.line == _line('id="fetch"') and "'io.camunda:sendgrid:1', a Camunda connector" in fetch.message
    assert hook.line == _line('id="hook"') and "inbound connector ('io.camunda:webhook:1')" in hook.message
    assert str(agent).startswith(f"unacted.bpmn:{agent.line}: element 'agent': adHocSubProcess")


def test_deploying_the_same_model_again_warns_again(engine: Engine) -> None:
    engine.deploy([("unacted.bpmn", UNACTED.read_bytes())])
    [again] = engine.deploy([("unacted.bpmn", UNACTED.read_bytes())])
    assert not again.is_new and len(again.warnings) == 3


@pytest.mark.parametrize(
    "model",
    [DATA / "agent" / "support_agent.bpmn", DATA / "cli" / "approval.bpmn", DATA / "hub" / "external.bpmn"],
)
def test_models_that_run_as_written_get_no_warning(model: Path) -> None:
    definitions = parse_bpmn(model.read_bytes(), source_name=model.name)
    assert [w for p in definitions.processes.values() for w in process_warnings(p, model.name)] == []


def test_an_ad_hoc_subprocess_run_by_an_agenthub_agent_is_not_warned_about_its_task_definition() -> None:
    text = (DATA / "agent" / "support_agent.bpmn").read_text().replace(
        '<agenthub:agent model="=modelName"',
        '<zeebe:taskDefinition type="io.camunda.agenticai:aiagent-job-worker:1"/>\n<agenthub:agent model="=modelName"',
    )
    definitions = parse_bpmn(text, source_name="support_agent.bpmn")
    assert process_warnings(definitions.processes["support_agent"], "support_agent.bpmn") == []


def test_progress_is_reported_as_each_resource_is_checked(engine: Engine) -> None:
    seen: list[tuple[int, int, str]] = []
    resources = [(name, (DATA / "hub" / name).read_bytes()) for name in ("external.bpmn", "review.bpmn")]
    engine.deploy(resources, progress=lambda number, total, name: seen.append((number, total, name)))
    assert seen == [(1, 2, "external.bpmn"), (2, 2, "review.bpmn")]
