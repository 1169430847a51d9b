"""Camunda 8.8's assigning, updating (attributes and the task's own variables) and canceling task listeners,
and execution listeners on a multi-instance body, on the in-memory store and SQLite.

Each event's listeners are jobs the task waits for, one at a time; an
assigning listener may deny the assignment (the old assignee stays) or
correct it; a failed listener job is an incident whose resolution runs it
again. test_listeners.py covers creating and completing listeners.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.exceptions import Conflict, InvalidInput
from engine.ports import ManualClock
from engine.views import ActivatedJob

DATA = Path(__file__).resolve().parents[2] / "data" / "listeners"


@pytest.fixture(params=["memory", "sqlite"])
def eng(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'agenthub.db'}"
    opened = Engine.open(url, clock=ManualClock())
    yield opened
    opened.close()


def one_job(engine: Engine, job_type: str) -> ActivatedJob:
    [job] = engine.activate_jobs([job_type], "test")
    return job


def complete(engine: Engine, job: ActivatedJob, variables: dict[str, Any] | None = None,
             result: dict[str, Any] | None = None) -> None:
    engine.complete_job(job.key, variables or {}, worker=job.worker, lock_version=job.lock_version, result=result)


def _review(engine: Engine, first: str = "bob") -> tuple[int, int]:
    """A started review whose creating and initial assigning listeners have run: (instance, task)."""
    engine.deploy([("assigning.bpmn", (DATA / "assigning.bpmn").read_bytes())])
    key = engine.start("assigning", {"firstReviewer": first}).key
    complete(engine, one_job(engine, "route-review"))
    complete(engine, one_job(engine, "check-reviewer"))
    complete(engine, one_job(engine, "notify-reviewer"))
    [task] = engine.user_tasks(instance=key)
    return key, task.key


def test_a_task_created_with_an_assignee_runs_creating_then_assigning_listeners_before_it_is_assigned(
        eng: Engine) -> None:
    [deployed] = eng.deploy([("assigning.bpmn", (DATA / "assigning.bpmn").read_bytes())])
    assert deployed.warnings == ()  # every task listener event runs, canceling included
    key = eng.start("assigning", {"firstReviewer": "bob"}).key
    assert eng.activate_jobs(["check-reviewer"], "test") == []  # the creating listener runs first
    complete(eng, one_job(eng, "route-review"))
    [task] = eng.user_tasks(instance=key)
    assert task.assignee is None and task.to_json()["listener"] == {"state": "assigning", "assignee": "bob"}
    job = one_job(eng, "check-reviewer")
    assert (job.kind, job.listener_event, job.headers["agenthub:assignee"]) == ("TASK_LISTENER", "ASSIGNING", "bob")
    complete(eng, job)
    complete(eng, one_job(eng, "notify-reviewer"))
    [assigned] = eng.user_tasks(instance=key)
    assert assigned.assignee == "bob" and assigned.to_json()["listener"] == {"state": "assigned", "assignee": "bob"}


def test_an_assignee_a_creating_listener_gives_goes_through_the_assigning_listeners(eng: Engine) -> None:
    eng.deploy([("assigning.bpmn", (DATA / "assigning.bpmn").read_bytes())])
    key = eng.start("assigning", {"firstReviewer": None}).key
    complete(eng, one_job(eng, "route-review"), result={"corrections": {"assignee": "dave"}})
    [task] = eng.user_tasks(instance=key)
    assert task.assignee is None and one_job(eng, "check-reviewer").headers["agenthub:assignee"] == "dave"


def test_an_assignment_waits_for_its_listeners_and_a_denial_keeps_the_old_assignee(eng: Engine) -> None:
    key, task = _review(eng)
    eng.claim_user_task(task, "carol")
    [held] = eng.user_tasks(instance=key)
    assert held.assignee == "bob" and held.to_json()["listener"] == {"state": "assigning", "assignee": "carol"}
    with pytest.raises(Conflict, match="is being assigned"):
        eng.claim_user_task(task, "dave")
    with pytest.raises(Conflict, match="being assigned"):
        eng.complete_user_task(task, {})
    complete(eng, one_job(eng, "check-reviewer"), result={"denied": True, "deniedReason": "carol is on leave"})
    [denied] = eng.user_tasks(instance=key)
    assert denied.assignee == "bob"
    assert denied.to_json()["listener"] == {"state": "denied", "event": "assigning",
                                            "deniedReason": "carol is on leave"}
    assert eng.activate_jobs(["notify-reviewer"], "test") == []  # a denial ends the round
    eng.claim_user_task(task, None)  # a new round: unassigning runs the listeners again, from the first
    assert one_job(eng, "check-reviewer").headers["agenthub:assignee"] == ""


def test_an_assigning_listener_corrects_the_assignee_being_given_and_the_task_s_dates(eng: Engine) -> None:
    key, task = _review(eng)
    eng.claim_user_task(task, "carol")
    complete(eng, one_job(eng, "check-reviewer"),
             result={"corrections": {"assignee": "erin", "dueDate": "2030-02-01T10:00:00Z"}})
    job = one_job(eng, "notify-reviewer")
    assert job.headers["agenthub:assignee"] == "erin"  # the next listener sees the corrected assignee
    complete(eng, job, {"notified": True})
    [assigned] = eng.user_tasks(instance=key)
    assert (assigned.assignee, assigned.due_date) == ("erin", "2030-02-01T10:00:00Z")
    claimed = [e for e in eng.journal(key) if e["type"] == "user_task_claimed"]
    assert claimed[-1]["data"]["assignee"] == "erin" and eng.instance(key).variables["notified"] is True


def test_a_failed_assigning_listener_is_an_incident_whose_resolution_runs_it_again(eng: Engine) -> None:
    key, task = _review(eng)
    eng.claim_user_task(task, "carol")
    job = one_job(eng, "check-reviewer")
    eng.fail_job(job.key, "directory down", retries=0, worker=job.worker, lock_version=job.lock_version)
    [incident] = eng.incidents(instance=key)
    assert incident.element_id == "Review" and "directory down" in incident.message
    assert eng.user_task(task).assignee == "bob"
    eng.resolve_incident(incident.key)
    complete(eng, one_job(eng, "check-reviewer"))
    complete(eng, one_job(eng, "notify-reviewer"))
    assert eng.user_task(task).assignee == "carol"


def test_an_update_waits_for_its_updating_listeners_and_a_correction_wins_over_the_update(eng: Engine) -> None:
    key, task = _review(eng)
    eng.update_user_task(task, {"priority": 90, "candidateGroups": ["claims"], "followUpDate": "2030-01-15T08:00:00Z"})
    held = eng.user_task(task)
    assert (held.priority, held.candidate_groups) == (50, [])
    assert held.to_json()["listener"] == {"state": "updating", "changes": ["candidateGroups", "followUpDate",
                                                                          "priority"]}
    with pytest.raises(Conflict, match="being updated"):
        eng.claim_user_task(task, "carol")
    job = one_job(eng, "audit-review-change")
    assert (job.kind, job.listener_event) == ("TASK_LISTENER", "UPDATING")
    complete(eng, job, result={"corrections": {"priority": 70}})
    updated = eng.user_task(task)
    assert (updated.priority, updated.candidate_groups, updated.follow_up_date) == (70, ["claims"],
                                                                                   "2030-01-15T08:00:00Z")
    assert updated.to_json()["listener"]["state"] == "updated"
    assert [t.key for t in eng.user_tasks(instance=key, candidate_group="claims")] == [task]
    assert "user_task_updated" in [e["type"] for e in eng.journal(key)]


def test_an_updating_listener_denies_the_update_and_a_wrong_change_is_refused_before_any_runs(eng: Engine) -> None:
    _, task = _review(eng)
    with pytest.raises(InvalidInput, match="priority"):
        eng.update_user_task(task, {"priority": 200})
    with pytest.raises(InvalidInput, match="cannot change assignee"):
        eng.update_user_task(task, {"assignee": "carol"})
    eng.update_user_task(task, {"dueDate": "2030-03-01T12:00:00Z"})
    complete(eng, one_job(eng, "audit-review-change"), result={"denied": True, "deniedReason": "frozen"})
    denied = eng.user_task(task)
    assert denied.due_date is None
    assert denied.to_json()["listener"] == {"state": "denied", "event": "updating", "deniedReason": "frozen"}


def test_a_task_s_own_variables_wait_for_its_updating_listeners_and_propagated_ones_do_not(eng: Engine) -> None:
    key, task = _review(eng)
    eng.set_user_task_variables(task, {"draft": "v1"})
    assert eng.user_task(task).to_json()["listener"] == {"state": "updating", "changes": ["variables"]}
    with pytest.raises(Conflict, match="being updated"):
        eng.set_user_task_variables(task, {"draft": "v2"})
    job = one_job(eng, "audit-review-change")
    assert "draft" not in job.variables
    complete(eng, job, {"audited": True})
    [scope] = [e for e in eng.instance(key).active_elements if e["elementId"] == "Review"]
    eng.set_variables(key, {"note": "to the process"}, scope=scope["elementInstance"], local=False)  # not held
    assert eng.instance(key).variables["note"] == "to the process" and "draft" not in eng.instance(key).variables
    eng.update_user_task(task, {"priority": 60})
    assert one_job(eng, "audit-review-change").variables["draft"] == "v1"  # the task's scope has it now


def test_execution_listeners_run_on_the_multi_instance_body_and_on_each_inner_instance(eng: Engine) -> None:
    eng.deploy([("multi_instance_body.bpmn", (DATA / "multi_instance_body.bpmn").read_bytes())])
    key = eng.start("multi_instance_body", {}).key
    body_start = one_job(eng, "count-parcels")  # before the input collection is read: it may provide it
    assert (body_start.kind, body_start.listener_event) == ("EXECUTION_LISTENER", "START")
    complete(eng, body_start, {"parcels": ["p1", "p2"]})
    inner_starts = eng.activate_jobs(["count-parcels"], "test")
    assert sorted(job.variables["parcel"] for job in inner_starts) == ["p1", "p2"]
    for job in inner_starts:
        complete(eng, job)
    for job in eng.activate_jobs(["ship-parcel"], "test"):
        complete(eng, job)
    inner_ends = eng.activate_jobs(["close-shipment"], "test")
    assert len(inner_ends) == 2
    for job in inner_ends:
        complete(eng, job)
    body_end = one_job(eng, "close-shipment")
    assert body_end.listener_event == "END" and body_end.variables["labels"] == ["label-p1", "label-p2"]
    assert eng.instance(key).state == "active"
    complete(eng, body_end)
    assert eng.instance(key).state == "completed"


# --- canceling: a canceled instance or an interrupting event ends the task after its canceling listeners ----------


def _journal_types(engine: Engine, key: int) -> list[str]:
    return [e["type"] for e in engine.journal(key)]


def test_a_canceled_instance_ends_after_its_task_s_canceling_listener_ran(eng: Engine) -> None:
    key, task = _review(eng)
    canceling = eng.cancel(key)
    assert canceling.state == "active"  # not over: it waits for the listener's worker, and says so
    [review] = canceling.active_elements
    assert (review["elementId"], review["state"], review["waitingFor"]["jobType"]) == (
        "Review", "terminating", "withdraw-review")
    view = eng.user_task(task)  # as Camunda's CANCELING: shown, and nobody can work it any more
    assert view.state == "created" and view.to_json()["listener"] == {"state": "canceling"}
    with pytest.raises(Conflict, match="being canceled: its canceling listeners are running"):
        eng.complete_user_task(task, {})
    assert eng.cancel(key).state == "active"  # canceling twice changes nothing
    job = one_job(eng, "withdraw-review")
    assert (job.headers["agenthub:listenerEventType"], job.headers["agenthub:userTaskKey"]) == ("CANCELING", str(task))
    complete(eng, job, {"withdrawn": True})
    assert eng.instance(key).state == "terminated"
    ended = eng.user_task(task)
    assert ended.state == "canceled" and ended.to_json()["listener"] == {"state": "canceled"}
    types = _journal_types(eng, key)
    assert types.index("user_task_canceling") < types.index("element_terminated") < types.index("instance_terminated")


def test_an_interrupting_boundary_event_leaves_after_the_canceling_listeners_of_the_task_inside(eng: Engine) -> None:
    eng.deploy([("canceling_boundary.bpmn", (DATA / "canceling_boundary.bpmn").read_bytes())])
    key = eng.start("canceling_boundary", {"claimId": "c7"}).key
    [task] = eng.user_tasks(instance=key)
    assert eng.publish_message("recall", "c7") is not None
    assert eng.activate_jobs(["archive-recall"], "test") == []  # the token waits for the listeners
    states = {e["elementId"]: e.get("state") for e in eng.instance(key).active_elements}
    assert states.get("Review") == "terminating" and states.get("Handling") == "terminating"
    complete(eng, one_job(eng, "withdraw-review"))
    assert eng.activate_jobs(["archive-recall"], "test") == []
    second = one_job(eng, "notify-c7")  # the second listener's type is an expression
    eng.fail_job(second.key, "the mail server is down", retries=0, worker=second.worker,
                 lock_version=second.lock_version)
    [incident] = eng.incidents(instance=key)
    assert "the mail server is down" in incident.message
    eng.resolve_incident(incident.key)
    complete(eng, one_job(eng, "notify-c7"))
    complete(eng, one_job(eng, "archive-recall"))
    assert eng.instance(key).state == "completed"
    assert eng.user_task(task.key).state == "canceled"
    types = _journal_types(eng, key)
    assert types.count("user_task_canceling") == 1


def test_an_interrupting_event_subprocess_runs_beside_the_canceling_listeners_and_the_instance_waits_for_both(
        eng: Engine) -> None:
    eng.deploy([("canceling_event_subprocess.bpmn", (DATA / "canceling_event_subprocess.bpmn").read_bytes())])
    key = eng.start("canceling_event_subprocess", {"claimId": "c9"}).key
    eng.publish_message("escalate", "c9")
    complete(eng, one_job(eng, "escalate-claim"))  # the event subprocess started at once and is done
    assert eng.instance(key).state == "active"  # the task's canceling listener still runs
    complete(eng, one_job(eng, "withdraw-review"))
    assert eng.instance(key).state == "completed"
    types = _journal_types(eng, key)
    assert types.index("user_task_canceling") < types.index("instance_completed")


def test_an_instance_canceled_while_a_boundary_event_waits_for_canceling_listeners_ends_without_its_token(
        eng: Engine) -> None:
    eng.deploy([("canceling_boundary.bpmn", (DATA / "canceling_boundary.bpmn").read_bytes())])
    key = eng.start("canceling_boundary", {"claimId": "c8"}).key
    eng.publish_message("recall", "c8")
    assert eng.cancel(key).state == "active"  # the listeners the recall started still run
    complete(eng, one_job(eng, "withdraw-review"))
    complete(eng, one_job(eng, "notify-c8"))
    assert eng.instance(key).state == "terminated"
    assert eng.activate_jobs(["archive-recall"], "test") == []  # the recall's token did not leave
    types = _journal_types(eng, key)
    assert types.count("user_task_canceling") == 1 and types[-1] == "instance_terminated"
