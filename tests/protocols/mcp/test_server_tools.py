"""Exposed processes as MCP tools, over Streamable HTTP with the official client, in both protocol eras.

"legacy" is the 2025-11-25 initialize handshake with a session; "2026-07-28"
is the stateless protocol (no handshake, no session).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from engine import Engine
from protocols.mcp import McpEndpoint

pytestmark = pytest.mark.anyio

MODES = ["legacy", "2026-07-28"]
NOW: dict[str, Any] = {"agenthub/waitSeconds": 0}  # return right after the start
REFUND_REVIEW = (Path(__file__).resolve().parents[2] / "data" / "cli" / "refund_review.bpmn").read_bytes()


async def tool_names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools(cache_mode="bypass")).tools]


@pytest.mark.parametrize("mode", MODES)
async def test_each_exposed_process_is_a_tool_with_its_documentation_and_input_schema(mcp_hub: Any, mode: str) -> None:
    async with mcp_hub.client("agent", mode=mode) as client:
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else mode)
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    engine: Engine = mcp_hub.engine
    assert {"approval", "echo", "payment", "quote", "routing"} <= set(tools)
    assert "internal" not in tools  # deployed, but neither declared a tool nor exposed
    quote = tools["quote"]
    assert quote.description == "Quote the price of an order: twice the amount plus a fee of 10."
    assert quote.title == "Quote a price"
    assert quote.input_schema == engine.tool("quote").input_schema()
    assert quote.input_schema["required"] == ["amount"]
    assert quote.input_schema["additionalProperties"] is False
    assert tools["echo"].input_schema == {"type": "object", "additionalProperties": True}  # no declared inputs
    if mode == "legacy":  # tasks exist in 2025-11-25 only
        assert quote.execution is not None and quote.execution.task_support == "optional"


async def test_a_process_deployed_after_the_client_connected_appears_in_the_next_listing(mcp_hub: Any) -> None:
    async with mcp_hub.client("agent") as client:
        assert "late" not in await tool_names(client)
        xml = (mcp_hub.engine.definition_xml("internal")).replace('id="internal"', 'id="late"')
        await anyio.to_thread.run_sync(lambda: mcp_hub.engine.deploy([("late.bpmn", xml)], expose=True))
        assert "late" in await tool_names(client)


@pytest.mark.parametrize("mode", MODES)
async def test_a_straight_through_process_answers_with_its_variables_as_structured_content(
    mcp_hub: Any, mode: str
) -> None:
    async with mcp_hub.client("agent", mode=mode) as client:
        result = await client.call_tool("quote", {"amount": 21, "note": "rush"})
    assert not result.is_error
    assert result.structured_content == {"amount": 21, "note": "rush", "caller": "agent", "price": 52}
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    assert result.meta is not None and result.meta["agenthub/state"] == "completed"
    instance = result.meta["agenthub/instance"]
    assert mcp_hub.engine.instance(instance).state == "completed"


async def test_the_caller_variable_is_the_principal_whatever_the_arguments_say(mcp_hub: Any) -> None:
    async with mcp_hub.client("admin") as client:
        result = await client.call_tool("echo", {"caller": "someone else", "x": [1, {"y": True}]})
    assert result.structured_content == {"caller": "admin", "x": [1, {"y": True}]}


@pytest.mark.parametrize("mode", MODES)
async def test_a_process_waiting_for_a_person_answers_with_the_instance_and_what_it_waits_for(
    mcp_hub: Any, mode: str
) -> None:
    async with mcp_hub.client("agent", mode=mode) as client:
        waiting = await client.call_tool("approval", {"order": "A-17", "amount": 40}, meta=NOW)
        assert not waiting.is_error
        data = waiting.structured_content
        assert data is not None
        assert data["state"] == "active" and data["process"] == "approval"
        [wait] = data["waitingFor"]
        assert wait["kind"] == "userTask" and wait["element"] == "Approve" and wait["candidateGroups"] == ["managers"]
        assert "agenthub_get_instance" in waiting.content[1].text  # type: ignore[union-attr]

        listed = await client.call_tool("agenthub_list_user_tasks", {"instance": data["instance"]})
        assert listed.structured_content == {"tasks": [], "next": None}  # offered to managers: not this agent's

    async with mcp_hub.client("admin", mode=mode) as admin:
        listed = await admin.call_tool("agenthub_list_user_tasks", {"instance": data["instance"]})
        [task] = listed.structured_content["tasks"]  # type: ignore[index]
        assert task["id"] == wait["task"] and task["state"] == "created"

        done = await admin.call_tool(
            "agenthub_complete_user_task", {"task": wait["task"], "variables": {"approved": True}}
        )
        assert not done.is_error
        assert done.structured_content["instance"]["state"] == "completed"  # type: ignore[index]

        got = await admin.call_tool("agenthub_get_instance", {"instance": data["instance"]})
    assert got.structured_content == {
        "instance": data["instance"],
        "process": "approval",
        "state": "completed",
        "variables": {"order": "A-17", "amount": 40, "caller": "agent", "approved": True},
        "startedBy": "agent",  # the principal that started it, which no variable can change
    }


async def test_completing_a_user_task_that_is_no_longer_open_is_a_conflict(mcp_hub: Any) -> None:
    view = mcp_hub.engine.start("approval", {"order": "A-1", "amount": 1})
    [task] = mcp_hub.engine.user_tasks(instance=view.key)
    mcp_hub.engine.complete_user_task(task.key, {})
    async with mcp_hub.client("agent") as client:
        again = await client.call_tool("agenthub_complete_user_task", {"task": task.key})
        missing = await client.call_tool("agenthub_complete_user_task", {"task": 999_999})
    assert again.is_error and again.structured_content["error"]["type"] == "conflict"  # type: ignore[index]
    assert missing.is_error and missing.structured_content["error"]["type"] == "notFound"  # type: ignore[index]


@pytest.mark.parametrize("mode", MODES)
async def test_an_incident_is_a_tool_error_carrying_the_incident_message(mcp_hub: Any, mode: str) -> None:
    async with mcp_hub.client("agent", mode=mode) as client:
        result = await client.call_tool("routing", {"score": 5})
    assert result.is_error
    data = result.structured_content
    assert data is not None and data["state"] == "incident"
    [incident] = data["waitingFor"]
    assert incident["kind"] == "incident" and incident["element"] == "Route"
    assert "no outgoing sequence flow" in result.content[1].text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_a_call_reports_progress_and_returns_as_soon_as_the_instance_waits_on_the_outside_world(
    mcp_hub: Any, mode: str
) -> None:
    """The call does not sit out its time budget while a message is awaited: it says so at once."""
    engine: Engine = mcp_hub.engine
    updates: list[str | None] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        updates.append(message)

    async with mcp_hub.client("agent", mode=mode) as client:
        began = anyio.current_time()
        waiting = await client.call_tool(
            "payment", {"orderId": "O-9"}, progress_callback=progress, meta={"agenthub/waitSeconds": 20}
        )
        assert anyio.current_time() - began < 10
        data = waiting.structured_content
        assert data is not None and data["state"] == "active"
        assert [(w["kind"], w["name"]) for w in data["waitingFor"]] == [("message", "paid")]
        await anyio.to_thread.run_sync(lambda: engine.publish_message("paid", "O-9", {"paid": 12.5}))
        final = await client.call_tool("agenthub_get_instance", {"instance": data["instance"]})
    assert final.structured_content is not None and final.structured_content["state"] == "completed"
    assert final.structured_content["variables"] == {"orderId": "O-9", "caller": "agent", "paid": 12.5}
    assert updates and updates[0] is not None and "WaitPaid" in updates[0]


async def test_a_caller_can_shorten_the_wait_but_not_lengthen_it(serve_mcp: Any) -> None:
    hub = serve_mcp(call_timeout_s=0.2)
    async with hub.client("agent") as client:
        longer = await client.call_tool("approval", {"order": "B", "amount": 2}, meta={"agenthub/waitSeconds": 3600})
    assert not longer.is_error and longer.structured_content["state"] == "active"  # type: ignore[index]


async def test_publishing_a_message_through_the_builtin_tool_moves_the_waiting_instance_on(mcp_hub: Any) -> None:
    async with mcp_hub.client("agent") as client:
        waiting = await client.call_tool("payment", {"orderId": "O-1"}, meta=NOW)
        published = await client.call_tool(
            "agenthub_publish_message", {"name": "paid", "correlationKey": "O-1", "variables": {"paid": 3}}
        )
        instance = waiting.structured_content["instance"]  # type: ignore[index]
        got = await client.call_tool("agenthub_get_instance", {"instance": instance})
    assert waiting.structured_content["waitingFor"][0]["kind"] == "message"  # type: ignore[index]
    assert published.structured_content["correlatedInstances"]  # type: ignore[index]
    assert got.structured_content["state"] == "completed"  # type: ignore[index]


async def test_listing_instances_pages_through_them_oldest_first(mcp_hub: Any) -> None:
    keys = [mcp_hub.engine.start("quote", {"amount": n}).key for n in range(3)]
    async with mcp_hub.client("reader") as client:
        first = await client.call_tool("agenthub_list_instances", {"processId": "quote", "limit": 2})
        after = first.structured_content["next"]  # type: ignore[index]
        rest = await client.call_tool("agenthub_list_instances", {"processId": "quote", "limit": 2, "after": after})
        unknown = await client.call_tool("agenthub_get_instance", {"instance": 987_654})
    assert [i["instance"] for i in first.structured_content["instances"]] == keys[:2]  # type: ignore[index]
    assert [i["instance"] for i in rest.structured_content["instances"]] == keys[2:]  # type: ignore[index]
    assert rest.structured_content["next"] is None  # type: ignore[index]
    assert unknown.is_error and unknown.structured_content["error"]["type"] == "notFound"  # type: ignore[index]


def test_the_call_budget_must_be_a_finite_number_of_seconds(mcp_engine: Engine) -> None:
    with pytest.raises(ValueError, match="call_timeout_s"):
        McpEndpoint(mcp_engine, call_timeout_s=float("nan"))


async def test_listed_user_tasks_say_what_they_ask_the_person(mcp_hub: Any) -> None:
    engine: Engine = mcp_hub.engine
    engine.deploy([("refund_review.bpmn", REFUND_REVIEW)])
    order = {"customer": "ada", "total": 120, "reason": "never arrived"}
    key = engine.start("refund_review", {"order": order}).key
    async with mcp_hub.client("admin") as client:  # an admin sees every task, offered to it or not
        listed = await client.call_tool("agenthub_list_user_tasks", {"instance": key})
    [task] = listed.structured_content["tasks"]  # type: ignore[index]
    assert task["inputs"] == {"customer": "ada", "refund": {"amount": 60, "reason": "never arrived"}}
