"""Processes offered as tools Camunda's way: a message start event with the MCP start event template's properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import DeploymentError, Engine

DATA = Path(__file__).resolve().parents[1] / "data" / "hub"
MODEL = DATA / "camunda_mcp_start.bpmn"


def test_the_mcp_start_event_makes_the_process_a_tool_under_its_name_started_at_that_event(engine: Engine) -> None:
    engine.deploy([(MODEL.name, MODEL.read_bytes())])
    [spec] = engine.tools()
    assert (spec.name, spec.process_id, spec.start_element) == ("refund-order", "refund_order", "RefundRequested")
    assert spec.description.startswith("Refunds a paid order to the customer.\n\n## Inputs\norderId")
    assert "## When not to use" not in spec.description  # a part the template left empty is left out
    assert spec.input_schema() == {"type": "object", "additionalProperties": True}
    assert [d["exposed"] for d in engine.definitions("refund_order")] == [True]


def test_a_tool_name_the_template_would_not_accept_is_refused_at_deployment(engine: Engine) -> None:
    text = MODEL.read_text().replace('value="refund-order"', 'value="refund order!"')
    with pytest.raises(DeploymentError, match=r"tool name .*'refund order!' must be 1 to 100 letters"):
        engine.deploy([(MODEL.name, text.encode())])


def test_two_mcp_start_events_in_one_process_are_refused_as_a_process_is_one_tool(engine: Engine) -> None:
    text = MODEL.read_text()
    start = text.index('    <bpmn:startEvent id="RefundRequested"')
    end = text.index("</bpmn:startEvent>") + len("</bpmn:startEvent>\n")
    second = text[start:end].replace('id="RefundRequested"', 'id="RefundAgain"').replace(
        'value="refund-order"', 'value="refund-again"').replace('messageRef="RefundMessage"', 'messageRef="Again"')
    text = text[:end] + second + text[end:]
    text = text.replace("</bpmn:definitions>", '  <bpmn:message id="Again" name="again"/>\n</bpmn:definitions>')
    with pytest.raises(DeploymentError, match="RefundRequested, RefundAgain each name a tool"):
        engine.deploy([(MODEL.name, text.encode())])
