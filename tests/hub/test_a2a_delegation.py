"""Processes calling remote A2A agents through live hubs: a remote agent built with the a2a-sdk, another hub, a restart.

Each case runs the whole path: the agent registered by REST or by the CLI,
a BPMN service task of type ``a2a`` (``tests/data/a2a/client``), the hub's
worker loop, the egress allow-list (``AGENTHUB_HTTP_ALLOW=127.0.0.1``, since
the peers listen on loopback) and the bearer token from an environment
variable. Requirements covered: A8 (loopback only when allow-listed), D-style
durability for an outbound call (a hub killed while it waits resumes the same
remote task; the agent receives one message).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hub.commands.agents import app as agents_cli
from protocols.a2a import fetch_card
from protocols.http import EgressPolicy
from registry import generate_token
from tests.data.a2a.client.remote_agent import TOKEN, serve_agent
from tests.hub.harness import LiveHub, serve_hub
from tests.ports import free_port

DATA = Path(__file__).resolve().parents[1] / "data" / "a2a"
AGENTHUB = Path(sys.executable).parent / "agenthub"
TOKEN_ENV = "REMOTE_AGENT_TOKEN"


@contextmanager
def live_hub(folder: Path, *, http_allow: str | None = None) -> Iterator[LiveHub]:
    folder.mkdir(parents=True, exist_ok=True)
    with serve_hub(folder, http_allow=http_allow) as live:
        yield live


def deploy(client: httpx.Client, path: Path) -> None:
    answer = client.post("/api/v1/deployments", files=[("files", (path.name, path.read_bytes(), "application/xml"))])
    assert answer.status_code in (200, 201), answer.text


def register(client: httpx.Client, name: str, url: str, token_env: str) -> None:
    answer = client.post("/api/v1/agents", json={"name": name, "url": url, "tokenEnv": token_env})
    assert answer.status_code == 201, answer.text


def start(client: httpx.Client, process_id: str, variables: dict[str, Any], wait: float = 0) -> dict[str, Any]:
    body = {"processId": process_id, "variables": variables, "awaitCompletion": wait}
    answer = client.post("/api/v1/process-instances", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def ended(client: httpx.Client, key: int, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/api/v1/process-instances/{key}").json()
        if found["state"] != "active":
            return dict(found)
        assert time.monotonic() < deadline, f"instance {key} is still active: {found}"
        time.sleep(0.1)


def journal(client: httpx.Client, key: int) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/process-instances/{key}/journal", params={"limit": 1000}).json()["items"])


def recorded_task(client: httpx.Client, key: int) -> str | None:
    """The remote task's id, once the a2a job has recorded it (a variable event in the journal)."""
    for row in journal(client, key):
        found = _find(row.get("data"), "a2aTask")
        if isinstance(found, dict) and "taskId" in found:
            return str(found["taskId"])
    return None


def _find(data: Any, name: str) -> Any:
    if isinstance(data, dict):
        if name in data:
            return data[name]
        for value in data.values():
            if (found := _find(value, name)) is not None:
                return found
    if isinstance(data, list):
        for value in data:
            if (found := _find(value, name)) is not None:
                return found
    return None


@pytest.mark.parametrize(("streaming", "binding"), [(True, "JSONRPC"), (False, "JSONRPC"), (True, "GRPC")],
                         ids=["streaming", "polling", "grpc"])
