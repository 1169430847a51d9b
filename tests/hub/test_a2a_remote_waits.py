"""A thousand remote A2A tasks wait at once in one hub with its default settings, and other work keeps flowing.

The whole path is real: the hub's worker loop (64 slots), the ``a2a`` service
task (``tests/data/a2a/client/call_agent.bpmn``), A2A over HTTP on 127.0.0.1 to
an agent built with the a2a-sdk whose tasks stay ``working`` until the test
releases them. Each job follows its task briefly, then waits without holding
a slot (``engine.WaitRemote``): the 1,000 waits leave the slots to the jobs of
an unrelated process, which complete while every remote task still works. Once
released, the waiting jobs are woken (as a push notification would) and all
1,000 instances complete.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import Engine, WorkerRegistry
from registry import Registry
from tests.data.a2a.client.remote_agent import TOKEN, serve_agent
from tests.hub.harness import serve_hub

DATA = Path(__file__).resolve().parents[1] / "data"
TOKEN_ENV = "REMOTE_AGENT_TOKEN"
CALLS = 1000
OTHERS = 50


def until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _deploy(c: httpx.Client, path: Path) -> None:
    answer = c.post("/api/v1/deployments", files=[("files", (path.name, path.read_bytes(), "application/xml"))])
    assert answer.status_code in (200, 201), answer.text


def _active(engine: Engine, process_id: str) -> int:
    return len(engine.instances(state="active", process_id=process_id, limit=CALLS + 1))


def _waits(c: httpx.Client, keys: list[int]) -> Iterator[dict[str, Any]]:
    """The ``waitingFor`` of each instance's one active element, read by REST (empty while a worker holds it)."""
    for key in keys:
        [element] = c.get(f"/api/v1/process-instances/{key}").json()["activeElements"]
        yield dict(element.get("waitingFor", {}))


def _wake_one_by_rest(c: httpx.Client, keys: list[int]) -> int:
    """Wake a waiting job by REST; the key of the job woken. A job being checked at that moment is not waiting
    (409): the next instance's is tried."""
    for waiting in _waits(c, keys):
        if "remoteWait" not in waiting:
            continue
        answer = c.post(f"/api/v1/jobs/{waiting['job']}/wake")
        if answer.status_code == 200:
            assert answer.json() == {"key": waiting["job"], "state": "due"}
            return int(waiting["job"])
        assert answer.status_code == 409 and "not waiting on remote work" in answer.json()["detail"]
    raise AssertionError("no job could be woken by REST")


def test_a_thousand_remote_a2a_tasks_wait_at_once_without_holding_slots_while_other_jobs_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    unrelated = WorkerRegistry()
    unrelated.register("remote-work", lambda job: {"done": job.key})  # the other process's local work
    with (
        serve_agent(streaming=False) as remote,
        serve_hub(tmp_path, unrelated, http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        answer = c.post("/api/v1/agents", json={"name": "helper", "url": remote.url, "tokenEnv": TOKEN_ENV})
        assert answer.status_code == 201, answer.text
        _deploy(c, DATA / "a2a" / "client" / "call_agent.bpmn")
        _deploy(c, DATA / "hub" / "external.bpmn")
        engine: Engine = hub.app.state.hub.engine
        registry: Registry = hub.app.state.hub.registry
        loop = hub.app.state.worker.loop
        keys = [engine.start("call_agent", {"question": f"q{n}", "payload": {"mode": "wait"}}).key
                for n in range(CALLS)]

        # every task sent once, and every job waiting on its task without a worker
        until(lambda: len(remote.received) == CALLS, "every message to be sent")
        until(lambda: len(registry.a2a_calls.page(limit=CALLS + 1)) == CALLS, "every job to wait without a worker")
        # far more jobs wait at once than there are slots: a wait holds none (only a check in progress does). A
        # snapshot on a loaded machine can catch more jobs between two checks than there are slots (re-checks fall
        # due together): read again until the waits show, saying what the others were doing
        states: Counter[str] = Counter()

        def far_more_wait_than_slots() -> bool:
            states.clear()
            states.update("waiting" if "remoteWait" in j else j["state"] for key in keys for j in engine.jobs(key))
            return states["waiting"] >= CALLS - loop.settings.concurrency

        until(far_more_wait_than_slots, "the jobs to wait without slots", timeout=60)
        assert states["locked"] <= loop.settings.concurrency, states
        # as REST shows it (a job being checked at this moment is not waiting: shown is the first that is)
        remote_wait: dict[str, Any] = next(w["remoteWait"] for w in _waits(c, keys) if "remoteWait" in w)
        assert remote_wait["reason"].startswith("A2A task ") and "of agent 'helper'" in remote_wait["reason"]
        assert remote_wait["nextCheck"].endswith("Z")

        # an unrelated process's jobs complete while all 1,000 remote tasks still work
        others = [engine.start("external", {"n": n}).key for n in range(OTHERS)]
        until(lambda: _active(engine, "external") == 0, "the unrelated jobs to complete")
        assert remote.state.release_as is None and _active(engine, "call_agent") == CALLS
        assert all(engine.instance(k).state == "completed" for k in others)

        # the tasks finish; a push notification would wake each waiting job, as this does
        remote.release()
        woken = _wake_one_by_rest(c, keys)
        for key in keys:
            for job in engine.jobs(key):
                engine.wake_job(int(job["key"]))
        until(lambda: _active(engine, "call_agent") == 0, "every instance to complete")
        assert c.post(f"/api/v1/jobs/{woken}/wake").status_code == 409  # done: not waiting any more
        completed = engine.instance(keys[-1])
        assert completed.state == "completed" and completed.variables["a2aResult"]["state"] == "completed"
        assert registry.a2a_calls.page() == []  # every handled call forgotten
        assert len(remote.received) == CALLS  # nothing sent twice
        assert loop.waited >= CALLS

