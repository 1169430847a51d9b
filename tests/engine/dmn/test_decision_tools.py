"""``engine.decision_tools``: which deployed decisions are tools (``<agenthub:tool/>``, newest version) and the
arguments each takes, read from the variables the decision and its required decisions read."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import DeploymentError, Engine
from engine.decision_tools import DecisionInput

DATA = Path(__file__).resolve().parents[2] / "data" / "dmn"
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:agenthub="urn:agenthub:bpmn:1"
             id="d" name="D" namespace="http://agenthub.test/dmn">"""


def _dmn(body: str) -> str:
    return f"{HEAD}{body}</definitions>"


def _marked(mark: str = "<agenthub:tool/>", answer: str = "1") -> str:
    return _dmn(f"""
  <inputData id="birth" name="birth date"><variable name="birth date" typeRef="date"/></inputData>
  <businessKnowledgeModel id="bkm" name="fee of">
    <encapsulatedLogic><formalParameter name="n"/><literalExpression><text>n * 2</text></literalExpression>
    </encapsulatedLogic>
  </businessKnowledgeModel>
  <decision id="fee" name="Fee">
    <extensionElements>{mark}</extensionElements>
    <informationRequirement><requiredInput href="#birth"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#bkm"/></knowledgeRequirement>
    <literalExpression><text>fee of(n: order.items) + extra + {answer}</text></literalExpression>
  </decision>""")


@pytest.fixture
def engine() -> Engine:
    return Engine.open("memory:")


def test_a_marked_decision_is_a_tool_whose_arguments_are_the_names_it_reads(engine: Engine) -> None:
    engine.deploy([("fee.dmn", _marked())])
    [spec] = engine.decision_tools()
    assert (spec.name, spec.decision_id, spec.version, spec.description) == ("fee", "fee", 1, "Fee")
    assert spec.inputs == (
        DecisionInput("birth date", "date"),
        DecisionInput("extra"),
        DecisionInput("order", is_object=True),
    )  # the BKM is computed, not an argument
    assert spec.input_schema()["properties"]["birth date"] == {"type": "string", "format": "date"}


def test_the_newest_version_decides_whether_a_decision_is_a_tool(engine: Engine) -> None:
    engine.deploy([("fee.dmn", _marked('<agenthub:tool name="fees" description="What it costs"/>'))])
    engine.deploy([("fee.dmn", _marked('<agenthub:tool name="fees" description="What it costs"/>', "2"))])
    [spec] = engine.decision_tools()
    assert (spec.name, spec.version, spec.description) == ("fees", 2, "What it costs")
    engine.deploy([("fee.dmn", _marked("", "3"))])
    assert engine.decision_tools() == []


def test_a_tool_name_a_client_would_refuse_is_a_deployment_problem_with_its_line(engine: Engine) -> None:
    with pytest.raises(DeploymentError, match="agenthub:tool name 'fee tool!' must be 1 to 128") as raised:
        engine.deploy([("fee.dmn", _marked('<agenthub:tool name="fee tool!"/>'))])
    assert "fee.dmn" in str(raised.value)


def test_decisions_deployed_without_the_marker_are_no_tools(engine: Engine) -> None:
    engine.deploy([("discount.dmn", (DATA / "discount.dmn").read_text())])
    assert engine.decision_tools() == []
