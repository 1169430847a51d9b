"""A task's ``history``: the messages exchanged on it, in order, kept across a restart (A2A 1.0, 3.2.4).

A live hub on 127.0.0.1 and the a2a-sdk client over real HTTP, on JSON-RPC and
HTTP+JSON: ``confirm.bpmn`` asks its caller to confirm, so its task goes
input-required and a follow-up message answers it. The history then holds the
message that started the task, the agent's question and the answer;
``historyLength`` trims it to the last messages (0: none), on GetTask,
SendMessage and ListTasks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from a2a.types import GetTaskRequest, ListTasksRequest, Role, TaskState
from a2a.utils.constants import TransportProtocol
from google.protobuf.json_format import MessageToDict

from registry import generate_token
from tests.hub.test_a2a_message_dedup import WAITING, agent, deploy_confirm, hub_on
from tests.protocols.a2a.harness import message, send

pytestmark = pytest.mark.anyio
BINDINGS = [TransportProtocol.JSONRPC.value, TransportProtocol.HTTP_JSON.value]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_task_shows_the_messages_exchanged_in_order_and_history_length_trims_them(
    tmp_path: Path, binding: str
) -> None:
    db, admin = tmp_path / "hub.db", generate_token()
    first, answer = message(text="please", data=WAITING), message(data={"confirmed": True})
    with hub_on(db, admin) as hub:
        deploy_confirm(hub)
        token = hub.token("start", "read")
        async with agent(hub, token, binding=binding) as client:
            task = await send(client, first)
            assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
            question = task.status.message
            [started] = task.history  # the question is the status until it is answered
            assert (started.message_id, started.role) == (first.message_id, Role.ROLE_USER)
            assert (started.task_id, started.context_id) == (task.id, task.context_id)
            answer.task_id = task.id
            done = await send(client, answer, history_length=0)
            assert done.status.state == TaskState.TASK_STATE_COMPLETED and not done.history
            full = await client.get_task(GetTaskRequest(id=task.id))
            last = await client.get_task(GetTaskRequest(id=task.id, history_length=1))
            none = await client.get_task(GetTaskRequest(id=task.id, history_length=0))
            listed = await client.list_tasks(ListTasksRequest(history_length=2))
            unasked = await client.list_tasks(ListTasksRequest())
    assert [m.message_id for m in full.history] == [first.message_id, question.message_id, answer.message_id]
    assert [m.role for m in full.history] == [Role.ROLE_USER, Role.ROLE_AGENT, Role.ROLE_USER]
    assert full.history[0].parts[0].text == "please"
    assert MessageToDict(full.history[0].parts[1].data) == WAITING
    assert full.history[1] == question  # the question as the caller saw it in the status
    assert MessageToDict(full.history[2].parts[0].data) == {"confirmed": True}
    assert {m.task_id for m in full.history} == {task.id}
    assert [m.message_id for m in last.history] == [answer.message_id]
    assert not none.history
    [listed_task] = listed.tasks
    assert [m.message_id for m in listed_task.history] == [question.message_id, answer.message_id]
    assert not unasked.tasks[0].history  # a list shows history only when asked for
    with hub_on(db, admin) as restarted:
        async with agent(restarted, token, binding=binding) as client:
            again = await client.get_task(GetTaskRequest(id=task.id))
    assert list(again.history) == list(full.history)


async def test_a_message_sent_again_is_one_entry_of_the_history(tmp_path: Path) -> None:
    with hub_on(tmp_path / "hub.db", generate_token()) as hub:
        deploy_confirm(hub)
        msg = message(data=WAITING)
        async with agent(hub, hub.token("start", "read")) as client:
            first = await send(client, msg)
            again = await send(client, msg)  # deduplicated: the same task, nothing started or kept again
            task = await client.get_task(GetTaskRequest(id=first.id))
    assert again.id == first.id
    assert [m.message_id for m in task.history] == [msg.message_id]


async def test_a_follow_up_reusing_the_first_messages_id_is_new_and_a_resent_follow_up_is_not(tmp_path: Path) -> None:
    """The A2A TCK sends every follow-up of a task with the id of the message that started it: another message.
    A follow-up sent again (same id, same parts) is the same message: nothing is completed twice."""
    with hub_on(tmp_path / "hub.db", generate_token()) as hub:
        deploy_confirm(hub)
        first = message(data=WAITING)
        async with agent(hub, hub.token("start", "read")) as client:
            task = await send(client, first)
            reused = message(data={"confirmed": True}, task_id=task.id)
            reused.message_id = first.message_id
            done = await send(client, reused)
            again = await send(client, reused)
            kept = await client.get_task(GetTaskRequest(id=task.id))
    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert done.id == task.id and done.status.state == TaskState.TASK_STATE_COMPLETED
    assert again.id == task.id and again.status.state == TaskState.TASK_STATE_COMPLETED  # not refused: the same
    assert [m.role for m in kept.history] == [Role.ROLE_USER, Role.ROLE_AGENT, Role.ROLE_USER]
    assert {m.message_id for m in kept.history if m.role == Role.ROLE_USER} == {first.message_id}
