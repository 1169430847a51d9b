"""Camunda 8.8's listeners and conditional events, on the in-memory store and SQLite.

Execution listeners (start, end) and task listeners (creating, completing) are jobs
the element waits for; their jobs say what they are (``kind``,
``listener_event``). A completing listener's result denies the completion
(the task stays open and says why) or corrects the task. What is not run is
refused at deployment or warned about, never skipped without a word. The
scenarios under tests/data/scenarios (``listeners_*``, ``event_conditional_*``)
cover the flow; this module covers what a scenario cannot see.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.exceptions import Conflict, DeploymentError
from engine.ports import ManualClock
from engine.views import ActivatedJob

DATA = Path(__file__).resolve().parents[2] / "data" / "listeners"


@pytest.fixture(params=["memory", "sqlite"])
def eng(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'agenthub.db'}"
    opened = Engine.open(url, clock=ManualClock())
    yield opened
    opened.close()


def deploy(engine: Engine, name: str) -> None:
    engine.deploy([(name, (DATA / name).read_bytes())])


def one_job(engine: Engine, job_type: str) -> ActivatedJob:
    [job] = engine.activate_jobs([job_type], "test")
    return job


def complete(engine: Engine, job: ActivatedJob, variables: dict[str, Any] | None = None,
             result: dict[str, Any] | None = None) -> None:
    engine.complete_job(job.key, variables or {}, worker=job.worker, lock_version=job.lock_version, result=result)


def test_a_start_listener_job_says_what_it_is_and_the_element_waits_for_it(eng: Engine) -> None:
    deploy(eng, "task_listeners.bpmn")
    key = eng.start("task_listeners", {}).key
    assert eng.user_tasks(instance=key) == []  # the user task is not created before its start listener ran
    job = one_job(eng, "prepare-approval")
    assert (job.kind, job.listener_event, job.retries) == ("EXECUTION_LISTENER", "START", 2)
    complete(eng, job, {"prepared": True})
    [task] = eng.user_tasks(instance=key)
    assert task.assignee == "bob" and eng.instance(key).variables["prepared"] is True


def test_a_creating_listener_runs_once_the_task_exists_and_may_correct_its_assignee(eng: Engine) -> None:
    deploy(eng, "task_listeners.bpmn")
    key = eng.start("task_listeners", {}).key
    complete(eng, one_job(eng, "prepare-approval"))
    [task] = eng.user_tasks(instance=key)
    assert task.to_json()["listener"] == {"state": "creating"}
    with pytest.raises(Conflict, match="still being created"):
        eng.complete_user_task(task.key, {})
    job = one_job(eng, "route-approval")
    assert (job.kind, job.listener_event) == ("TASK_LISTENER", "CREATING")
    complete(eng, job, result={"corrections": {"assignee": "dave"}})
    [created] = eng.user_tasks(instance=key)
    assert created.assignee == "dave"
    assert created.to_json()["listener"] == {"state": "created", "corrections": {"assignee": "dave"}}


def _waiting_task(engine: Engine) -> tuple[int, int]:
    deploy(engine, "task_listeners.bpmn")
    key = engine.start("task_listeners", {}).key
    complete(engine, one_job(engine, "prepare-approval"))
    complete(engine, one_job(engine, "route-approval"))
    [task] = engine.user_tasks(instance=key)
    return key, task.key


def test_a_completing_listener_denies_the_completion_and_the_task_stays_open_saying_why(eng: Engine) -> None:
    key, task = _waiting_task(eng)
    eng.complete_user_task(task, {"approved": True})
    [pending] = eng.user_tasks(instance=key)
    assert pending.to_json()["listener"] == {"state": "completing"}
    job = one_job(eng, "validate-approval")
    assert (job.kind, job.listener_event, job.headers["agenthub:userTaskKey"]) == ("TASK_LISTENER", "COMPLETING",
                                                                                   str(task))
    assert "approved" not in job.variables  # the completion's variables are written only when it completes
    with pytest.raises(Conflict, match="already being completed"):
        eng.complete_user_task(task, {"approved": False})
    complete(eng, job, result={"denied": True, "deniedReason": "the amount needs a second approver"})
    [denied] = eng.user_tasks(instance=key)
    assert denied.to_json()["listener"] == {"state": "denied", "deniedReason": "the amount needs a second approver"}
    assert eng.instance(key).state == "active" and "approved" not in eng.instance(key).variables
    assert eng.activate_jobs(["audit-approval"], "test") == []  # a denial ends the round: the next listener waits
    assert "user_task_denied" in [e["type"] for e in eng.journal(key)]


def test_completing_listeners_run_in_order_and_a_correction_applies_before_the_task_completes(eng: Engine) -> None:
    key, task = _waiting_task(eng)
    eng.complete_user_task(task, {"approved": True})
    complete(eng, one_job(eng, "validate-approval"), {"validated": True},
             result={"corrections": {"assignee": "carol", "dueDate": "2030-01-31T09:00:00Z", "priority": 80}})
    [corrected] = eng.user_tasks(instance=key)
    assert corrected.assignee == "carol" and corrected.due_date == "2030-01-31T09:00:00Z"
    complete(eng, one_job(eng, "audit-approval"))
    view = eng.instance(key)
    assert view.state == "completed" and view.variables["approved"] is True and view.variables["validated"] is True
    [done] = eng.user_tasks(instance=key, state="completed")
    assert done.assignee == "carol"


def test_a_failed_listener_job_is_an_incident_whose_resolution_runs_it_again(eng: Engine) -> None:
    key, task = _waiting_task(eng)
    eng.complete_user_task(task, {})
    job = one_job(eng, "validate-approval")
    eng.fail_job(job.key, "validation service down", retries=0, worker=job.worker, lock_version=job.lock_version)
    [incident] = eng.incidents(instance=key)
    assert incident.element_id == "Approve" and "validation service down" in incident.message
    eng.resolve_incident(incident.key)
    complete(eng, one_job(eng, "validate-approval"))
    complete(eng, one_job(eng, "audit-approval"))
    assert eng.instance(key).state == "completed"


def test_what_the_engine_does_not_run_is_refused_with_each_reason(eng: Engine) -> None:
    with pytest.raises(DeploymentError) as refused:
        deploy(eng, "not_run.bpmn")
    messages = [p.message for p in refused.value.problems]
    assert any("eventType 'take' is not one of end, start" in m for m in messages)
    assert any("zeebe:executionListener has no type" in m for m in messages)
    assert sum("zeebe:taskListeners belong on a user task" in m for m in messages) == 2  # the task's, the process's
    with pytest.raises(DeploymentError, match="conditional start event at the process level"):
        deploy(eng, "conditional_start.bpmn")


def test_a_condition_that_cannot_be_evaluated_is_an_incident_and_resolving_it_evaluates_again(eng: Engine) -> None:
    deploy(eng, "conditional_failing.bpmn")
    key = eng.start("conditional_failing", {"level": "high"}).key
    [incident] = eng.incidents(instance=key)
    assert incident.element_id == "Ready" and "to be a boolean" in incident.message
    eng.set_variables(key, {"level": True}, local=False)
    eng.resolve_incident(incident.key)
    assert eng.instance(key).state == "completed"
