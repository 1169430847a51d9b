"""Camunda's A2A client connector (``io.camunda.agenticai:a2aclient:0``), run by the hub, on its own.

The remote agent is built with the a2a-sdk and listens on 127.0.0.1
(``tests/data/a2a/client/remote_agent.py``); it is registered in the
registry, whose pinned card decides whether it may be called. The models are
our own, with the extension elements of Camunda's element template.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.scheduler import WorkerLoop, run_until_idle
from hub.job_types import close_handlers, job_handlers
from hub.settings import HubSettings
from registry import Registry
from tests.data.a2a.client.fixtures import TOKEN_ENV, register
from tests.data.a2a.client.remote_agent import FAILURE_TEXT, TOKEN, RemoteAgent, serve_agent
from tests.hub.harness import run_hub_jobs as run

STANDALONE = Path(__file__).resolve().parents[1] / "data" / "a2a" / "camunda" / "camunda_a2a_standalone.bpmn"


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[RemoteAgent]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with serve_agent(streaming=False) as agent:
        yield agent


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Engine, Registry]]:
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    try:
        yield engine, registry
    finally:
        engine.close()
        registry.close()


def start(engine: Engine, url: str, retrieval: str = "blocking") -> int:
    [deployed] = engine.deploy([(STANDALONE.name, STANDALONE.read_bytes())])
    assert deployed.warnings == ()  # the hub runs Camunda's A2A client: no "waits for a worker" warning
    return engine.start("camunda_a2a_standalone", {"agentUrl": url, "question": "What is 6 times 7?",
                                                   "retrieval": retrieval}).key


def test_a_standalone_client_fetches_the_pinned_card_and_sends_a_message_with_camundas_shapes(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    key = start(engine, remote.url + "/")
    run(engine, registry)

    assert engine.incidents(instance=key) == []
    variables: dict[str, Any] = engine.instance(key).variables
    assert variables["card"] == {"result": {
        "kind": "agentCard", "name": "Remote helper", "description": "Answers, fails or waits, as its message asks.",
        "skills": [{"id": "answer", "name": "Answer", "description": "Answers a message.", "tags": ["test"]}]}}
    result = variables["sent"]["result"]
    assert "pollingData" not in variables["sent"]  # blocking
    assert result["kind"] == "task" and result["id"] and result["contextId"]
    assert result["status"] == {"state": "completed"}
    [artifact] = result["artifacts"]
    assert artifact["name"] == "answer"
    echoed, done = artifact["contents"]
    assert echoed["type"] == "object" and echoed["content"]["text"] == "What is 6 times 7?"
    assert done == {"type": "text", "text": "done"}
    assert variables["answerText"] == "done"  # the resultExpression reads Camunda's shape
    [received] = remote.received
    assert received.message_id.startswith("agenthub-job-")


def test_polling_mode_answers_the_finished_task_with_its_id_as_polling_data(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    key = start(engine, remote.url, retrieval="polling")
    run(engine, registry)

    sent = engine.instance(key).variables["sent"]
    assert sent["result"]["status"]["state"] == "completed"
    assert sent["pollingData"] == {"id": sent["result"]["id"]}


def test_an_unregistered_agent_url_is_an_incident_that_says_how_to_register_it_and_nothing_is_sent(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    key = start(engine, remote.url)
    run(engine, registry)

    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "FetchCard"
    assert f"{remote.url} is not registered" in incident.message
    assert f"agenthub agent add {remote.url}" in incident.message
    assert remote.received == []


def test_a_public_agent_url_reaches_the_registered_agent_the_operators_route_names(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    """AGENTHUB_HTTP_ROUTES: the model names a public agent; the route sends it to the registered one on
    127.0.0.1, whose pinned card is used and to which the message goes."""
    engine, registry = hub
    register(registry, remote)
    key = start(engine, "https://agents.example/helper")
    run(engine, registry, http_routes=f"https://agents.example/helper={remote.url}")

    assert engine.incidents(instance=key) == []
    assert engine.instance(key).variables["answerText"] == "done"
    [received] = remote.received
    assert received.message_id.startswith("agenthub-job-")


def test_an_agent_whose_card_changed_since_it_was_approved_is_not_called(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    registry.agents.refresh("helper", {**registry.agents.get("helper").card, "description": "Something else now."})
    key = start(engine, remote.url)
    run(engine, registry)

    [incident] = engine.incidents(instance=key)
    assert "agenthub agent approve helper" in incident.message
    assert remote.received == []


def test_a_fetched_card_that_differs_from_the_pin_holds_the_agent_and_nothing_is_sent(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    pinned = {**registry.agents.get("helper").card, "description": "What the admin approved."}
    registry.agents.refresh("helper", pinned)
    registry.agents.approve("helper")  # the pin is now a card the agent no longer shows
    key = start(engine, remote.url)
    run(engine, registry)

    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "FetchCard" and "agenthub agent approve helper" in incident.message
    assert registry.agents.get("helper").state == "changed" and not registry.agents.get("helper").callable
    assert remote.received == []


def test_a_loopback_agent_is_refused_when_the_egress_rules_do_not_admit_it(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    key = start(engine, remote.url)
    workers = job_handlers(registry, HubSettings(http_allow="public"), engine=engine)
    try:
        run_until_idle(engine, workers, timeout_s=60)
    finally:
        close_handlers(workers)

    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "FetchCard"  # fetching the card goes through the same rules as sending
    assert "127.0.0.1 (loopback)" in incident.message
    assert remote.received == []


FOLLOW_UP = STANDALONE.with_name("camunda_a2a_follow_up.bpmn")


def test_a_task_that_asks_for_input_is_the_answer_and_a_second_send_with_its_ids_continues_it(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    engine.deploy([(FOLLOW_UP.name, FOLLOW_UP.read_bytes())])
    key = engine.start("camunda_a2a_follow_up", {"agentUrl": remote.url, "first": "mode:input"}).key
    run(engine, registry)

    assert engine.incidents(instance=key) == [] and engine.user_tasks(instance=key) == []  # nobody is asked here
    variables: dict[str, Any] = engine.instance(key).variables
    asked = variables["asked"]["result"]
    assert asked["status"]["state"] == "input-required"
    assert asked["status"]["message"]["contents"] == [{"type": "text", "text": "which colour?"}]
    assert variables["asked"]["pollingData"] == {"id": asked["id"]}
    answered = variables["answered"]["result"]
    assert (answered["id"], answered["contextId"]) == (asked["id"], asked["contextId"])
    assert answered["status"]["state"] == "completed"
    assert answered["artifacts"][0]["contents"][0]["content"]["echo"] == {"answer": "blue"}
    assert [r.task_id for r in remote.received] == ["", asked["id"]]


def test_a_failed_task_is_an_answer_with_its_state_not_an_error(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    engine.deploy([(STANDALONE.name, STANDALONE.read_bytes())])
    key = engine.start("camunda_a2a_standalone", {"agentUrl": remote.url, "question": "mode:fail",
                                                  "retrieval": "blocking"}).key
    run(engine, registry)

    result = engine.instance(key).variables["sent"]["result"]
    assert result["status"]["state"] == "failed"
    assert result["status"]["message"]["contents"] == [{"type": "text", "text": FAILURE_TEXT}]


def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_long_remote_task_waits_without_a_worker_and_completes_once_it_ends(
    hub: tuple[Engine, Registry], remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    engine.deploy([(STANDALONE.name, STANDALONE.read_bytes())])
    key = engine.start("camunda_a2a_standalone", {"agentUrl": remote.url, "question": "mode:wait",
                                                  "retrieval": "polling"}).key
    workers = job_handlers(registry, HubSettings(http_allow="127.0.0.1"), engine=engine)
    loop = WorkerLoop(engine, workers)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        until(lambda: any("remoteWait" in j for j in engine.jobs(key)), "the job's durable wait")
        [waiting] = engine.jobs(key)
        assert waiting["type"] == "io.camunda.agenticai:a2aclient:0" and "A2A task" in waiting["remoteWait"]["reason"]
        remote.release()
        engine.wake_job(waiting["key"])
        until(lambda: engine.instance(key).state != "active", "the instance to end")
    finally:
        loop.stop()
        thread.join(30)
        close_handlers(workers)

    assert engine.incidents(instance=key) == []
    sent = engine.instance(key).variables["sent"]
    assert sent["result"]["status"]["state"] == "completed"
    assert sent["pollingData"] == {"id": sent["result"]["id"]}
    assert len(remote.received) == 1  # waiting again sent nothing again
