"""Processes offered as tools: ``<agenthub:tool>`` declarations and ``deploy(expose=True)``."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import DeploymentError, Engine, NotFound

DATA = Path(__file__).resolve().parents[1] / "data" / "hub"


def test_a_declared_tool_has_a_schema_from_its_inputs_and_a_description_from_its_documentation(engine: Engine) -> None:
    engine.deploy([("straight.bpmn", (DATA / "straight.bpmn").read_bytes())])
    spec = engine.tool("straight")
    assert spec.description == "Doubles the amount." and spec.title == "Straight through"
    assert spec.input_schema() == {
        "type": "object",
        "properties": {"amount": {"type": "number", "description": "How much"}},
        "additionalProperties": False,
        "required": ["amount"],
    }
    assert [t.process_id for t in engine.tools()] == ["straight"]


def test_deploying_with_expose_offers_a_process_without_declared_inputs_as_a_tool_taking_any_object(
    engine: Engine,
) -> None:
    review = (DATA / "review.bpmn").read_bytes()
    engine.deploy([("review.bpmn", review)])
    with pytest.raises(NotFound, match="not deployed as a tool"):
        engine.tool("review")
    engine.deploy([("review.bpmn", review)], expose=True)  # same resource: the version is reused and exposed
    spec = engine.tool("review")
    assert spec.input_schema() == {"type": "object", "additionalProperties": True}
    assert spec.description == "Review"
    assert [d["exposed"] for d in engine.definitions("review")] == [True]


def test_the_latest_version_decides_whether_a_process_is_a_tool(engine: Engine) -> None:
    review = (DATA / "review.bpmn").read_text()
    engine.deploy([("review.bpmn", review)], expose=True)
    engine.deploy([("review.bpmn", review.replace('name="Review"', 'name="Review v2"'))])
    assert engine.tools() == []


def test_a_bad_tool_declaration_is_refused_with_its_line(engine: Engine) -> None:
    text = (DATA / "straight.bpmn").read_text().replace('type="number"', 'type="money"')
    text = text.replace("</agenthub:tool>", '<agenthub:input name="amount"/><agenthub:outcome/></agenthub:tool>')
    with pytest.raises(DeploymentError) as caught:
        engine.deploy([("straight.bpmn", text)])
    messages = [p.message for p in caught.value.problems]
    assert any("type 'money'" in m for m in messages)
    assert any("declared twice" in m for m in messages)
    assert any("not 'outcome'" in m for m in messages)
    assert all(p.line is not None for p in caught.value.problems)
