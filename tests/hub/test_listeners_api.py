"""Camunda's listeners and conditional events through the REST API of a live hub.

An external worker sees what a listener job is, and a completing listener
that denies keeps the task open, saying why; variables set over REST trigger
a conditional boundary event that interrupts a user task.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.harness import LiveHub, serve_hub

DATA = Path(__file__).resolve().parents[1] / "data"
LISTENERS = DATA / "listeners" / "task_listeners.bpmn"
CONDITIONAL = DATA / "scenarios" / "event_conditional_boundary.bpmn"
ASSIGNING = DATA / "listeners" / "assigning.bpmn"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("listeners")) as live:
        with live.client() as c:
            files = [("files", (p.name, p.read_bytes(), "application/xml"))
                     for p in (LISTENERS, CONDITIONAL, ASSIGNING)]
            c.post("/api/v1/deployments", files=files).raise_for_status()
        yield live


def _one_job(c: httpx.Client, job_type: str) -> dict[str, Any]:
    answer = c.post("/api/v1/jobs/activate", json={"type": job_type, "worker": "listener-worker", "requestTimeout": 20})
    assert answer.status_code == 200, answer.text
    [job] = answer.json()["jobs"]
    return dict(job)


def _complete(c: httpx.Client, job: dict[str, Any], **body: Any) -> None:
    answer = c.post(f"/api/v1/jobs/{job['key']}/complete",
                    json={"worker": job["worker"], "lockVersion": job["lockVersion"], **body})
    assert answer.status_code == 200, answer.text


def test_a_worker_sees_listener_jobs_for_what_they_are_and_a_denial_keeps_the_task_open(hub: LiveHub) -> None:
    with hub.client() as c:
        started = c.post("/api/v1/process-instances", json={"processId": "task_listeners"}).json()
        key = started["instance"]
        [waiting] = started["waitingFor"]
        assert (waiting["kind"], waiting["type"], waiting["listener"]) == ("job", "prepare-approval", "START")
        start = _one_job(c, "prepare-approval")
        assert (start["kind"], start["listenerEventType"], start["element"]) == ("EXECUTION_LISTENER", "START",
                                                                                 "Approve")
        _complete(c, start, variables={"prepared": True})
        _complete(c, _one_job(c, "route-approval"))
        [task] = c.get("/api/v1/user-tasks", params={"instance": key}).json()["items"]
        assert task["listener"] == {"state": "created"}

        held = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {"approved": True}})
        assert held.status_code == 202 and held.json()["listener"] == {"state": "completing"}
        validate = _one_job(c, "validate-approval")
        assert (validate["kind"], validate["listenerEventType"]) == ("TASK_LISTENER", "COMPLETING")
        _complete(c, validate, result={"denied": True, "deniedReason": "needs a second approver"})

        denied = c.get(f"/api/v1/user-tasks/{task['id']}").json()
        assert denied["state"] == "created"
        assert denied["listener"] == {"state": "denied", "deniedReason": "needs a second approver"}
        instance = c.get(f"/api/v1/process-instances/{key}").json()
        assert instance["state"] == "active" and instance["variables"]["prepared"] is True
        assert "approved" not in instance["variables"]

        again = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {"approved": True}})
        assert again.status_code == 202
        _complete(c, _one_job(c, "validate-approval"), result={"corrections": {"assignee": "carol"}})
        _complete(c, _one_job(c, "audit-approval"))
        final = c.get(f"/api/v1/process-instances/{key}").json()
        assert final["state"] == "completed" and final["variables"]["approved"] is True
        done = c.get(f"/api/v1/user-tasks/{task['id']}").json()
        assert done["state"] == "completed" and done["assignee"] == "carol"
        assert done["listener"] == {"state": "completed", "corrections": {"assignee": "carol"}}


def _reviewed(c: httpx.Client) -> tuple[int, dict[str, Any]]:
    """A review assigned to bob, its creating and assigning listeners run: the instance and its task."""
    key = c.post("/api/v1/process-instances", json={"processId": "assigning",
                                                    "variables": {"firstReviewer": "bob"}}).json()["instance"]
    for job_type in ("route-review", "check-reviewer", "notify-reviewer"):
        _complete(c, _one_job(c, job_type))
    [task] = c.get("/api/v1/user-tasks", params={"instance": key}).json()["items"]
    return int(key), dict(task)


def test_an_assignment_and_an_update_answer_202_while_the_task_s_listeners_run(hub: LiveHub) -> None:
    with hub.client() as c:
        _, task = _reviewed(c)
        assert task["assignee"] == "bob"

        held = c.post(f"/api/v1/user-tasks/{task['id']}/assignment", json={"assignee": "carol"})
        assert held.status_code == 202, held.text
        assert held.json()["assignee"] == "bob"
        assert held.json()["listener"] == {"state": "assigning", "assignee": "carol"}
        check = _one_job(c, "check-reviewer")
        assert (check["kind"], check["listenerEventType"]) == ("TASK_LISTENER", "ASSIGNING")
        _complete(c, check)
        _complete(c, _one_job(c, "notify-reviewer"))
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["assignee"] == "carol"

        updated = c.patch(f"/api/v1/user-tasks/{task['id']}", json={"priority": 80, "dueDate": None})
        assert updated.status_code == 202 and updated.json()["listener"]["state"] == "updating"
        assert c.patch(f"/api/v1/user-tasks/{task['id']}", json={"priority": 10}).status_code == 409  # held
        _complete(c, _one_job(c, "audit-review-change"))
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["priority"] == 80
        wrong = c.patch(f"/api/v1/user-tasks/{task['id']}", json={"name": "x"})
        assert wrong.status_code == 400 and "cannot change name" in wrong.text
        # Camunda's /v2 answers once the updating listeners have run (its SDK's view: test_camunda_v2_listeners)
        with hub.client() as other, ThreadPoolExecutor(1) as pool:
            camunda = pool.submit(other.patch, f"/v2/user-tasks/{task['id']}",
                                  json={"changeset": {"candidateGroups": ["claims"]}})
            _complete(c, _one_job(c, "audit-review-change"))
            assert camunda.result(timeout=60).status_code == 204, camunda.result().text
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["candidateGroups"] == ["claims"]


def test_variables_set_over_rest_trigger_a_conditional_boundary_event(hub: LiveHub) -> None:
    with hub.client() as c:
        started = c.post("/api/v1/process-instances",
                         json={"processId": "event_conditional_boundary", "variables": {"addressChanged": False}})
        key = started.json()["instance"]
        [task] = c.get("/api/v1/user-tasks", params={"instance": key}).json()["items"]
        changed = c.post(f"/api/v1/process-instances/{key}/variables", json={"variables": {"addressChanged": True}})
        assert changed.status_code == 200 and changed.json()["state"] == "completed"
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["state"] == "canceled"
        journal = c.get(f"/api/v1/process-instances/{key}/journal").json()["items"]
        assert ("element_completed", "AddressChanged") in [(e["type"], e.get("elementId")) for e in journal]


def test_setting_a_task_s_own_variables_waits_for_its_updating_listeners_and_a_denial_writes_nothing(
    hub: LiveHub,
) -> None:
    """As in Camunda 8.8: variables set in a user task's scope are an update its updating listeners hold."""
    with hub.client() as c:
        key, task = _reviewed(c)

        held = c.put(f"/api/v1/user-tasks/{task['id']}/variables", json={"variables": {"draft": "first words"}})
        assert held.status_code == 202, held.text
        assert held.json()["listener"] == {"state": "updating", "changes": ["variables"]}
        assert c.patch(f"/api/v1/user-tasks/{task['id']}", json={"priority": 10}).status_code == 409  # held
        audit = _one_job(c, "audit-review-change")
        assert audit["listenerEventType"] == "UPDATING" and "draft" not in audit["variables"]  # not written yet
        _complete(c, audit)
        done = c.get(f"/api/v1/user-tasks/{task['id']}").json()
        assert done["listener"] == {"state": "updated", "changes": ["variables"]}
        scopes = c.get(f"/api/v1/process-instances/{key}").json()
        assert "draft" not in scopes["variables"]  # local to the task's scope, not the process's
        assert _one_job_variables_after_update(c, task["id"])["draft"] == "first words"

        again = c.put(f"/api/v1/user-tasks/{task['id']}/variables", json={"variables": {"draft": "rewritten"}})
        assert again.status_code == 202
        _complete(c, _one_job(c, "audit-review-change"), result={"denied": True, "deniedReason": "frozen"})
        denied = c.get(f"/api/v1/user-tasks/{task['id']}").json()
        assert denied["listener"] == {"state": "denied", "event": "updating", "deniedReason": "frozen"}
        assert _one_job_variables_after_update(c, task["id"])["draft"] == "first words"
        journal = c.get(f"/api/v1/process-instances/{key}/journal").json()["items"]
        held_sets = [e for e in journal if e["type"] == "user_task_updating" and e["data"]["changes"] == ["variables"]]
        assert [e["data"]["variables"] for e in held_sets] == [["draft"], ["draft"]]
        let_through = [e["data"]["variables"] for e in journal if e["type"] == "variables_set"]
        assert let_through == [["draft"]]
        bad = c.put(f"/api/v1/user-tasks/{task['id']}/variables", json={"draft": "x"})
        assert bad.status_code == 400


