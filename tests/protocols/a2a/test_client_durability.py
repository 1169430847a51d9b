"""``A2ACallTask`` across attempts: the record, resuming without sending again, timeouts, withdrawal, input-required.

The remote agent (a2a-sdk, 127.0.0.1) keeps every message it receives, so
"sent once" is checked where it matters: at the receiving end. A job's later
attempt is played by calling the handler again with the record in its
variables, as the worker loop hands it over after a retry or a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from a2a.types import TaskState

from engine import AskPerson, BpmnError
from engine.ports import ManualClock
from protocols.a2a.call_task import RECORD_VARIABLE, A2ACallTask, WaitEnded
from protocols.a2a.client import RemoteTaskLost
from registry import Registry
from tests.data.a2a.client import fixtures
from tests.data.a2a.client.fixtures import Background, Records, handler, job, register, remote_task, run
from tests.data.a2a.client.remote_agent import RemoteAgent, serve_agent

registry = fixtures.registry  # the fixture, assigned so that pytest finds it

ASK = {"agent": "helper"}
WAIT = {"data": {"mode": "wait"}}


@pytest.fixture(params=[True, False], ids=["streaming", "polling"])
def remote(request: pytest.FixtureRequest, registry: Registry) -> Iterator[RemoteAgent]:
    with serve_agent(streaming=request.param) as agent:
        register(registry, agent)
        yield agent


def until(condition: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def task_recorded(records: Records) -> bool:
    return any("taskId" in r for r in records.written)


def test_a_later_attempt_waits_for_the_recorded_task_and_sends_nothing_again(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    first = handler(registry, records)
    call = Background(first, job(ASK, WAIT))
    until(lambda: task_recorded(records) and remote.state.started.is_set(), "the remote task to start")
    first.close()  # the hub stops: the wait ends, the remote task goes on
    with pytest.raises(WaitEnded, match="the next attempt of job 41 goes on waiting for task"):
        call.result()
    record = records.written[-1]
    assert remote_task(remote, record["taskId"]).status.state == TaskState.TASK_STATE_WORKING

    later = Background(handler(registry, records), job(ASK, {**WAIT, RECORD_VARIABLE: record}))
    time.sleep(0.3)  # waiting, not sending
    remote.release()
    outcome = later.result()["a2aResult"]
    assert outcome["taskId"] == record["taskId"] and outcome["state"] == "completed"
    assert [r.message_id for r in remote.received] == [record["messageId"]]


def test_a_record_without_a_task_id_sends_the_same_message_id_again(
    registry: Registry, remote: RemoteAgent, caplog: pytest.LogCaptureFixture
) -> None:
    """The hub died between sending and hearing the task's id: a deduplicating agent would answer with that task."""
    record = {"job": 41, "agent": "helper", "messageId": "agenthub-job-41-0123456789abcdef", "sentAt": 1}
    records = Records()
    result = run(handler(registry, records), job(ASK, {"text": "hi", RECORD_VARIABLE: record}))
    assert result["a2aResult"]["state"] == "completed"
    assert [r.message_id for r in remote.received] == ["agenthub-job-41-0123456789abcdef"]
    assert records.written[-1]["taskId"] == result["a2aResult"]["taskId"]
    assert "sending it again with the same messageId" in caplog.text


def test_a_record_of_another_job_or_agent_is_ignored(registry: Registry, remote: RemoteAgent) -> None:
    for stale in ({"job": 40, "agent": "helper"}, {"job": 41, "agent": "other"}):
        record = {**stale, "messageId": "old", "sentAt": 1, "taskId": "t-old"}
        run(handler(registry, Records()), job(ASK, {"text": "hi", RECORD_VARIABLE: record}))
    assert len(remote.received) == 2 and "old" not in [r.message_id for r in remote.received]
    assert all(r.task_id == "" for r in remote.received)


