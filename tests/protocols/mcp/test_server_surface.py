"""MCP's wider server surface with the official client: prompts, completions, declared resources, output
schemas and annotations, content blocks, logging and resource subscriptions.

One endpoint for the module, over the processes under ``tests/data/mcp_surface`` (``refund`` declares a prompt,
resources, outputs and hints and answers with an image; ``hold`` waits for a person; ``confirm`` asks the caller).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import IncomingMessage
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    ElicitRequestParams,
    ElicitResult,
    ImageContent,
    LoggingMessageNotificationParams,
    PromptReference,
    ResourceTemplateReference,
    ResourceUpdatedNotification,
    TextResourceContents,
)

from engine import Engine
from tests.protocols.mcp.conftest import McpHub, serve_endpoint

pytestmark = pytest.mark.anyio
DATA = Path(__file__).resolve().parents[2] / "data" / "mcp_surface"
MODES = ["legacy", "2026-07-28"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpHub]:
    engine = Engine.open("sqlite:///" + str(tmp_path_factory.mktemp("surface") / "hub.db"))
    engine.deploy([(p.name, p.read_bytes()) for p in sorted(DATA.glob("*.bpmn"))], expose=True)
    try:
        with serve_endpoint(engine, call_timeout_s=5.0) as served:
            yield served
    finally:
        engine.close()


@pytest.mark.parametrize("mode", MODES)
async def test_a_process_declares_prompts_that_render_with_their_arguments(hub: McpHub, mode: str) -> None:
    async with hub.client("agent", mode=mode) as client:
        [prompt] = (await client.list_prompts()).prompts
        got = await client.get_prompt("refund_request", {"order": "O-7", "priority": "high"})
    assert (prompt.name, prompt.title, prompt.description) == (
        "refund_request",
        "Refund request",
        "Ask for a refund of an order",
    )
    assert [(a.name, a.required) for a in prompt.arguments or []] == [("order", True), ("priority", False)]
    text, resource = got.messages
    assert text.role == "user" and text.content.text == "Please refund order O-7 with high priority."  # type: ignore[union-attr]
    assert resource.content.type == "resource"
    assert resource.content.resource.uri == "refunds://orders/O-7"  # type: ignore[union-attr]


async def test_a_prompt_without_a_required_argument_or_unknown_is_invalid_params(hub: McpHub) -> None:
    async with hub.client("agent") as client:
        with pytest.raises(MCPError, match="needs the argument") as missing:
            await client.get_prompt("refund_request", {"priority": "low"})
        with pytest.raises(MCPError, match="unknown prompt"):
            await client.get_prompt("nope")
    assert missing.value.code == -32602


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_a_missing_required_argument_is_asked_of_a_client_that_offers_elicitation(
    hub: McpHub, mode: str, action: str
) -> None:
    """2025-era sessions: a server request; 2026-07-28: an ``InputRequiredResult`` the SDK's driver answers."""
    asked: list[ElicitRequestParams] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action=action, content={"order": "O-9"} if action == "accept" else None)  # type: ignore[arg-type]

    async with hub.client("agent", mode=mode, elicitation_callback=elicit) as client:
        if action == "accept":
            got = await client.get_prompt("refund_request", {"priority": "low"})
        else:
            with pytest.raises(MCPError, match="needs the argument") as refused:
                await client.get_prompt("refund_request", {"priority": "low"})
    [question] = asked
    assert question.message == "The prompt 'Refund request' needs order: Order number"
    assert question.requested_schema["required"] == ["order"]  # type: ignore[union-attr]
    if action == "accept":
        assert got.messages[0].content.text == "Please refund order O-9 with low priority."  # type: ignore[union-attr]
    else:
        assert refused.value.code == -32602


async def test_completions_offer_the_inputs_enum_then_recent_values_then_instance_keys(hub: McpHub) -> None:
    engine = hub.engine
    recent = await anyio.to_thread.run_sync(lambda: engine.start("refund", {"order": "O-123"}))
    ref = PromptReference(name="refund_request")
    async with hub.client("agent") as client:
        priority = await client.complete(ref, {"name": "priority", "value": "h"})
        order = await client.complete(ref, {"name": "order", "value": "O-1"})
        keys = await client.complete(
            ResourceTemplateReference(uri="agenthub://instances/{instance}"), {"name": "instance", "value": ""}
        )
    assert priority.completion.values == ["high"]
    assert "O-123" in order.completion.values
    assert str(recent.key) in keys.completion.values


