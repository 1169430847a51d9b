"""SendMessage starts an instance (or completes the caller's user task); the task follows the instance."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from a2a.types import GetTaskRequest, InvalidParamsError, Message, Part, Role, TaskState, UnsupportedOperationError
from google.protobuf.json_format import MessageToDict

from tests.protocols.a2a.harness import BINDINGS, artifact_data, message, send

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_message_to_a_straight_through_process_returns_the_completed_task_with_its_output(
    a2a_hub: Any, binding: str
) -> None:
    async with a2a_hub.client("greet", binding=binding) as client:
        task = await send(client, message(data={"name": "Ann"}))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert task.context_id == task.id  # no contextId sent: the instance id
    output = artifact_data(task)
    assert output["greeting"] == "Hello, Ann"
    assert output["caller"] == "agent"
    view = a2a_hub.engine.instance(int(task.id))
    assert view.process_id == "greet" and view.state == "completed"


async def test_text_goes_to_the_first_declared_string_input_and_the_client_context_is_kept(a2a_hub: Any) -> None:
    async with a2a_hub.client("greet") as client:
        task = await send(client, message(text="Bo", context_id="ctx-1"))
        again = await client.get_task(GetTaskRequest(id=task.id))
    assert artifact_data(task)["greeting"] == "Hello, Bo"
    assert "a2aContextId" not in artifact_data(task)
    assert task.context_id == again.context_id == "ctx-1"


async def test_input_that_breaks_the_declared_inputs_starts_nothing(a2a_hub: Any) -> None:
    async with a2a_hub.client("greet") as client:
        with pytest.raises(InvalidParamsError, match="missing required argument 'name'"):
            await send(client, message(data={"nom": "Ann"}))
        with pytest.raises(InvalidParamsError, match="must be a JSON object"):
            await send(client, _list_data_message())
    assert a2a_hub.engine.instances(process_id="greet") == []


def _list_data_message() -> Message:
    part = Part()
    part.data.list_value.values.add().string_value = "Ann"
    return Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=[part])


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_user_task_for_the_caller_is_input_required_and_a_follow_up_message_completes_it(
    a2a_hub: Any, binding: str
) -> None:
    async with a2a_hub.client("confirm", binding=binding) as client:
        task = await send(client, message(data={"order": "o-1"}))
        assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        status = task.status.message
        assert "Confirm the order" in status.parts[0].text and "confirm-order" in status.parts[0].text
        assert MessageToDict(status.parts[1].data)["userTask"]["formKey"] == "confirm-order"
        done = await send(client, message(data={"confirmed": True}, task_id=task.id, context_id=task.context_id))
    assert done.id == task.id
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_data(done)["outcome"] == "confirmed"


async def test_a_follow_up_to_a_finished_task_or_one_that_does_not_wait_for_the_caller_is_refused(
    a2a_hub: Any,
) -> None:
    async with a2a_hub.client("greet") as client:
        finished = await send(client, message(data={"name": "Ann"}))
        with pytest.raises(UnsupportedOperationError, match="completed and takes no more messages"):
            await send(client, message(data={"x": 1}, task_id=finished.id))
    async with a2a_hub.client("review") as client:
        working = await send(client, message(data={"doc": "d"}))
        assert working.status.state == TaskState.TASK_STATE_WORKING
        with pytest.raises(UnsupportedOperationError, match="does not wait for your input"):
            await send(client, message(data={"x": 1}, task_id=working.id))


async def test_a_process_waiting_on_someone_else_is_working_with_a_message_saying_on_whom(a2a_hub: Any) -> None:
    async with a2a_hub.client("review") as client:
        task = await send(client, message(data={"doc": "d"}))
    assert task.status.state == TaskState.TASK_STATE_WORKING
    assert "Review the document" in task.status.message.parts[0].text
    assert "reviewers" in task.status.message.parts[0].text


async def test_an_incident_fails_the_task_with_the_incident_message(a2a_hub: Any) -> None:
    async with a2a_hub.client("route") as client:
        task = await send(client, message(data={"score": 5}))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    assert "no outgoing sequence flow of gateway 'Route'" in task.status.message.parts[0].text


async def test_return_immediately_answers_right_after_the_start(a2a_hub: Any) -> None:
    async with a2a_hub.client("review") as client:
        task = await send(client, message(data={"doc": "d"}), return_immediately=True)
    assert task.status.state == TaskState.TASK_STATE_WORKING


async def test_the_hub_endpoint_routes_by_skill_id_and_names_the_skills_when_there_is_none(a2a_hub: Any) -> None:
    async with a2a_hub.client(None) as client:
        routed = message(data={"name": "Cy"})
        routed.metadata.update({"skillId": "greet"})
        task = await send(client, routed)
        assert artifact_data(task)["greeting"] == "Hello, Cy"
        with pytest.raises(InvalidParamsError, match=r"metadata\.skillId; skills: confirm, greet, review, route"):
            await send(client, message(data={"name": "Cy"}))
        unknown = message(data={"name": "Cy"})
        unknown.metadata.update({"skillId": "internal"})
        with pytest.raises(InvalidParamsError, match="unknown skill 'internal'"):
            await send(client, unknown)
