"""An agent's push notification wakes the ``a2a`` job that waits for its task without a worker.

The hub gives an agent whose card says it pushes a URL on itself
(``/a2a-push/{job}``) and a fresh token with the message; a notification with
that token makes the waiting job check the task at once (not at its next
check, up to 30 s later); any other is a 401 that changes nothing. The
agents are a2a-sdk servers on 127.0.0.1: one whose notifications the test
sends itself (to see each answer), one that sends them as the SDK does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.a2a_push import PER_JOB_BURST
from tests.data.a2a.client.remote_agent import TOKEN, RemoteAgent, serve_agent
from tests.hub.test_a2a_delegation import TOKEN_ENV, deploy, ended, live_hub, register, start

CALL_AGENT = Path(__file__).resolve().parents[1] / "data" / "a2a" / "client" / "call_agent.bpmn"
WAIT_S = 30.0


def _until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def _remote_wait(c: httpx.Client, key: int) -> dict[str, Any] | None:
    """The job and remote wait of the instance's a2a task, once it waits without a worker."""
    [element] = c.get(f"/api/v1/process-instances/{key}").json()["activeElements"]
    waiting = element.get("waitingFor") or {}
    return waiting if "remoteWait" in waiting else None


def _waiting_call(c: httpx.Client, remote: RemoteAgent) -> tuple[int, dict[str, Any], dict[str, Any]]:
    started = start(c, "call_agent", {"question": "hi", "payload": {"mode": "wait"}})
    key = int(started["instance"])
    waiting = _until(lambda: _remote_wait(c, key), "the a2a job to wait without a worker")
    [sent] = remote.received
    assert sent.push is not None, "the hub asked a pushing agent for no notifications"
    return key, waiting, sent.push


def test_the_right_token_wakes_the_waiting_job_and_any_other_push_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with (
        serve_agent(streaming=False, push_silent=True) as remote,
        live_hub(tmp_path, http_allow="127.0.0.1") as hub,
        hub.client() as c,
        httpx.Client(timeout=10) as agent,  # what the agent's push sender is: no hub token
    ):
        register(c, "helper", remote.url, TOKEN_ENV)
        deploy(c, CALL_AGENT)
        key, waiting, push = _waiting_call(c, remote)
        job = int(waiting["job"])
        assert push["url"] == f"{hub.url}/a2a-push/{job}"
        assert len(push["token"]) >= 32 and push["token"] not in repr(c.get(f"/api/v1/process-instances/{key}/journal",
                                                                          params={"limit": 1000}).json())
        task = {"task": {"id": "t", "status": {"state": "TASK_STATE_WORKING"}}}

        for headers in ({}, {"X-A2A-Notification-Token": "not-the-token"}):
            refused = agent.post(push["url"], json=task, headers=headers)
            assert refused.status_code == 401, refused.text
        elsewhere = agent.post(f"{hub.url}/a2a-push/{job + 1}", json=task,
                               headers={"X-A2A-Notification-Token": push["token"]})
        assert elsewhere.status_code == 401  # the token is this job's alone
        assert _remote_wait(c, key)["remoteWait"] == waiting["remoteWait"]  # nothing moved

        remote.release()
        woken = agent.post(push["url"], json=task, headers={"X-A2A-Notification-Token": push["token"]})
        assert woken.status_code == 200, woken.text
        assert woken.json() == {"job": str(job), "woken": True}
        done = ended(c, key)
        assert done["state"] == "completed" and done["variables"]["a2aResult"]["state"] == "completed"
        late = agent.post(push["url"], json=task, headers={"X-A2A-Notification-Token": push["token"]})
        assert late.status_code == 401  # the call is over: its token opens nothing any more


def test_an_agent_that_pushes_as_the_sdk_does_ends_the_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with (
        serve_agent(streaming=False, push=True) as remote,
        live_hub(tmp_path, http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        register(c, "helper", remote.url, TOKEN_ENV)
        deploy(c, CALL_AGENT)
        key, _, push = _waiting_call(c, remote)
        assert push["url"].startswith(f"{hub.url}/a2a-push/")
        remote.release()
        done = ended(c, key)
    assert done["state"] == "completed" and done["variables"]["a2aResult"]["state"] == "completed"
    assert len(remote.received) == 1  # woken or checked, nothing was sent again


def test_a_flood_of_notifications_is_refused_with_429_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RELIABILITY A5: a flood at one job's URL, good token or not, is a 429 with Retry-After once over the burst,
    and costs the registry no read; the waiting job still ends by its own checks."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with (
        serve_agent(streaming=False, push_silent=True) as remote,
        live_hub(tmp_path, http_allow="127.0.0.1") as hub,
        hub.client() as c,
        httpx.Client(timeout=10) as agent,
    ):
        register(c, "helper", remote.url, TOKEN_ENV)
        deploy(c, CALL_AGENT)
        key, _, push = _waiting_call(c, remote)
        reads: list[int] = []
        calls = hub.app.state.hub.registry.a2a_calls
        monkeypatch.setattr(calls, "get", lambda job, _get=calls.get: reads.append(job) or _get(job))
        task = {"task": {"id": "t", "status": {"state": "TASK_STATE_WORKING"}}}
        headers = {"X-A2A-Notification-Token": push["token"]}
        first = agent.post(push["url"], json=task, headers=headers)
        assert first.status_code == 200, first.text
        with ThreadPoolExecutor(8) as pool:  # faster than the bucket refills (10 a second), on any machine
            answers = list(pool.map(lambda _: agent.post(push["url"], json=task, headers=headers), range(120)))
        codes = [a.status_code for a in answers]
        # looked at: 200, or 401 once the woken job is back in its worker's hands; the rest 429
        assert set(codes) <= {200, 401, 429} and codes.count(429) >= 2 * PER_JOB_BURST, codes
        refused = next(a for a in answers if a.status_code == 429)
        assert int(refused.headers["Retry-After"]) >= 1 and "too many notifications" in refused.json()["error"]
        assert len(reads) == 1 + len(codes) - codes.count(429)  # a refused notification read nothing
        remote.release()
        done = ended(c, key)
    assert done["state"] == "completed"
