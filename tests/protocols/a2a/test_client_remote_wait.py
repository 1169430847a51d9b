"""``A2ACallTask`` leaves its worker while a remote task runs on: the durable wait, the checks, the sweep.

A job's later attempt is played, as in ``test_client_durability``, by calling
the handler again with the record it wrote in its variables; the hub's list of
waiting calls is the registry's (``registry.a2a_calls``), on a SQLite file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from a2a.types import TaskState

from engine import BpmnError, WaitRemote
from engine.ports import ManualClock
from protocols.a2a.call_sweep import GIVE_UP_S, CancelRetries
from protocols.a2a.call_task import MAX_CHECK_S, MIN_CHECK_S, RECORD_VARIABLE
from registry import Registry
from tests.data.a2a.client import fixtures
from tests.data.a2a.client.fixtures import KEY, Records, handler, job, register, release_and_wait, remote_task, run
from tests.data.a2a.client.remote_agent import RemoteAgent, serve_agent

registry = fixtures.registry  # the fixture, assigned so that pytest finds it

ASK = {"agent": "helper"}
WAIT = {"data": {"mode": "wait"}}
INLINE_S = 0.3


@pytest.fixture(params=[(True, "JSONRPC"), (False, "JSONRPC"), (True, "GRPC")],
                ids=["streaming", "polling", "grpc-streaming"])
def remote(request: pytest.FixtureRequest, registry: Registry) -> Iterator[RemoteAgent]:
    streaming, binding = request.param
    with serve_agent(streaming=streaming, binding=binding) as agent:
        register(registry, agent)
        yield agent


def _leaves(registry: Registry, records: Records, headers: dict[str, str] = ASK, **options: object) -> WaitRemote:
    """The first attempt: send, follow the task for ``INLINE_S``, then leave the worker."""
    with pytest.raises(WaitRemote) as left:
        run(handler(registry, records, inline_wait_s=INLINE_S, **options), job(headers, WAIT))
    return left.value


def test_a_task_still_running_after_the_inline_wait_leaves_the_worker_with_a_durable_wait(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    wait = _leaves(registry, records)
    record = wait.variables[RECORD_VARIABLE]  # written with the wait, in its transaction
    assert record["taskId"] == records.written[-1]["taskId"] and isinstance(record["waitedSince"], int)
    assert wait.reason == f"A2A task {record['taskId']} of agent 'helper' (working)"
    assert MIN_CHECK_S <= wait.seconds <= MAX_CHECK_S
    [call] = registry.a2a_calls.page()
    assert (call.job, call.instance, call.agent, call.task_id) == (KEY, fixtures.INSTANCE, "helper", record["taskId"])
    assert remote_task(remote, record["taskId"]).status.state == TaskState.TASK_STATE_WORKING


def test_a_check_reads_the_task_once_waits_again_while_it_works_and_completes_once_it_ended(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    record = _leaves(registry, records).variables[RECORD_VARIABLE]
    written = len(records.written)
    again = job(ASK, {**WAIT, RECORD_VARIABLE: record})
    with pytest.raises(WaitRemote, match="working"):
        run(handler(registry, records, inline_wait_s=INLINE_S), again)
    assert len(records.written) == written  # a check writes nothing
    release_and_wait(remote, record["taskId"])
    outcome = run(handler(registry, records, inline_wait_s=INLINE_S), again)["a2aResult"]
    assert outcome["state"] == "completed" and outcome["taskId"] == record["taskId"]
    assert [r.message_id for r in remote.received] == [record["messageId"]]  # sent once
    assert registry.a2a_calls.page() == []  # handled: the hub forgets the call


def test_a_wait_whose_report_was_lost_is_still_forgotten_when_the_next_attempt_resumes_and_finishes_the_task(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    _leaves(registry, records)  # listed the call, but say its WaitRemote report never landed (a lease lost)
    started = records.written[-1]  # the record as the engine kept it: the task, no waitedSince
    assert "waitedSince" not in started and len(registry.a2a_calls.page()) == 1
    release_and_wait(remote, started["taskId"])
    outcome = run(handler(registry, records, inline_wait_s=INLINE_S), job(ASK, {**WAIT, RECORD_VARIABLE: started}))
    assert outcome["a2aResult"]["state"] == "completed"
    assert registry.a2a_calls.page() == []  # forgotten, not left for the sweep to cancel a finished task


def test_the_check_at_the_deadline_cancels_the_task_and_throws_a2a_timeout(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    timed = {**ASK, "timeout": "60"}
    record = _leaves(registry, records, timed, clock=clock).variables[RECORD_VARIABLE]
    clock.advance(timedelta(seconds=59.5))
    with pytest.raises(WaitRemote) as last:
        run(handler(registry, records, clock=clock), job(timed, {**WAIT, RECORD_VARIABLE: record}))
    assert last.value.seconds == pytest.approx(0.5)  # the next check comes at the deadline, not after it
    clock.advance(timedelta(seconds=1))
    with pytest.raises(BpmnError) as caught:
        run(handler(registry, records, clock=clock), job(timed, {**WAIT, RECORD_VARIABLE: record}))
    assert caught.value.code == "A2A_TIMEOUT"
    assert remote_task(remote, record["taskId"]).status.state == TaskState.TASK_STATE_CANCELED
    assert registry.a2a_calls.page() == []


def test_the_sweep_cancels_the_task_of_a_job_withdrawn_while_it_waited_and_closing_cancels_nothing(
    registry: Registry, remote: RemoteAgent
) -> None:
    records = Records()
    _leaves(registry, records)
    task_id = records.written[-1]["taskId"]
    hub_handler = handler(registry, records)
    hub_handler.close()  # the hub stops: nothing is canceled, the call stays listed
    assert asyncio.run(hub_handler.sweep()) == 0  # the job is still open
    assert remote_task(remote, task_id).status.state == TaskState.TASK_STATE_WORKING
    assert len(registry.a2a_calls.page()) == 1
    records.open = False  # a boundary event fired, or the instance was canceled, while no handler ran
    assert asyncio.run(hub_handler.sweep()) == 1
    assert remote_task(remote, task_id).status.state == TaskState.TASK_STATE_CANCELED
    assert registry.a2a_calls.page() == []


def test_a_cancel_that_cannot_reach_the_agent_is_kept_for_the_next_sweep_and_given_up_after_a_day(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    records = Records()
    with serve_agent(streaming=False) as agent:
        register(registry, agent)
        _leaves(registry, records)
    # the agent is gone (its port refuses connections) when the sweep finds the job withdrawn
    hub_handler = handler(registry, records)
    now = [1000.0]
    hub_handler.cancel_retries = CancelRetries(clock=lambda: now[0])
    records.open = False
    assert asyncio.run(hub_handler.sweep()) == 0
    assert len(registry.a2a_calls.page()) == 1, "kept for the next sweep"
    assert "tries again" in caplog.text
    now[0] += GIVE_UP_S - 1
    assert asyncio.run(hub_handler.sweep()) == 0
    assert len(registry.a2a_calls.page()) == 1
    now[0] += 2
    assert asyncio.run(hub_handler.sweep()) == 1
    assert registry.a2a_calls.page() == []
    assert "given up" in caplog.text
