"""Process diagrams and instance states as MCP resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_every_deployed_process_is_listed_as_its_bpmn_xml(mcp_hub: Any, mode: str) -> None:
    async with mcp_hub.client("reader", mode=mode) as client:
        listed = {r.uri: r for r in (await client.list_resources()).resources}
        read = await client.read_resource("agenthub://processes/quote.bpmn")
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert set(listed) == {
        f"agenthub://processes/{p}.bpmn" for p in ("approval", "echo", "internal", "payment", "quote", "routing")
    }
    assert listed["agenthub://processes/quote.bpmn"].mime_type == "application/xml"
    [content] = read.contents
    assert content.mime_type == "application/xml"
    assert content.text == mcp_hub.engine.definition_xml("quote")  # type: ignore[union-attr]
    assert templates == {"agenthub://processes/{processId}.bpmn", "agenthub://instances/{instance}"}


async def test_an_instance_reads_as_its_outcome_with_what_it_waits_for(mcp_hub: Any) -> None:
    view = mcp_hub.engine.start("approval", {"order": "C-3", "amount": 9})
    async with mcp_hub.client("reader") as client:
        read = await client.read_resource(f"agenthub://instances/{view.key}")
    [content] = read.contents
    assert content.mime_type == "application/json"
    data = json.loads(content.text)  # type: ignore[union-attr]
    assert data["instance"] == view.key and data["state"] == "active"
    assert data["variables"] == {"order": "C-3", "amount": 9}
    assert data["waitingFor"][0]["kind"] == "userTask"


@pytest.mark.parametrize(
    "uri",
    [
        "agenthub://instances/424242",
        "agenthub://instances/9999999999999999999",
        "agenthub://processes/nope.bpmn",
        "agenthub://elsewhere/x",
        "file:///etc/passwd",
    ],
)
async def test_an_unknown_resource_is_an_invalid_params_error(mcp_hub: Any, uri: str) -> None:
    async with mcp_hub.client("reader") as client:
        with pytest.raises(MCPError, match="resource not found") as missing:
            await client.read_resource(uri)
    assert missing.value.code == -32602
