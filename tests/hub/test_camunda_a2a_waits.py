"""Camunda's A2A waiting modes, run by a live hub: the A2A client answers at once and a catch event waits.

The sender (``io.camunda.agenticai:a2aclient:0``, polling or notification mode)
hands back the remote task as it is (``pollingData`` / ``pushNotificationData``
beside it); the process then waits at Camunda's polling
(``io.camunda.agenticai:a2aclient:polling:0``, the hub polls the task) or webhook
(``io.camunda.agenticai:a2aclient:webhook:0``, the agent's push notification at
``/inbound/{id}``) catch event, on its message subscription: no job, no worker.
The remote agent is built with the a2a-sdk on 127.0.0.1 and registered; the
models are our own, with the properties of Camunda's element templates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from registry import Registry
from tests.data.a2a.client.fixtures import TOKEN_ENV, register
from tests.data.a2a.client.remote_agent import TOKEN, RemoteAgent, serve_agent
from tests.hub.harness import LiveHub, serve_hub

MODELS = Path(__file__).resolve().parents[1] / "data" / "a2a" / "camunda"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Hub:
    live: LiveHub
    folder: Path

    @contextmanager
    def registry(self) -> Iterator[Registry]:
        registry = Registry.open(f"sqlite:///{self.folder / 'hub.db'}")
        try:
            yield registry
        finally:
            registry.close()

    @contextmanager
    def agent(self, *, push: bool = False) -> Iterator[RemoteAgent]:
        """A remote agent registered in the hub's registry for the block (its name is unique by its port)."""
        with serve_agent(streaming=False, push=push) as remote:
            registry = Registry.open(f"sqlite:///{self.folder / 'hub.db'}")
            try:
                register(registry, remote, name=f"helper-{remote.port}")
                yield remote
            finally:
                registry.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("a2a-waits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, TOKEN)
        with serve_hub(folder, http_allow="127.0.0.1") as live, live.client() as c:
            for name in ("camunda_a2a_polling.bpmn", "camunda_a2a_polling_receive.bpmn", "camunda_a2a_webhook.bpmn",
                         "camunda_a2a_webhook_receive.bpmn"):
                files = [("files", (name, (MODELS / name).read_bytes(), "application/xml"))]
                c.post("/api/v1/deployments", files=files).raise_for_status()
            yield Hub(live, folder)


def until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start(c: httpx.Client, process_id: str, variables: dict[str, Any]) -> int:
    answer = c.post("/api/v1/process-instances", json={"processId": process_id, "variables": variables})
    answer.raise_for_status()
    return int(answer.json()["instance"])


def instance(c: httpx.Client, key: int) -> dict[str, Any]:
    found: dict[str, Any] = c.get(f"/api/v1/process-instances/{key}").json()
    return found


def waits_at(c: httpx.Client, key: int, element: str) -> bool:
    found = instance(c, key)
    assert found["state"] == "active", found  # an incident or an early end fails the test at once
    return [e["elementId"] for e in found["activeElements"]] == [element]


def test_polling_mode_answers_the_running_task_at_once_and_the_catch_event_waits_until_the_hub_polls_it_done(
    hub: Hub,
) -> None:
    with hub.agent() as remote, hub.live.client() as c:
        key = start(c, "camunda_a2a_polling", {"agentUrl": remote.url, "question": "mode:wait"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the polling catch event")
        sent = instance(c, key)["variables"]["clientResponse"]
        assert sent["result"]["kind"] == "task" and sent["result"]["status"]["state"] in ("submitted", "working")
        assert sent["pollingData"] == {"id": sent["result"]["id"]}
        [element] = instance(c, key)["activeElements"]
        assert "waitingFor" not in element  # a subscription, no job: no worker is held while the task runs

        remote.release()
        until(lambda: instance(c, key)["state"] == "completed", "the instance to end")

        done = instance(c, key)["variables"]["completedClientResponse"]
        assert (done["kind"], done["id"], done["contextId"]) == ("task", sent["result"]["id"],
                                                                sent["result"]["contextId"])
        assert done["status"] == {"state": "completed"}
        [artifact] = done["artifacts"]
        assert artifact["name"] == "answer" and artifact["contents"][1] == {"type": "text", "text": "done"}
        # data.historyLength 3: the task's last messages, as Camunda's A2aTask carries them
        [asked] = done["history"]
        assert asked == {"kind": "message", "role": "user", "messageId": remote.received[0].message_id,
                         "contextId": done["contextId"], "taskId": done["id"],
                         "contents": [{"type": "text", "text": "mode:wait"}]}
        assert len(remote.received) == 1  # polling sends nothing again
        # messageIdExpression and messageTtl: the published message is buffered under its id for an hour, so the
        # same message published again (by a second poller, say) is refused
        again = c.post("/api/v1/messages", json={"name": "a2a-polling-4f0c2d", "correlationKey": sent["result"]["id"],
                                                 "messageId": f"done-{sent['result']['id']}", "timeToLive": 1000})
        assert again.status_code == 409 and "still buffered" in again.text


def waiting_for(c: httpx.Client, key: int) -> dict[str, Any]:
    [element] = instance(c, key)["activeElements"]
    found: dict[str, Any] = element.get("waitingFor", {})
    return found


def test_a_failing_poll_shows_its_error_and_next_poll_on_the_element_and_a_poll_that_succeeds_clears_it(
    hub: Hub,
) -> None:
    with hub.agent() as remote, hub.live.client() as c, hub.registry() as registry:
        key = start(c, "camunda_a2a_polling", {"agentUrl": remote.url, "question": "mode:wait"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the polling catch event")
        name = f"helper-{remote.port}"
        card = registry.agents.get(name).card
        registry.agents.refresh(name, {**card, "description": "changed upstream"})  # held until approved

        until(lambda: waiting_for(c, key).get("failures", 0) >= 2, "two failed polls noted on the element")
        waiting = waiting_for(c, key)
        assert "ToolBlocked" in waiting["lastError"] and f"agenthub agent approve {name}" in waiting["lastError"]
        assert waiting["message"] == "a2a-polling-4f0c2d" and waiting["nextCheck"].endswith("Z")
        assert instance(c, key)["state"] == "active"  # under agenthub.maxPollFailures (100): no incident yet
        shown = CliRunner().invoke(cli, ["instance", str(key), "--db", f"sqlite:///{hub.folder / 'hub.db'}"])
        assert shown.exit_code == 0 and "the last poll failed" in shown.output and "ToolBlocked" in shown.output

        registry.agents.approve(name)
        until(lambda: waiting_for(c, key) == {}, "the next poll to succeed and clear the note")
        remote.release()
        until(lambda: instance(c, key)["state"] == "completed", "the instance to end")


def test_a_poll_that_cannot_succeed_raises_an_incident_at_once_and_resolving_it_polls_again(hub: Hub) -> None:
    with hub.agent() as remote, hub.live.client() as c, hub.registry() as registry:
        key = start(c, "camunda_a2a_polling", {"agentUrl": remote.url, "question": "mode:wait"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the polling catch event")
        name = f"helper-{remote.port}"
        registry.agents.remove(name)  # no longer registered: polling again cannot mend that

        until(lambda: instance(c, key)["state"] == "incident", "the incident")
        [incident] = c.get("/api/v1/incidents", params={"instance": key}).json()["items"]
        assert (incident["element"], incident["type"]) == ("WaitForCompletion", "a2aPolling")
        assert "polling again cannot succeed" in incident["message"] and "not registered" in incident["message"]
        [element] = instance(c, key)["activeElements"]
        assert element["incident"] == incident["id"] and "not registered" in element["waitingFor"]["lastError"]

        register(registry, remote, name=name)
        c.post(f"/api/v1/incidents/{incident['id']}/resolve").raise_for_status()
        remote.release()
        until(lambda: instance(c, key)["state"] == "completed", "polling to resume and end the wait")
        assert instance(c, key)["variables"]["completedClientResponse"]["status"] == {"state": "completed"}


def test_a_remote_task_the_agent_no_longer_knows_raises_an_incident_at_once(hub: Hub) -> None:
    with hub.agent() as remote, hub.live.client() as c:
        key = start(c, "camunda_a2a_polling_receive", {"agentUrl": remote.url, "question": "mode:wait"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the polling receive task")
        sent = instance(c, key)["variables"]["clientResponse"]
        gone = {**sent, "result": {**sent["result"], "id": "a-task-the-agent-never-had"}}
        c.post(f"/api/v1/process-instances/{key}/variables", json={"variables": {"clientResponse": gone}}
               ).raise_for_status()

        until(lambda: instance(c, key)["state"] == "incident", "the incident")
        [incident] = c.get("/api/v1/incidents", params={"instance": key}).json()["items"]
        assert "polling again cannot succeed" in incident["message"] and "RemoteTaskLost" in incident["message"]
        c.post(f"/api/v1/process-instances/{key}/cancel").raise_for_status()
        remote.release()


def test_a_polling_receive_task_raises_an_incident_after_max_poll_failures_in_a_row(hub: Hub) -> None:
    with hub.agent() as remote, hub.live.client() as c, hub.registry() as registry:
        key = start(c, "camunda_a2a_polling_receive", {"agentUrl": remote.url, "question": "mode:wait"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the polling receive task")
        name = f"helper-{remote.port}"
        registry.agents.refresh(name, {**registry.agents.get(name).card, "description": "changed upstream"})

        until(lambda: instance(c, key)["state"] == "incident", "the incident after two failed polls")
        [incident] = c.get("/api/v1/incidents", params={"instance": key}).json()["items"]
        assert "2 polls in a row failed" in incident["message"] and "ToolBlocked" in incident["message"]

        registry.agents.approve(name)
        remote.release()
        c.post(f"/api/v1/incidents/{incident['id']}/resolve").raise_for_status()
        until(lambda: instance(c, key)["state"] == "completed", "the receive task to be polled done")
        assert instance(c, key)["variables"]["completedClientResponse"]["status"] == {"state": "completed"}


def test_notification_mode_configures_the_push_and_the_webhook_catch_event_takes_the_agents_notification(
    hub: Hub,
) -> None:
    with hub.agent(push=True) as remote, hub.live.client() as c:
        token = "push-token-1"
        key = start(c, "camunda_a2a_webhook", {"agentUrl": remote.url, "question": "mode:wait", "token": token,
                                               "webhookUrl": f"{hub.live.url}/inbound/a2a-answers"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the webhook catch event")
        sent = instance(c, key)["variables"]["clientResponse"]
        assert sent["result"]["status"]["state"] in ("submitted", "working")
        assert sent["pushNotificationData"] == {"token": token} and "pollingData" not in sent

        remote.release()
        until(lambda: instance(c, key)["state"] == "completed", "the push notification to end the wait")

        done = instance(c, key)["variables"]["completedClientResponse"]
        assert (done["kind"], done["id"]) == ("task", sent["result"]["id"])
        assert done["status"]["state"] == "completed"


def test_a_receive_task_with_the_a2a_webhook_waits_and_the_agents_push_completes_it_as_the_catch_event(
    hub: Hub,
) -> None:
    with hub.agent(push=True) as remote, hub.live.client() as c:
        key = start(c, "camunda_a2a_webhook_receive", {"agentUrl": remote.url, "question": "mode:wait",
                                                       "token": "rt-1",
                                                       "webhookUrl": f"{hub.live.url}/inbound/a2a-receipts"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the webhook receive task")
        sent = instance(c, key)["variables"]["clientResponse"]
        [listed] = [w for w in c.get("/api/v1/inbound").json()["items"] if w["webhookId"] == "a2a-receipts"]
        assert (listed["elementId"], listed["kind"]) == ("WaitForCompletion", "receiveTask")

        remote.release()
        until(lambda: instance(c, key)["state"] == "completed", "the push notification to complete the receive task")

        done = instance(c, key)["variables"]["response"]
        assert (done["kind"], done["id"], done["status"]["state"]) == ("task", sent["result"]["id"], "completed")


def test_the_webhook_takes_a_task_as_a2a_0_3_agents_push_it_and_refuses_one_still_working(hub: Hub) -> None:
    with hub.agent() as remote, hub.live.client() as c:  # an agent without push: the test posts in its place
        key = start(c, "camunda_a2a_webhook", {"agentUrl": remote.url, "question": "mode:wait", "token": "t-2",
                                               "webhookUrl": f"{hub.live.url}/inbound/a2a-answers"})
        until(lambda: waits_at(c, key, "WaitForCompletion"), "the webhook catch event")
        task_id = instance(c, key)["variables"]["clientResponse"]["result"]["id"]
        pushed = {"kind": "task", "id": task_id, "contextId": "ctx",
                  "status": {"state": "working"}}
        headers = {"X-A2A-Notification-Token": "t-2"}
        with httpx.Client(base_url=hub.live.url, timeout=30) as anonymous:
            working = anonymous.post("/inbound/a2a-answers", json=pushed, headers=headers)
            assert working.status_code == 422 and "Activation condition not met" in working.text
            pushed["status"] = {"state": "completed", "message": {"role": "agent", "messageId": "m1",
                                                                  "parts": [{"kind": "text", "text": "all done"}]}}
            pushed["artifacts"] = [{"artifactId": "a1", "name": "answer",
                                    "parts": [{"kind": "data", "data": {"n": 42}}, {"kind": "text", "text": "42"}]}]
            assert anonymous.post("/inbound/a2a-answers", json=pushed, headers=headers).status_code == 200
        until(lambda: instance(c, key)["state"] == "completed", "the instance to end")

        done = instance(c, key)["variables"]["completedClientResponse"]
        assert done["status"]["state"] == "completed"
        assert done["status"]["message"]["contents"] == [{"type": "text", "text": "all done"}]
        assert done["artifacts"][0]["contents"] == [{"type": "object", "content": {"n": 42}},
                                                    {"type": "text", "text": "42"}]


def test_agenthub_worker_polls_the_catch_event_as_serve_does_when_the_hub_serves_without_its_worker(
    tmp_path: Path,
) -> None:
    """``serve`` without its worker loop and ``agenthub worker`` beside it, as a real process: the worker sends the
    message and polls the running task at the catch event until it is done (the CLI runs what serve runs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, TOKEN)
        with serve_hub(tmp_path, worker=False) as live, live.client() as c, serve_agent(streaming=False) as remote:
            name = "camunda_a2a_polling.bpmn"
            c.post("/api/v1/deployments", files=[("files", (name, (MODELS / name).read_bytes(), "application/xml"))]
                   ).raise_for_status()
            registry = Registry.open(f"sqlite:///{tmp_path / 'hub.db'}")
            register(registry, remote)
            registry.close()
            key = start(c, "camunda_a2a_polling", {"agentUrl": remote.url, "question": "mode:wait"})
            env = {**os.environ, "AGENTHUB_HTTP_ALLOW": "127.0.0.1", "AGENTHUB_DB": f"sqlite:///{tmp_path / 'hub.db'}"}
            worker = subprocess.Popen([sys.executable, "-m", "hub.cli", "worker"], cwd=REPO, env=env,
                                      stderr=subprocess.PIPE, text=True)
            try:
                until(lambda: waits_at(c, key, "WaitForCompletion"), "the polling catch event", timeout=60)
                remote.release()
                until(lambda: instance(c, key)["state"] == "completed", "the worker to poll the task done")
                assert instance(c, key)["variables"]["completedClientResponse"]["status"] == {"state": "completed"}
                assert len(remote.received) == 1
            finally:
                worker.send_signal(signal.SIGTERM)
                _, said = worker.communicate(timeout=30)
            assert worker.returncode == 0, said
