"""GetTask, ListTasks, CancelTask: the caller's own instances only; unknown and foreign ids look the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskState,
)
from a2a.utils.constants import TransportProtocol

from tests.protocols.a2a.harness import BINDINGS, message, open_engine, send, serve_endpoint

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("binding", BINDINGS)
async def test_get_task_answers_the_instance_as_it_stands_now(a2a_hub: Any, binding: str) -> None:
    async with a2a_hub.client("review", binding=binding) as client:
        started = await send(client, message(data={"doc": "d"}))
        [user_task] = a2a_hub.engine.user_tasks(instance=int(started.id))
        a2a_hub.engine.complete_user_task(user_task.key, {"ok": True})
        task = await client.get_task(GetTaskRequest(id=started.id))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert task.metadata["processId"] == "review"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_list_tasks_shows_only_the_callers_own_tasks_of_this_agent(a2a_hub: Any, binding: str) -> None:
    async with a2a_hub.client("greet", binding=binding) as client:
        mine = [await send(client, message(data={"name": n})) for n in ("a", "b", "c")]
    async with a2a_hub.client("review", binding=binding) as client:
        await send(client, message(data={"doc": "d"}))  # another agent's task: not listed at greet
    async with a2a_hub.client("greet", "other", binding=binding) as client:
        theirs = await send(client, message(data={"name": "z"}))
        listed = await client.list_tasks(ListTasksRequest())
    assert [t.id for t in listed.tasks] == [theirs.id]
    async with a2a_hub.client("greet", binding=binding) as client:
        first = await client.list_tasks(ListTasksRequest(page_size=2))
        assert [t.id for t in first.tasks] == [mine[2].id, mine[1].id]  # newest first
        assert first.total_size == 3 and first.next_page_token
        second = await client.list_tasks(ListTasksRequest(page_size=2, page_token=first.next_page_token))
        assert [t.id for t in second.tasks] == [mine[0].id] and not second.next_page_token
        completed = await client.list_tasks(ListTasksRequest(status=TaskState.TASK_STATE_COMPLETED))
        assert completed.total_size == 3


async def test_the_hub_endpoint_lists_the_callers_tasks_of_every_agent(a2a_hub: Any) -> None:
    async with a2a_hub.client("greet") as client:
        greet = await send(client, message(data={"name": "a"}))
    async with a2a_hub.client("review") as client:
        review = await send(client, message(data={"doc": "d"}))
    async with a2a_hub.client(None) as client:
        listed = await client.list_tasks(ListTasksRequest())
        fetched = await client.get_task(GetTaskRequest(id=greet.id))
    assert [t.id for t in listed.tasks] == [review.id, greet.id]
    assert fetched.status.state == TaskState.TASK_STATE_COMPLETED


@pytest.mark.parametrize("binding", BINDINGS)
async def test_another_callers_task_is_indistinguishable_from_one_that_does_not_exist(
    a2a_hub: Any, binding: str
) -> None:
    async with a2a_hub.client("review", binding=binding) as client:
        task = await send(client, message(data={"doc": "d"}))
    errors = []
    async with a2a_hub.client("review", "other", binding=binding) as client:
        for task_id in (task.id, "999999", "not-a-number"):
            with pytest.raises(TaskNotFoundError) as found:
                await client.get_task(GetTaskRequest(id=task_id))
            errors.append(found.value.message.replace(task_id, "ID"))
            with pytest.raises(TaskNotFoundError):
                await client.cancel_task(CancelTaskRequest(id=task_id))
        assert (await client.list_tasks(ListTasksRequest())).tasks == []
    assert len(set(errors)) == 1
    async with a2a_hub.client("greet", binding=binding) as client:  # own task, but another agent's
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id=task.id))
    assert a2a_hub.engine.instance(int(task.id)).state == "active"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_cancel_task_terminates_a_waiting_instance(a2a_hub: Any, binding: str) -> None:
    async with a2a_hub.client("confirm", binding=binding) as client:
        task = await send(client, message(data={"order": "o-2"}))
        assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        canceled = await client.cancel_task(CancelTaskRequest(id=task.id))
        assert canceled.status.state == TaskState.TASK_STATE_CANCELED
        with pytest.raises(TaskNotCancelableError):
            await client.cancel_task(CancelTaskRequest(id=task.id))
    assert a2a_hub.engine.instance(int(task.id)).state == "terminated"


async def test_a_restarted_hub_still_answers_for_old_tasks(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "hub.db")
    with serve_endpoint(engine) as hub:
        async with hub.client("confirm") as client:
            waiting = await send(client, message(data={"order": "o-3"}, context_id="c-3"))
    engine.close()
    engine = open_engine(tmp_path / "hub.db")
    try:
        with serve_endpoint(engine, call_timeout_s=5.0) as hub:
            async with hub.client("confirm", binding=TransportProtocol.HTTP_JSON.value) as client:
                again = await client.get_task(GetTaskRequest(id=waiting.id))
                assert again.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
                assert again.context_id == "c-3"
                done = await send(client, message(data={"confirmed": False}, task_id=waiting.id))
        assert done.status.state == TaskState.TASK_STATE_COMPLETED
    finally:
        engine.close()


async def test_a_request_without_a_principal_gets_401_and_one_without_the_scope_403(a2a_hub: Any) -> None:
    send_rpc = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "SendMessage",
        "params": {"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"data": {"name": "x"}}]}},
    }
    async with a2a_hub.http(token=None) as http:
        for response in (
            await http.post("/a2a/greet", json=send_rpc),
            await http.post("/a2a/greet/", json=send_rpc),
            await http.get("/a2a/greet/tasks"),
            await http.post("/a2a", json=send_rpc),
        ):
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
    async with a2a_hub.http(token="reader") as http:
        rpc = await http.post("/a2a/greet", json=send_rpc)
        rest = await http.post("/a2a/greet/message:send", json=send_rpc["params"])
        listed = await http.get("/a2a/greet/tasks")
    assert rpc.status_code == 403 and rpc.json()["id"] == 7 and "'start' scope" in rpc.json()["error"]["message"]
    assert rest.status_code == 403 and rest.json()["error"]["status"] == "PERMISSION_DENIED"
    assert listed.status_code == 200 and listed.json()["tasks"] == []
    assert a2a_hub.engine.instances(process_id="greet") == []