def _one_job_variables_after_update(c: httpx.Client, task: int) -> dict[str, Any]:
    """The variables the task's updating listener job sees (its scope's, the task's own included): a PATCH that
    the audit listener lets through."""
    assert c.patch(f"/api/v1/user-tasks/{task}", json={"priority": 50}).status_code == 202
    job = _one_job(c, "audit-review-change")
    _complete(c, job)
    return dict(job["variables"])


def test_a_draft_is_kept_with_the_task_and_runs_no_listener_and_reaches_no_scope(hub: LiveHub) -> None:
    """Camunda Tasklist's draft variables: kept with the task for whoever opens it next, not an update."""
    with hub.client() as c:
        key, task = _reviewed(c)
        before = c.get(f"/api/v1/user-tasks/{task['id']}").json()["listener"]
        saved = c.put(f"/api/v1/user-tasks/{task['id']}/draft", json={"variables": {"verdict": "half", "n": 2}})
        assert saved.status_code == 200, saved.text
        assert saved.json()["draft"] == {"verdict": "half", "n": 2} and saved.json()["listener"] == before
        assert "draft" not in saved.json()["inputs"]
        again = c.put(f"/api/v1/user-tasks/{task['id']}/draft", json={"variables": {"verdict": "whole"}})
        assert again.json()["draft"] == {"verdict": "whole"}  # a later draft replaces it
        none = c.post("/api/v1/jobs/activate", json={"type": "audit-review-change", "worker": "w", "requestTimeout": 0})
        assert none.status_code == 200 and none.json()["jobs"] == []  # no updating listener ran for it
        instance = c.get(f"/api/v1/process-instances/{key}").json()
        assert "verdict" not in instance["variables"]
        journal = c.get(f"/api/v1/process-instances/{key}/journal").json()["items"]
        drafts = [e["data"] for e in journal if e["type"] == "user_task_draft_saved"]
        assert [d["variables"] for d in drafts] == [["n", "verdict"], ["verdict"]]
        assert c.put(f"/api/v1/user-tasks/{task['id']}/draft", json={"values": {}}).status_code == 400
        assert c.put("/api/v1/user-tasks/424242/draft", json={"variables": {}}).status_code == 404
