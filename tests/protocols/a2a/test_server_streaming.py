"""SendStreamingMessage and SubscribeToTask: status and artifact events as the instance moves."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from a2a.types import (
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    TaskState,
    UnsupportedOperationError,
)

from tests.protocols.a2a.harness import BINDINGS, message, send

pytestmark = pytest.mark.anyio

WAIT_S = 10  # a bound on each wait, never a timing assertion


def describe(event: StreamResponse) -> str:
    kind = event.WhichOneof("payload")
    if kind == "task":
        return f"task:{TaskState.Name(event.task.status.state)}"
    if kind == "status_update":
        return f"status:{TaskState.Name(event.status_update.status.state)}"
    if kind == "artifact_update":
        return f"artifact:{event.artifact_update.artifact.name}"
    return str(kind)


async def complete_review(engine: Any, instance: int) -> None:
    """The reviewer's part: the user task exists as soon as the start returned (the engine ran to the wait)."""
    [task] = await asyncio.to_thread(engine.user_tasks, instance=instance)
    await asyncio.to_thread(engine.complete_user_task, task.key, {"verdict": "fine"})


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_streaming_send_shows_working_then_the_artifact_and_completed(a2a_hub: Any, binding: str) -> None:
    events: list[StreamResponse] = []
    async with a2a_hub.client("review", streaming=True, binding=binding) as client:
        stream = client.send_message(SendMessageRequest(message=message(data={"doc": "d"})))
        async with asyncio.timeout(WAIT_S):
            first = await anext(stream)
            events.append(first)
            finisher = asyncio.create_task(complete_review(a2a_hub.engine, int(first.task.id)))
            events += [event async for event in stream]
            await finisher
    assert [describe(e) for e in events] == [
        "task:TASK_STATE_WORKING",
        "artifact:result",
        "status:TASK_STATE_COMPLETED",
    ]
    assert "Review the document" in events[0].task.status.message.parts[0].text
    assert events[1].artifact_update.artifact.parts[0].data.struct_value["verdict"] == "fine"


async def test_a_streaming_send_ends_when_the_task_waits_for_the_caller(a2a_hub: Any) -> None:
    async with a2a_hub.client("confirm", streaming=True) as client:
        async with asyncio.timeout(WAIT_S):
            events = [e async for e in client.send_message(SendMessageRequest(message=message(data={"order": "o"})))]
    assert [describe(e) for e in events] == ["task:TASK_STATE_INPUT_REQUIRED"]


async def test_a_streaming_send_to_a_process_with_an_incident_ends_failed(a2a_hub: Any) -> None:
    async with a2a_hub.client("route", streaming=True) as client:
        async with asyncio.timeout(WAIT_S):
            events = [e async for e in client.send_message(SendMessageRequest(message=message(data={"score": 1})))]
    assert [describe(e) for e in events] == ["task:TASK_STATE_FAILED"]


@pytest.mark.parametrize("binding", BINDINGS)
async def test_subscribing_to_a_task_streams_it_until_it_ends(a2a_hub: Any, binding: str) -> None:
    async with a2a_hub.client("review", binding=binding) as client:
        task = await send(client, message(data={"doc": "d"}))
    async with a2a_hub.client("review", streaming=True, binding=binding) as client:
        stream = client.subscribe(SubscribeToTaskRequest(id=task.id))
        async with asyncio.timeout(WAIT_S):
            events = [await anext(stream)]
            await complete_review(a2a_hub.engine, int(task.id))
            events += [event async for event in stream]
    assert [describe(e) for e in events] == [
        "task:TASK_STATE_WORKING",
        "artifact:result",
        "status:TASK_STATE_COMPLETED",
    ]


async def test_subscribing_to_a_finished_task_is_refused(a2a_hub: Any) -> None:
    async with a2a_hub.client("greet") as client:
        task = await send(client, message(data={"name": "Ann"}))
    async with a2a_hub.client("greet", streaming=True) as client:
        with pytest.raises(UnsupportedOperationError, match="completed"):
            async with asyncio.timeout(WAIT_S):
                _ = [e async for e in client.subscribe(SubscribeToTaskRequest(id=task.id))]
