"""Camunda's SDK against a task whose listeners hold the change: the call answers when they have run.

As Camunda's gateway does, ``complete_user_task`` (and assignment, update)
returns only after the task's listener jobs completed: normally once the
change is applied, with a conflict naming the listener's reason when one
denied it. The listener jobs are worked with the same SDK, as a Camunda
listener worker would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from camunda_orchestration_sdk import CamundaClient
from camunda_orchestration_sdk.errors import ConflictError, UnexpectedStatus
from camunda_orchestration_sdk.models import (
    CancelProcessInstanceRequest,
    JobActivationRequest,
    JobCompletionRequest,
    ProcessCreationById,
    SetVariableRequest,
    UserTaskAssignmentRequest,
    UserTaskCompletionRequest,
    UserTaskSearchQuery,
)

from tests.hub.harness import LiveHub, serve_hub
from tests.hub.test_camunda_v2 import sdk

LISTENERS = Path(__file__).resolve().parents[1] / "data" / "listeners"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("camunda-v2-listeners")) as hub:
        with sdk(hub) as client:
            client.deploy_resources_from_files([LISTENERS / "task_listeners.bpmn", LISTENERS / "assigning.bpmn"])
        yield hub


def _work(client: CamundaClient, job_type: str, result: dict[str, Any] | None = None) -> None:
    """Activate the one job of ``job_type`` (waiting for it) and complete it, with a listener's ``result``."""
    activated = client.activate_jobs(
        data=JobActivationRequest(type_=job_type, timeout=30_000, max_jobs_to_activate=1, request_timeout=20_000)
    )
    [job] = activated.jobs
    body = {"variables": {}} if result is None else {"result": {"type": "userTask", **result}}
    client.complete_job(job_key=job.job_key, data=JobCompletionRequest.from_dict(body))


def _in_background(call: Callable[[], None]) -> Callable[[], BaseException | None]:
    """Run ``call`` in a thread (it blocks while the listeners run); the returned join gives what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test thread
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> BaseException | None:
        thread.join(timeout=60)
        assert not thread.is_alive(), "the SDK call did not return after the listeners ran"
        return raised[0] if raised else None

    return join


def _assigned_review(client: CamundaClient, listener_worker: CamundaClient) -> int:
    """An ``assigning`` review started for bob, its creating and assigning listeners run: the instance's key."""
    started = client.create_process_instance(
        data=ProcessCreationById.from_dict({"processDefinitionId": "assigning", "variables": {"firstReviewer": "bob"}}))
    for job_type in ("route-review", "check-reviewer", "notify-reviewer"):
        _work(listener_worker, job_type)
    return int(started.process_instance_key)


def _task(client: CamundaClient, instance: int) -> Any:
    [task] = client.search_user_tasks(
        data=UserTaskSearchQuery.from_dict({"filter": {"processInstanceKey": instance}})
    ).items
    return task


def test_a_completion_answers_after_the_listeners_a_conflict_with_the_reason_when_one_denies(live: LiveHub) -> None:
    with sdk(live) as client, sdk(live) as listener_worker:
        started = client.create_process_instance(data=ProcessCreationById(process_definition_id="task_listeners"))
        instance = started.process_instance_key
        _work(listener_worker, "prepare-approval")
        _work(listener_worker, "route-approval")
        task = _task(client, instance)

        def complete() -> None:
            client.complete_user_task(user_task_key=task.user_task_key,
                                      data=UserTaskCompletionRequest.from_dict({"variables": {"approved": True}}))

        denied = _in_background(complete)
        _work(listener_worker, "validate-approval", {"denied": True, "deniedReason": "needs a second approver"})
        refused = denied()
        assert isinstance(refused, ConflictError), refused
        problem = json.loads(refused.content)
        assert problem["title"] == "INVALID_STATE" and problem["status"] == 409
        assert "was denied by Task Listener" in problem["detail"] and "needs a second approver" in problem["detail"]
        assert _task(client, instance).state == "CREATED"

        allowed = _in_background(complete)
        _work(listener_worker, "validate-approval", {"corrections": {"assignee": "carol"}})
        _work(listener_worker, "audit-approval")
        assert allowed() is None
        done = _task(client, instance)
        assert (done.state, done.assignee) == ("COMPLETED", "carol")


