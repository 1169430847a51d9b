"""A2A 0.3's HTTP+JSON binding on a process agent (``/a2a/{processId}/v1/...``), as an a2a-sdk 0.3 client uses it.

The client reads the 0.3 card (``agent.json``), which lists HTTP+JSON as an additional interface, and the
a2a-sdk picks its 0.3 REST transport for it: send, get, cancel, and a streaming send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.types import CancelTaskRequest, GetTaskRequest, SendMessageRequest, TaskState

from tests.protocols.a2a.harness import artifact_data, message, send

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def client_03(
    a2a_hub: Any, process_id: str, *, streaming: bool = False, paths: list[str] | None = None
) -> AsyncIterator[Client]:
    """An a2a-sdk client made from the agent's 0.3 card for HTTP+JSON; ``paths``: every path it asks, appended."""

    async def note(request: httpx.Request) -> None:
        if paths is not None:
            paths.append(request.url.path)

    async with httpx.AsyncClient(headers={"Authorization": "Bearer agent"}, timeout=30,
                                 event_hooks={"request": [note]}) as http:
        answer = await http.get(f"{a2a_hub.agent_url(process_id)}/.well-known/agent.json")
        answer.raise_for_status()
        document = answer.json()
        assert document["protocolVersion"].startswith("0.3")
        assert {"transport": "HTTP+JSON", "url": a2a_hub.agent_url(process_id)} in document["additionalInterfaces"]
        card = parse_agent_card(document)
        config = ClientConfig(httpx_client=http, streaming=streaming, supported_protocol_bindings=["HTTP+JSON"])
        client = ClientFactory(config).create(card)
        async with client:
            yield client


async def test_a_0_3_rest_client_sends_gets_and_cancels(a2a_hub: Any) -> None:
    paths: list[str] = []
    async with client_03(a2a_hub, "greet", paths=paths) as client:
        done = await send(client, message(data={"name": "Ann"}))
        again = await client.get_task(GetTaskRequest(id=done.id))
    assert paths[1:] == ["/a2a/greet/v1/message:send", f"/a2a/greet/v1/tasks/{done.id}"]  # after the card
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_data(done)["greeting"] == "Hello, Ann" and again.id == done.id
    async with client_03(a2a_hub, "confirm") as client:
        waiting = await send(client, message(data={"order": "o-1"}))
        assert waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        canceled = await client.cancel_task(CancelTaskRequest(id=waiting.id))
    assert canceled.status.state == TaskState.TASK_STATE_CANCELED
    assert a2a_hub.engine.instance(int(waiting.id)).state == "terminated"


async def test_a_0_3_rest_client_streams_a_task_to_its_end(a2a_hub: Any) -> None:
    async with client_03(a2a_hub, "greet", streaming=True) as client:
        events = [event async for event in client.send_message(
            SendMessageRequest(message=message(data={"name": "Bo"})))]
    states = [e.status_update.status.state for e in events if e.HasField("status_update")]
    first = events[0]
    assert first.HasField("task") or states, events
    final = first.task.status.state if first.HasField("task") and not states else states[-1]
    assert final == TaskState.TASK_STATE_COMPLETED