def test_a_process_calls_a_registered_agent_and_keeps_what_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streaming: bool, binding: str
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with (
        serve_agent(streaming=streaming, binding=binding) as remote,
        live_hub(tmp_path, http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        register(c, "helper", remote.url, TOKEN_ENV)
        deploy(c, DATA / "client" / "call_agent.bpmn")
        done = start(c, "call_agent", {"question": "hi", "payload": {"mode": "complete", "n": 2}}, wait=20)
        rows = journal(c, done["instance"])
    assert done["state"] == "completed", done
    variables = done["variables"]
    assert variables["echoed"] == {"mode": "complete", "n": 2}
    assert variables["a2aResult"]["state"] == "completed"
    assert variables["a2aResult"]["artifacts"][0]["parts"][1] == "done"
    assert "a2aTask" not in variables  # the record was local to the task and ended with it
    assert len(remote.received) == 1
    assert TOKEN not in repr(rows) and TOKEN not in repr(variables)


def test_inside_an_agent_a_remote_a2a_agent_is_a_tool_like_any_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    turns = tmp_path / "turns.json"
    turns.write_text(json.dumps([
        {"tool_calls": [{"name": "ask_helper", "arguments": {"question": "what is 6 x 7?"}}]},
        {"final": "the helper answered"},
    ]))
    with (
        serve_agent(streaming=True) as remote,
        live_hub(tmp_path / "hub", http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        register(c, "helper", remote.url, TOKEN_ENV)
        deploy(c, DATA / "client" / "agent_with_remote_tool.bpmn")
        done = start(c, "agent_with_remote_tool", {"question": "q", "modelName": f"scripted:{turns}"}, wait=30)
        rows = journal(c, done["instance"])
    assert done["state"] == "completed", done
    assert done["variables"]["agentResult"]["toolCalls"] == 1
    assert len(remote.received) == 1
    [call] = [r for r in rows if r["type"] == "agent_tool_call"]
    assert call["data"]["tool"] == "ask_helper" and call["data"]["decision"] == "allow"
    [result] = [r for r in rows if r["type"] == "agent_tool_result"]
    assert result["data"]["callId"] == call["data"]["callId"]
    sent = [_find(r.get("data"), "text") for r in rows if r["type"] == "variables_updated"]
    assert "what is 6 x 7?" in sent  # the model's argument became the message text


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
def test_a_failed_remote_task_is_a_bpmn_error_that_the_boundary_event_catches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streaming: bool
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with (
        serve_agent(streaming=streaming) as remote,
        live_hub(tmp_path, http_allow="127.0.0.1") as hub,
        hub.client() as c,
    ):
        register(c, "helper", remote.url, TOKEN_ENV)
        deploy(c, DATA / "client" / "call_agent.bpmn")
        done = start(c, "call_agent", {"question": "hi", "payload": {"mode": "fail"}}, wait=20)
        reached = {row["elementId"] for row in journal(c, done["instance"])}
        incidents = c.get("/api/v1/incidents").json()["items"]
    assert done["state"] == "completed", done
    assert "Failed" in reached and "Done" not in reached
    assert incidents == [] and len(remote.received) == 1


def test_a_loopback_agent_that_is_not_allow_listed_is_never_contacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with serve_agent() as remote, live_hub(tmp_path) as hub, hub.client() as c:  # default allow-list: public
        refused = c.post("/api/v1/agents", json={"name": "helper", "url": remote.url, "tokenEnv": TOKEN_ENV})
        assert refused.status_code == 400, refused.text
        assert "127.0.0.1 (loopback)" in refused.json()["detail"] and "AGENTHUB_HTTP_ALLOW" in refused.json()["detail"]
        # registered while the allow-list still admitted loopback: the call is refused all the same
        card = asyncio.run(fetch_card(remote.url, egress=EgressPolicy.parse(["127.0.0.1"])))
        hub.app.state.hub.registry.agents.add("helper", remote.url, card, token_env=TOKEN_ENV)
        deploy(c, DATA / "client" / "call_agent.bpmn")
        key = start(c, "call_agent", {"question": "hi"})["instance"]
        deadline = time.monotonic() + 20
        while not (incidents := c.get("/api/v1/incidents").json()["items"]):  # three attempts, 1 s and 2 s apart
            assert time.monotonic() < deadline, "no incident was raised"
            time.sleep(0.2)
        state = c.get(f"/api/v1/process-instances/{key}").json()["state"]
    [incident] = incidents
    assert state == "incident" and incident["element"] == "AskAgent"
    assert "127.0.0.1 (loopback)" in incident["message"] and "AGENTHUB_HTTP_ALLOW" in incident["message"]
    assert remote.received == []


def test_two_hubs_delegate_a_review_and_the_caller_finishes_when_the_reviewer_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_hub(tmp_path / "b") as b, b.client() as on_b:
        deploy(on_b, DATA / "review.bpmn")  # exposed: it declares <agenthub:tool/>
        monkeypatch.setenv("HUB_B_TOKEN", b.token("start", "read"))
        with live_hub(tmp_path / "a", http_allow="127.0.0.1") as a, a.client() as on_a:
            register(on_a, "hub-b-review", f"{b.url}/a2a/review", "HUB_B_TOKEN")
            deploy(on_a, DATA / "client" / "delegate.bpmn")
            key = start(on_a, "delegate", {"document": "q3-report"})["instance"]
            deadline = time.monotonic() + 20
            while not (tasks := on_b.get("/api/v1/user-tasks").json()["items"]):
                assert time.monotonic() < deadline, "hub B never got the review task"
                time.sleep(0.1)
            [review] = tasks
            assert on_a.get(f"/api/v1/process-instances/{key}").json()["state"] == "active"
            answer = on_b.post(f"/api/v1/user-tasks/{review['id']}/complete", json={"variables": {"approved": True}})
            assert answer.status_code in (200, 204), answer.text
            done = ended(on_a, key)
        on_b_instance = on_b.get(f"/api/v1/process-instances/{review['instance']}").json()
    assert done["state"] == "completed", done
    assert done["variables"]["approved"] is True
    assert done["variables"]["review"]["state"] == "completed"
    assert on_b_instance["state"] == "completed"
    assert on_b_instance["variables"]["document"] == "q3-report"


def _wait_for_tasks(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while not (tasks := client.get("/api/v1/user-tasks", params=params).json()["items"]):
        assert time.monotonic() < deadline, f"no user task ({params})"
        time.sleep(0.1)
    return list(tasks)


def test_a_remote_task_that_asks_for_input_becomes_a_user_task_here_and_the_answer_goes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_hub(tmp_path / "b") as b, b.client() as on_b:
        deploy(on_b, DATA / "confirm.bpmn")  # its user task is for the caller: over A2A, input-required
        monkeypatch.setenv("HUB_B_TOKEN", b.token("start", "read"))
        with live_hub(tmp_path / "a", http_allow="127.0.0.1") as a, a.client() as on_a:
            register(on_a, "hub-b-confirm", f"{b.url}/a2a/confirm", "HUB_B_TOKEN")
            deploy(on_a, DATA / "client" / "delegate_confirm.bpmn")
            key = start(on_a, "delegate_confirm", {"order": "o-7"})["instance"]
            [question] = _wait_for_tasks(on_a, instance=key)
            assert question["kind"] == "a2a-input" and question["candidateGroups"] == ["sales"]
            assert question["agent"] == "hub-b-confirm" and "Confirm the order" in question["question"]
            assert [e["type"] for e in journal(on_a, key)].count("job_parked") == 1
            answer = on_a.post(f"/api/v1/user-tasks/{question['id']}/complete",
                               json={"variables": {"confirmed": True}})
            assert answer.status_code == 200, answer.text
            done = ended(on_a, key)
        [b_instance] = on_b.get("/api/v1/process-instances", params={"processId": "confirm"}).json()["items"]
        b_final = on_b.get(f"/api/v1/process-instances/{b_instance['instance']}").json()
    assert done["state"] == "completed", done
    assert done["variables"]["confirmation"]["state"] == "completed"
    assert b_final["state"] == "completed" and b_final["variables"]["outcome"] == "confirmed"


def _serve(db: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [AGENTHUB, "serve", "--db", db, "--port", str(port), "--log-level", "warning"],
            stdout=out,
            stderr=out,
            env={**os.environ, **env},
            cwd=log.parent,
        )


def _healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"agenthub serve did not become healthy:\n{log.read_text()}")


@pytest.mark.slow
def test_a_hub_killed_while_it_waits_resumes_the_same_remote_task_and_sends_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    db, port, admin = f"sqlite:///{tmp_path / 'hub.db'}", free_port(), generate_token()
    url, log = f"http://127.0.0.1:{port}", tmp_path / "hub.log"
    env = {"AGENTHUB_HTTP_ALLOW": "127.0.0.1", "AGENTHUB_ADMIN_TOKEN": admin, TOKEN_ENV: TOKEN}
    headers = {"Authorization": f"Bearer {admin}"}
    monkeypatch.setenv("AGENTHUB_HTTP_ALLOW", "127.0.0.1")  # `agent add` fetches the card under the same allow-list
    with serve_agent(streaming=True) as remote:
        added = CliRunner().invoke(
            agents_cli, ["add", remote.url, "--name", "helper", "--token-env", TOKEN_ENV, "--db", db]
        )
        assert added.exit_code == 0, added.output
        proc = _serve(db, port, env, log)
        try:
            _healthy(url, proc, log)
            with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
                deploy(c, DATA / "client" / "call_agent.bpmn")
                key = start(c, "call_agent", {"question": "hi", "payload": {"mode": "wait"}})["instance"]
                deadline = time.monotonic() + 20
                while not (remote.state.started.is_set() and (task_id := recorded_task(c, key))):
                    assert time.monotonic() < deadline, "the remote task was not started and recorded"
                    time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)  # mid-wait: the job's lease is left to expire
            assert proc.wait(timeout=30) == -signal.SIGKILL
            remote.release()  # the remote task completes while the hub is down
            proc = _serve(db, port, env, log)
            _healthy(url, proc, log)
            with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
                done = ended(c, key, timeout=30)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert done["state"] == "completed", (done, log.read_text())
    assert done["variables"]["a2aResult"]["taskId"] == task_id
    assert [r.task_id for r in remote.received] == [""]  # exactly one message, ever