async def test_declared_resources_are_listed_and_read_and_templates_substitute(hub: McpHub) -> None:
    async with hub.client("reader") as client:
        listed = {r.uri for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        [policy] = (await client.read_resource("refunds://policy")).contents
        [order] = (await client.read_resource("refunds://orders/O-5")).contents
    assert "refunds://policy" in listed and "refunds://orders/{order}" in templates
    assert isinstance(policy, TextResourceContents) and policy.text == "Refunds within 30 days."
    assert isinstance(order, TextResourceContents) and order.text == "Order O-5 is refundable."


@pytest.mark.parametrize("mode", MODES)
async def test_a_tool_declares_outputs_and_hints_and_answers_with_its_content_blocks(hub: McpHub, mode: str) -> None:
    async with hub.client("agent", mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        done = await client.call_tool("refund", {"order": "O-1", "priority": "low"})
    refund = tools["refund"]
    assert refund.output_schema == {
        "type": "object",
        "properties": {"refunded": {"type": "number", "description": "The amount refunded"}},
    }
    assert refund.annotations is not None
    assert (
        refund.annotations.read_only_hint,
        refund.annotations.destructive_hint,
        refund.annotations.idempotent_hint,
    ) == (False, True, False)
    assert refund.input_schema["properties"]["priority"]["enum"] == ["low", "high"]
    assert tools["hold"].output_schema is None and tools["hold"].annotations is None
    assert not done.is_error and done.structured_content == {"refunded": 10}
    assert isinstance(done.content[0], ImageContent)  # the process's own blocks first, then the JSON text


async def _set_level(client: Any, level: str) -> None:
    with warnings.catch_warnings():  # logging/setLevel is deprecated by 2026-07-28, and current on 2025-11-25
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.set_logging_level(level)


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_asked_for_a_level_hears_the_instances_journal(hub: McpHub, mode: str) -> None:
    heard: list[LoggingMessageNotificationParams] = []

    async def log(params: LoggingMessageNotificationParams) -> None:
        heard.append(params)

    async with hub.client("agent", mode=mode, logging_callback=log, log_level="info") as client:
        if mode == "legacy":
            assert client.server_capabilities.logging is not None
            await _set_level(client, "info")
        else:
            assert client.server_capabilities.logging is None
        done = await client.call_tool("refund", {"order": "O-2"})
    instance = (done.meta or {})["agenthub/instance"]
    assert [(p.level, p.data["type"]) for p in heard] == [("info", "instance_started"), ("info", "instance_completed")]
    assert {p.logger for p in heard} == {f"agenthub.instance.{instance}"}


async def test_without_a_level_no_log_arrives_and_debug_brings_every_entry(hub: McpHub) -> None:
    heard: list[str] = []

    async def log(params: LoggingMessageNotificationParams) -> None:
        heard.append(params.level)

    async with hub.client("agent", logging_callback=log) as client:
        await client.call_tool("refund", {"order": "O-3"})
        assert heard == []
        await _set_level(client, "debug")
        await client.call_tool("refund", {"order": "O-3"})
    assert heard.count("debug") > 5 and heard.count("info") == 2


async def _subscribe(client: Any, uri: str) -> None:
    with warnings.catch_warnings():  # resources/subscribe is removed by 2026-07-28, and current on 2025-11-25
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.subscribe_resource(uri)


async def test_a_subscriber_hears_when_its_instance_changes_until_it_unsubscribes(hub: McpHub) -> None:
    engine = hub.engine
    updated: list[str] = []
    changed = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(message.params.uri)
            changed.set()

    view = await anyio.to_thread.run_sync(lambda: engine.start("hold", {}))
    uri = f"agenthub://instances/{view.key}"
    async with hub.client("agent", message_handler=on_message) as client:
        assert client.server_capabilities.resources is not None and client.server_capabilities.resources.subscribe
        with pytest.raises(MCPError, match="resource not found"):
            await _subscribe(client, "agenthub://instances/424242")
        await _subscribe(client, uri)
        [task] = await anyio.to_thread.run_sync(lambda: engine.user_tasks(instance=view.key))
        await anyio.to_thread.run_sync(lambda: engine.complete_user_task(task.key, {"ok": True}))
        with anyio.fail_after(10):
            await changed.wait()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.unsubscribe_resource(uri)
    assert updated == [uri]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_a_user_task_for_the_caller_becomes_an_elicitation_and_an_answer_completes_it(
    hub: McpHub, action: str, mode: str
) -> None:
    """On 2025-era sessions a server request; on 2026-07-28 an ``InputRequiredResult`` the client answers by
    calling again (the SDK's multi-round-trip driver does): the same question, the same outcome, one instance."""
    asked: list[ElicitRequestParams] = []

    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action=action, content={"ship": False} if action == "accept" else None)  # type: ignore[arg-type]

    before = len(hub.engine.instances(process_id="confirm", limit=1000))
    async with hub.client("agent", mode=mode, elicitation_callback=elicit) as client:
        done = await client.call_tool("confirm", {})
    assert len(hub.engine.instances(process_id="confirm", limit=1000)) == before + 1  # the retry started nothing
    [question] = asked
    assert question.message == "Do you want the order shipped?"
    assert question.requested_schema == {"type": "object", "properties": {"ship": {"type": "boolean", "default": True}}}  # type: ignore[union-attr]
    data = done.structured_content
    assert data is not None and not done.is_error
    if action == "accept":
        assert data["ship"] is False and (done.meta or {})["agenthub/state"] == "completed"
    else:  # the task stays open for the caller, as for a client that cannot be asked
        assert data["state"] == "active" and data["waitingFor"][0]["assignee"] == "agent"


async def test_a_first_call_that_brings_the_answer_along_completes_without_being_asked(hub: McpHub) -> None:
    """2026-07-28 (SEP-2322): inputResponses without a requestState answer the question asked under their key;
    keys nobody asks are ignored."""
    async def never(context: Any, params: ElicitRequestParams) -> ElicitResult:
        raise AssertionError("asked although the call brought the answer")

    before = len(hub.engine.instances(process_id="confirm", limit=1000))
    async with hub.client("agent", mode="2026-07-28", elicitation_callback=never) as client:
        done = await client.session.call_tool("confirm", {}, input_responses={
            "ask": ElicitResult(action="accept", content={"ship": False}),
            "nobody-asks-this": ElicitResult(action="accept", content={"x": 1}),
        })
    assert isinstance(done, CallToolResult) and not done.is_error
    assert done.structured_content is not None and done.structured_content["ship"] is False
    assert len(hub.engine.instances(process_id="confirm", limit=1000)) == before + 1


async def test_a_request_state_the_hub_did_not_give_or_for_another_caller_s_instance_is_refused(hub: McpHub) -> None:
    async with hub.client("agent", mode="2026-07-28") as client:
        waiting = await client.call_tool("confirm", {})  # no elicitation capability: the task waits
    instance = (waiting.meta or {})["agenthub/instance"]
    [task] = hub.engine.user_tasks(instance=instance)
    forged = json.dumps({"v": 2, "tool": "confirm", "instance": instance, "task": task.key, "asked": 0})
    for token, tool, state, said in (("agent", "confirm", "not json", "not one this hub gave"),
                                     ("admin", "confirm", forged, "did not start"),
                                     ("agent", "hold", forged, "given for a call of 'confirm', not 'hold'")):
        async with hub.client(token, mode="2026-07-28") as client:
            with pytest.raises(MCPError) as refused:
                await client.session.call_tool(tool, {}, request_state=state)
        assert refused.value.error.code == INVALID_PARAMS and said in refused.value.error.message
    assert hub.engine.user_task(task.key).state == "created"  # nothing was completed


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_cannot_be_asked_sees_the_task_wait(hub: McpHub, mode: str) -> None:
    async with hub.client("agent", mode=mode) as client:
        waiting = await client.call_tool("confirm", {})
    assert waiting.structured_content is not None and waiting.structured_content["state"] == "active"


async def test_an_sse_response_opens_with_a_priming_event_and_a_retry_interval(hub: McpHub) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    async with hub.http("agent") as http:
        answer = await http.post(hub.url, json=body)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    first = answer.text.split("\n\n")[0].splitlines()
    assert first[0].startswith("id: ") and "retry: 1000" in first and "data: " in first


async def test_a_call_with_a_progress_token_hears_each_completed_element_in_order(hub: McpHub) -> None:
    updates: list[tuple[float, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        updates.append((value, message))

    async with hub.client("agent") as client:
        await client.call_tool("refund", {"order": "O-4"}, progress_callback=progress)
    messages = [m for _, m in updates]
    assert messages.index("pay completed") < messages.index("receipt completed") < messages.index("end completed")
    assert [v for v, _ in updates] == sorted(v for v, _ in updates)
