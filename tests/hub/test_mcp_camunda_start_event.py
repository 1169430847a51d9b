"""A process with Camunda's MCP start event is an MCP tool of the hub under the template's name, without
``<agenthub:tool>`` or ``--expose``; the official MCP client lists it and calls it over real HTTP."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from tests.hub.harness import LiveHub, assistant

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_process_with_camundas_mcp_start_event_is_listed_and_called_under_the_templates_tool_name(
        live_hub: LiveHub) -> None:
    live_hub.deploy("camunda_mcp_start.bpmn")  # no expose
    token = live_hub.token("start", "read")
    async with assistant(live_hub, token) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "refund-order" in tools and "refund_order" not in tools
        tool = tools["refund-order"]
        assert tool.description == (
            "Refunds a paid order to the customer.\n\n"
            "## Inputs\norderId (string, required): the order to refund. amount (number, required): how much.\n\n"
            "## When to use\nWhen a customer asks for their money back.\n\n"
            "## Results\nrefund: the refund's status and amount.")
        assert tool.input_schema == {"type": "object", "additionalProperties": True}

        # Camunda answers with the instance key alone; here the call waits for the result, as for any process tool
        done = await client.call_tool("refund-order", {"orderId": "o-7", "amount": 12})
        assert not done.is_error and done.structured_content is not None
        assert done.structured_content["refund"] == {"status": "refunded", "order": "o-7", "amount": 12}
        assert done.meta is not None and done.meta["agenthub/state"] == "completed"
        with live_hub.client() as rest:
            instance = rest.get(f"/api/v1/process-instances/{done.meta['agenthub/instance']}").json()
        assert (instance.get("process"), instance.get("state")) == ("refund_order", "completed"), instance

        with pytest.raises(MCPError, match="unknown tool 'refund_order'"):  # the process id is not the tool name
            await client.call_tool("refund_order", {"orderId": "o-8"})
