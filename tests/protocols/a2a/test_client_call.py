"""``A2ACallTask`` called with a ``Job``, against a remote agent built with the a2a-sdk on 127.0.0.1.

Requirements covered: A8 (the interface URL of the pinned card is checked
against the egress policy on the address connected to: loopback is refused
unless allow-listed, a name that resolves to loopback too); the registry
decides whether an agent may be called; the bearer token is read from its
variable at call time and never logged or recorded; completed, failed,
rejected tasks and direct replies map to variables and BPMN errors.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator

import pytest

from engine import BpmnError
from protocols.a2a.call_task import InvalidCallTask
from protocols.a2a.client import AgentUnusable
from protocols.http import EgressDenied
from registry import Registry, RegistryNotFound, ToolBlocked
from tests.data.a2a.client import fixtures
from tests.data.a2a.client.fixtures import ELEMENT, INSTANCE, TOKEN_ENV, Records, handler, job, register, run
from tests.data.a2a.client.remote_agent import FAILURE_TEXT, TOKEN, RemoteAgent, serve_agent

registry = fixtures.registry  # the fixture, assigned so that pytest finds it

ASK = {"agent": "helper", "skill": "answer"}


@pytest.fixture
def remote() -> Iterator[RemoteAgent]:
    with serve_agent() as agent:
        yield agent


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON", "GRPC"])
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
def test_a_completed_task_gives_its_artifacts_as_the_result_variable(
    registry: Registry, streaming: bool, binding: str
) -> None:
    records = Records()
    with serve_agent(streaming=streaming, binding=binding) as remote:
        register(registry, remote)
        result = run(handler(registry, records), job(ASK, {"text": "hello", "data": {"mode": "complete", "n": 3}}))
    outcome = result["a2aResult"]
    assert outcome["state"] == "completed" and outcome["taskId"] and outcome["contextId"]
    [artifact] = outcome["artifacts"]
    assert artifact["name"] == "answer"
    assert artifact["parts"] == [{"echo": {"mode": "complete", "n": 3}, "text": "hello", "skill": "answer"}, "done"]
    # one message, whose id was recorded before it went out; then the task's id, before any waiting
    [received] = remote.received
    first, second = records.written
    assert received.message_id == first["messageId"] == second["messageId"]
    assert received.message_id.startswith("agenthub-job-41-")
    assert "taskId" not in first and second["taskId"] == outcome["taskId"]
    assert records.scopes == [(INSTANCE, ELEMENT, True)] * 2


def test_the_result_goes_to_the_variable_the_header_names(registry: Registry, remote: RemoteAgent) -> None:
    register(registry, remote)
    result = run(handler(registry, Records()), job({**ASK, "resultVariable": "answer"}, {"message": "hi"}))
    assert list(result) == ["answer"] and result["answer"]["state"] == "completed"


@pytest.mark.parametrize("binding", ["JSONRPC", "GRPC"])
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
@pytest.mark.parametrize("mode", ["fail", "reject"])
def test_a_failed_or_rejected_task_throws_a2a_task_failed_with_the_agents_words(
    registry: Registry, streaming: bool, mode: str, binding: str
) -> None:
    with serve_agent(streaming=streaming, binding=binding) as remote:
        register(registry, remote)
        with pytest.raises(BpmnError) as caught:
            run(handler(registry, Records()), job(ASK, {"data": {"mode": mode}}))
    assert caught.value.code == "A2A_TASK_FAILED"
    assert caught.value.message == FAILURE_TEXT
    outcome = caught.value.variables["a2aResult"]
    assert outcome["state"] == ("failed" if mode == "fail" else "rejected") and outcome["message"] == FAILURE_TEXT


def test_a_direct_reply_without_a_task_is_one_artifact_named_reply(registry: Registry, remote: RemoteAgent) -> None:
    register(registry, remote)
    records = Records()
    result = run(handler(registry, records), job(ASK, {"text": "Ada", "data": {"mode": "reply"}}))
    outcome = result["a2aResult"]
    assert outcome["taskId"] is None and outcome["state"] == "completed"
    assert outcome["message"] == "hello Ada"
    assert [a["name"] for a in outcome["artifacts"]] == ["reply"]
    assert len(records.written) == 1  # the message id, recorded before sending; there is no task to record


@pytest.mark.parametrize("binding", ["JSONRPC", "GRPC"])
def test_a_loopback_agent_is_refused_unless_allow_listed_and_gets_nothing(registry: Registry, binding: str) -> None:
    with serve_agent(binding=binding) as remote:
        _refused_on_loopback(registry, remote)


def _refused_on_loopback(registry: Registry, remote: RemoteAgent) -> None:
    register(registry, remote)
    with pytest.raises(EgressDenied) as caught:
        run(handler(registry, Records(), allow="public"), job(ASK, {"text": "hi"}))
    assert "127.0.0.1 (loopback)" in str(caught.value) and "AGENTHUB_HTTP_ALLOW" in str(caught.value)
    assert remote.received == []
    with pytest.raises(EgressDenied):  # another private network on the list does not admit loopback either
        run(handler(registry, Records(), allow="10.0.0.0/8"), job(ASK, {"text": "hi"}))
    assert remote.received == []


@pytest.mark.parametrize("binding", ["JSONRPC", "GRPC"])
def test_a_name_that_resolves_to_loopback_is_judged_by_the_address_it_reaches(registry: Registry, binding: str) -> None:
    with serve_agent(binding=binding) as remote:
        _judged_by_address(registry, remote)


def _judged_by_address(registry: Registry, remote: RemoteAgent) -> None:
    register(registry, remote)
    card = copy.deepcopy(registry.agents.get("helper").card)
    port = remote.grpc_port or remote.port
    card["supportedInterfaces"][0]["url"] = (f"grpc://agent.example:{port}" if remote.grpc_port
                                             else f"http://agent.example:{port}/")
    registry.agents.add("renamed", "http://agent.example", card, token_env=TOKEN_ENV)

    async def rebinding(host: str, asked: int) -> list[str]:
        assert (host, asked) == ("agent.example", port)
        return ["127.0.0.1"]

    renamed = {"agent": "renamed"}
    with pytest.raises(EgressDenied, match=r"agent\.example: it resolves to 127\.0\.0\.1"):
        run(handler(registry, Records(), allow="public", resolve=rebinding), job(renamed, {"text": "hi"}))
    assert remote.received == []
    result = run(handler(registry, Records(), allow="agent.example", resolve=rebinding), job(renamed, {"text": "x"}))
    assert result["a2aResult"]["state"] == "completed" and len(remote.received) == 1


def test_an_agent_whose_card_changed_is_held_until_approved(registry: Registry, remote: RemoteAgent) -> None:
    register(registry, remote)
    changed = {**registry.agents.get("helper").card, "description": "Now does something else."}
    registry.agents.refresh("helper", changed)
    with pytest.raises(ToolBlocked, match="agenthub agent approve helper"):
        run(handler(registry, Records()), job(ASK, {"text": "hi"}))
    assert remote.received == []
    registry.agents.approve("helper")  # once approved, it is called (with the card as it is now)
    assert run(handler(registry, Records()), job(ASK, {"text": "hi"}))["a2aResult"]["state"] == "completed"


def test_an_unknown_agent_fails_the_job(registry: Registry) -> None:
    with pytest.raises(RegistryNotFound, match="no agent named 'helper'"):
        run(handler(registry, Records()), job(ASK, {"text": "hi"}))


def test_the_token_is_read_at_call_time_and_never_logged_or_recorded(
    registry: Registry, remote: RemoteAgent, caplog: pytest.LogCaptureFixture
) -> None:
    register(registry, remote)
    environ: dict[str, str] = {}
    records = Records()
    task = handler(registry, records, environ=environ)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # importing litellm (other tests do) sets it to WARNING
    with pytest.raises(AgentUnusable, match=f"environment variable {TOKEN_ENV} is not set"):
        run(task, job(ASK, {"text": "hi"}))
    environ[TOKEN_ENV] = "not-the-token"
    with pytest.raises(Exception, match="401") as refused:
        run(task, job(ASK, {"text": "hi"}))
    assert "not-the-token" not in str(refused.value)
    assert remote.received == []  # refused at the door
    environ[TOKEN_ENV] = TOKEN
    result = run(task, job(ASK, {"text": "hi"}))
    assert result["a2aResult"]["state"] == "completed"
    # the hub's side of the logs (the remote agent's SDK, in this process too, logs its request headers at debug)
    client_side = [r.getMessage() for r in caplog.records if not r.name.startswith("a2a.server")]
    assert any(r.startswith("HTTP Request: POST") for r in client_side)
    assert not [r for r in client_side if TOKEN in r or "not-the-token" in r]
    assert TOKEN not in repr(records.written) and TOKEN not in repr(result)


@pytest.mark.parametrize(
    ("headers", "variables", "message"),
    [
        ({}, {"text": "hi"}, "needs the task header 'agent'"),
        ({"agent": " "}, {"text": "hi"}, "needs the task header 'agent'"),
        ({**ASK, "timeout": "soon"}, {"text": "hi"}, "'timeout' must be a number of seconds"),
        ({**ASK, "timeout": "0"}, {"text": "hi"}, "'timeout' must be a number of seconds"),
        (ASK, {"message": {"not": "text"}}, "variable 'message' must be text, not dict"),
    ],
)
def test_a_wrong_header_or_variable_fails_before_anything_is_sent(
    registry: Registry, remote: RemoteAgent, headers: dict[str, str], variables: dict[str, object], message: str
) -> None:
    register(registry, remote)
    with pytest.raises(InvalidCallTask, match=message):
        run(handler(registry, Records()), job(headers, variables))
    assert remote.received == []


def test_a_grpc_agent_gets_the_token_as_metadata_and_a_wrong_one_is_refused(registry: Registry) -> None:
    with serve_agent(binding="GRPC") as grpc_remote:
        register(registry, grpc_remote)
        [interface] = registry.agents.get("helper").card["supportedInterfaces"]
        assert interface["protocolBinding"] == "GRPC" and interface["url"] == f"127.0.0.1:{grpc_remote.grpc_port}"
        with pytest.raises(Exception, match="UNAUTHENTICATED") as refused:
            run(handler(registry, Records(), environ={TOKEN_ENV: "not-the-token"}), job(ASK, {"text": "hi"}))
        assert "not-the-token" not in str(refused.value)
        assert grpc_remote.received == []  # refused at the door
        result = run(handler(registry, Records()), job(ASK, {"text": "hi", "data": {"mode": "complete"}}))
    assert result["a2aResult"]["state"] == "completed" and len(grpc_remote.received) == 1
