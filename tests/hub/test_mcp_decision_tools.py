"""DMN decisions marked ``<agenthub:tool/>`` are MCP tools of the hub: the official MCP client lists them with an
input schema from the variables they read and evaluates them over real HTTP; each call is governed by the hub's
policies and leaves a row in the registry's audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import TextContent

from protocols.mcp.limits import McpLimits
from tests.hub.harness import LiveHub, assistant, serve_hub

pytestmark = pytest.mark.anyio

DMN = Path(__file__).resolve().parents[1] / "data" / "dmn" / "decision_tools.dmn"
GOLD = {"customer": {"orders": 12}, "total": 250}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    folder = tmp_path_factory.mktemp("decision-tools")
    policies = folder / "policies.json"
    policies.write_text(
        json.dumps(
            [
                {
                    "tool": "risk-class",
                    "decision": "deny",
                    "when": "toolCall.score > 1000",
                    "reason": "scores past 1000 are made up",
                },
                {
                    "tool": "shippingDiscount",
                    "decision": "approve",
                    "when": "toolCall.total > 10000",
                    "reason": "big orders",
                    "candidateGroups": "sales",
                },
            ]
        )
    )
    with serve_hub(folder, agent_policies=str(policies), mcp=McpLimits(rate_per_minute=0)) as live:
        with live.client() as c:
            answer = c.post("/api/v1/deployments", files=[("files", (DMN.name, DMN.read_bytes(), "application/xml"))])
            assert answer.status_code == 201, answer.text
        yield live


def _audit(hub: LiveHub, decision_id: str) -> list[dict[str, Any]]:
    with hub.client() as c:
        answer = c.get("/api/v1/audit", params={"subject": f"decision:{decision_id}"})
    answer.raise_for_status()
    return list(answer.json()["items"])


async def test_marked_decisions_are_listed_read_only_with_a_schema_from_the_variables_they_read(hub: LiveHub) -> None:
    async with assistant(hub, hub.token("start")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "customerLevel" not in tools  # not marked
    shipping, risk = tools["shippingDiscount"], tools["risk-class"]
    assert shipping.description == "The shipping discount rate of an order, by customer level and order total."
    assert shipping.title == "Shipping discount"
    # ``total`` from the table's input (its typeRef), ``customer`` read as a path by the required decision
    assert shipping.input_schema == {
        "type": "object",
        "additionalProperties": True,
        "properties": {"total": {"type": "number"}, "customer": {"type": "object"}},
    }
    assert risk.description == "The risk class of a score (an overlap above 80 is a modelling error)."
    assert risk.input_schema["properties"] == {"score": {"type": "integer"}}
    assert risk.annotations is not None
    assert (risk.annotations.read_only_hint, risk.annotations.idempotent_hint) == (True, True)
    assert shipping.output_schema is not None and "matchedRules" in shipping.output_schema["properties"]


async def test_a_caller_without_start_neither_sees_nor_calls_a_decision_tool(hub: LiveHub) -> None:
    async with assistant(hub, hub.token("read")) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        with pytest.raises(MCPError, match="needs the 'start' scope"):
            await client.call_tool("shippingDiscount", GOLD)
    assert "shippingDiscount" not in names


async def test_a_call_evaluates_the_decision_and_answers_its_result_with_the_matched_rules(hub: LiveHub) -> None:
    async with assistant(hub, hub.token("start")) as client:
        result = await client.call_tool("shippingDiscount", GOLD)
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert (data["decisionId"], data["version"], data["result"]) == ("shippingDiscount", 1, 1)
    assert data["matchedRules"] == [{"ruleId": "goldBig", "ruleIndex": 1, "outputs": {"rate": 1}}]
    assert [d["decisionId"] for d in data["evaluatedDecisions"]] == ["customerLevel", "shippingDiscount"]
    first = result.content[0]
    assert isinstance(first, TextContent) and json.loads(first.text) == data
    assert result.meta is not None
    assert (result.meta["agenthub/decision"], result.meta["agenthub/version"]) == ("shippingDiscount", 1)
    rows = _audit(hub, "shippingDiscount")
    assert rows[0]["kind"] == "decision.call"
    assert rows[0]["data"]["outcome"] == "ok" and rows[0]["data"]["matchedRules"] == ["goldBig"]
    assert rows[0]["data"]["by"]["channel"] == "mcp" and "argumentsHash" in rows[0]["data"]


async def test_a_failing_evaluation_or_wrong_arguments_are_tool_errors_with_the_reason(hub: LiveHub) -> None:
    async with assistant(hub, hub.token("start")) as client:
        overlap = await client.call_tool("risk-class", {"score": 90})
        wrong = await client.call_tool("risk-class", {"score": "high"})
        fine = await client.call_tool("risk-class", {"score": 10})
    assert overlap.is_error and overlap.structured_content is not None
    error = overlap.structured_content["error"]
    assert error["type"] == "evaluationFailed"
    assert "hit policy UNIQUE but rules 2, 3 all match" in error["message"]
    assert wrong.is_error and wrong.structured_content is not None
    assert wrong.structured_content["error"]["type"] == "invalidArguments"
    assert not fine.is_error and fine.structured_content is not None
    assert fine.structured_content["result"] == "low"
    outcomes = [row["data"]["outcome"] for row in _audit(hub, "riskClass")][:3]
    assert outcomes == ["ok", "invalidArguments", "toolError"]  # newest first


async def test_the_hubs_policies_deny_or_hold_a_decision_call_before_it_is_evaluated(hub: LiveHub) -> None:
    async with assistant(hub, hub.token("start")) as client:
        denied = await client.call_tool("risk-class", {"score": 5000})
        held = await client.call_tool("shippingDiscount", {"customer": {"orders": 1}, "total": 20000})
    assert denied.is_error and denied.structured_content is not None
    assert denied.structured_content["error"]["type"] == "denied"
    assert "scores past 1000 are made up" in denied.structured_content["error"]["message"]
    assert held.is_error and held.structured_content is not None
    assert held.structured_content["error"]["type"] == "approvalRequired"
    row = _audit(hub, "riskClass")[0]["data"]
    assert (row["outcome"], row["decision"], row["reason"]) == ("denied", "deny", "scores past 1000 are made up")
    assert _audit(hub, "shippingDiscount")[0]["data"]["outcome"] == "approvalRequired"