def test_an_assignment_answers_after_its_listeners_and_a_task_without_them_at_once(live: LiveHub) -> None:
    with sdk(live) as client, sdk(live) as listener_worker:
        instance = _assigned_review(client, listener_worker)
        task = _task(client, instance)
        assert task.assignee == "bob"

        assigned = _in_background(lambda: client.assign_user_task(
            user_task_key=task.user_task_key, data=UserTaskAssignmentRequest(assignee="carol")))
        _work(listener_worker, "check-reviewer", {"denied": True, "deniedReason": "carol is on leave"})
        refused = assigned()
        assert isinstance(refused, ConflictError) and "carol is on leave" in json.loads(refused.content)["detail"]
        assert _task(client, instance).assignee == "bob"

        assigned = _in_background(lambda: client.assign_user_task(
            user_task_key=task.user_task_key, data=UserTaskAssignmentRequest(assignee="dan")))
        _work(listener_worker, "check-reviewer")
        _work(listener_worker, "notify-reviewer")
        assert assigned() is None
        assert _task(client, instance).assignee == "dan"


def test_variables_set_at_a_user_task_s_element_answer_after_its_updating_listeners(live: LiveHub) -> None:
    """Camunda 8.8: set variables on a user task's element instance is an update its listeners may deny."""
    with sdk(live) as client, sdk(live) as listener_worker:
        instance = _assigned_review(client, listener_worker)
        element = _task(client, instance).element_instance_key

        def set_draft(draft: str) -> Callable[[], None]:
            return lambda: client.create_element_instance_variables(
                element_instance_key=element,
                data=SetVariableRequest.from_dict({"variables": {"draft": draft}, "local": True}))

        denied = _in_background(set_draft("v1"))
        _work(listener_worker, "audit-review-change", {"denied": True, "deniedReason": "the review is frozen"})
        refused = denied()
        # Camunda's gateway answers a rejected command 409 INVALID_STATE; the SDK lists no 409 for this endpoint
        assert isinstance(refused, UnexpectedStatus) and refused.status_code == 409
        assert "the review is frozen" in json.loads(refused.content)["detail"]
        allowed = _in_background(set_draft("v2"))
        _work(listener_worker, "audit-review-change")
        assert allowed() is None
        with live.client() as http:
            trail = http.get(f"/api/v1/process-instances/{instance}/journal").json()["items"]
        updated = [e["data"]["variables"] for e in trail if e["type"] == "variables_updated"
                   and "draft" in e["data"]["variables"]]
        assert updated == [{"draft": "v2"}]  # the denied draft was never written


def test_a_cancellation_answers_after_the_canceling_listeners_of_the_instance_s_task(live: LiveHub) -> None:
    with sdk(live) as client, sdk(live) as listener_worker:
        instance = _assigned_review(client, listener_worker)
        canceled = _in_background(lambda: client.cancel_process_instance(
            process_instance_key=instance, data=CancelProcessInstanceRequest()))
        activated = listener_worker.activate_jobs(
            data=JobActivationRequest(type_="withdraw-review", timeout=30_000, max_jobs_to_activate=1,
                                      request_timeout=20_000))
        [job] = activated.jobs
        assert str(job.listener_event_type) == "CANCELING" and str(job.kind) == "TASK_LISTENER"
        with live.client() as http:  # meanwhile the instance is not over, and says where it is
            canceling = http.get(f"/api/v1/process-instances/{instance}").json()
        assert canceling["state"] == "active"
        assert [(e["elementId"], e["state"]) for e in canceling["activeElements"]] == [("Review", "terminating")]
        listener_worker.complete_job(job_key=job.job_key, data=JobCompletionRequest.from_dict({"variables": {}}))
        assert canceled() is None
        task = _task(client, instance)
        assert task.state == "CANCELED"
        with live.client() as http:
            assert http.get(f"/api/v1/process-instances/{instance}").json()["state"] == "terminated"