def test_a_task_the_agent_no_longer_knows_fails_the_job_without_sending_again(
    registry: Registry, remote: RemoteAgent
) -> None:
    record = {"job": 41, "agent": "helper", "messageId": "m", "sentAt": 1, "taskId": "forgotten"}
    with pytest.raises(RemoteTaskLost, match="no longer knows task forgotten"):
        run(handler(registry, Records()), job(ASK, {"text": "hi", RECORD_VARIABLE: record}))
    assert remote.received == []


def test_the_timeout_cancels_the_remote_task_and_throws_a2a_timeout(registry: Registry, remote: RemoteAgent) -> None:
    records = Records()
    before = set(threading.enumerate())

    async def call_and_look_around(task: A2ACallTask) -> set[asyncio.Task[Any]]:
        with pytest.raises(BpmnError) as caught:
            await task(job({**ASK, "timeout": "1"}, WAIT))
        assert caught.value.code == "A2A_TIMEOUT" and "within 1 s" in caught.value.message
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(call_and_look_around(handler(registry, records))) == set()  # nothing of the call is left
    task_id = records.written[-1]["taskId"]
    assert remote_task(remote, task_id).status.state == TaskState.TASK_STATE_CANCELED
    until(lambda: set(threading.enumerate()) <= before, "the call's threads to end")


def test_the_timeout_counts_from_the_first_send_across_attempts(registry: Registry, remote: RemoteAgent) -> None:
    records = Records()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    first = handler(registry, records, clock=clock)
    call = Background(first, job({**ASK, "timeout": "60"}, WAIT))
    until(lambda: task_recorded(records), "the task to be recorded")
    first.close()
    with pytest.raises(WaitEnded):
        call.result()
    record = records.written[-1]
    clock.advance(timedelta(minutes=2))  # the hub was down for two minutes of the 60 s allowed
    with pytest.raises(BpmnError) as caught:
        run(handler(registry, records, clock=clock), job({**ASK, "timeout": "60"}, {**WAIT, RECORD_VARIABLE: record}))
    assert caught.value.code == "A2A_TIMEOUT"
    assert caught.value.variables["a2aResult"]["taskId"] == record["taskId"]
    assert remote_task(remote, record["taskId"]).status.state == TaskState.TASK_STATE_CANCELED
    assert len(remote.received) == 1


def test_a_withdrawn_job_cancels_the_remote_task(registry: Registry, remote: RemoteAgent) -> None:
    records = Records()
    call = Background(handler(registry, records, job_check_s=0.1), job(ASK, WAIT))
    until(lambda: task_recorded(records), "the task to be recorded")
    records.open = False  # a boundary event fired, or the instance was canceled
    with pytest.raises(WaitEnded, match="withdrawn"):
        call.result()
    assert remote_task(remote, records.written[-1]["taskId"]).status.state == TaskState.TASK_STATE_CANCELED


def test_a_task_that_asks_for_input_asks_a_person_here_and_the_answer_goes_to_the_same_task_once(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    with pytest.raises(AskPerson) as asked:
        run(handler(registry, records), job({**ASK, "inputCandidateGroups": "sales, support"},
                                            {"data": {"mode": "input"}}))
    ask = asked.value
    assert ask.details["kind"] == "a2a-input" and ask.details["question"] == "which colour?"
    assert ask.candidate_groups == ("sales", "support") and ask.round == 1 and ask.answer_variable == "a2aInput"
    record = records.written[-1]
    person = {"round": 1, "variables": {"colour": "green"}, "job": fixtures.KEY}
    resumed = dataclasses.replace(job(ASK, {"data": {"mode": "input"}, RECORD_VARIABLE: record, "a2aInput": person}),
                                  key=fixtures.KEY + 1)
    outcome = run(handler(registry, records), resumed)["a2aResult"]
    assert outcome["state"] == "completed" and outcome["taskId"] == record["taskId"]
    assert outcome["artifacts"][0]["parts"][0]["echo"] == {"answer": {"colour": "green"}}
    assert len(remote.received) == 2  # the first message, then the answer: nothing sent twice
    assert records.written[-1]["answered"] == 1 and records.written[-1]["job"] == fixtures.KEY + 1
