"""A job that waits on remote work (``WaitRemote``) holds no lease and no slot, shows why, and can be woken.

Each behaviour runs on SQLite, PostgreSQL and the in-memory store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, Job, WaitRemote, WorkerLoop, WorkerRegistry, WorkerSettings
from engine.job_reports import CompleteReport, WaitReport
from engine.ports import ManualClock

EXTERNAL = Path(__file__).resolve().parents[2] / "data" / "hub" / "external.bpmn"


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def any_engine(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[Engine]:
    url = {"sqlite": f"sqlite:///{tmp_path / 'agenthub.db'}", "memory": "memory:"}.get(request.param)
    opened = Engine.open(url or str(request.getfixturevalue("postgres_url")), clock=clock)
    opened.deploy([("external.bpmn", EXTERNAL.read_bytes())])
    yield opened
    opened.close()


def _waiting(engine: Engine, key: int) -> dict[str, Any]:
    [element] = engine.instance(key).active_elements
    return dict(element["waitingFor"])


def test_a_waiting_job_has_no_lease_keeps_its_retries_its_variables_and_says_why_and_when_it_is_checked_next(
    any_engine: Engine, clock: ManualClock
) -> None:
    key = any_engine.start("external").key
    [job] = any_engine.activate_jobs(["remote-work"], "w1", lease_ms=60_000)
    wait = WaitRemote(30, "A2A task t-1 of agent 'helper'", variables={"call": {"taskId": "t-1"}})
    any_engine.wait_job(job.key, wait, worker="w1", lock_version=job.lock_version)
    remote = {"reason": "A2A task t-1 of agent 'helper'", "nextCheck": "2026-01-01T00:00:30Z"}
    assert _waiting(any_engine, key)["remoteWait"] == remote
    [listed] = any_engine.jobs(key)
    assert listed["state"] == "ready" and listed["retries"] == 2 and listed["remoteWait"] == remote
    assert any_engine.activate_jobs(["remote-work"], "w2") == []  # not due before its next check
    clock.advance(timedelta(seconds=30))
    [again] = any_engine.activate_jobs(["remote-work"], "w2")
    assert again.key == job.key and again.retries == 2 and again.stalls == 0
    assert again.variables["call"] == {"taskId": "t-1"}  # set with the wait, on the job's element instance
    assert "call" not in any_engine.instance(key).variables
    assert "waitingFor" not in any_engine.instance(key).active_elements[0]  # a worker holds it: not waiting now


def test_waking_a_waiting_job_makes_it_due_now_and_nothing_else_is_woken(
    any_engine: Engine, clock: ManualClock
) -> None:
    key = any_engine.start("external").key
    [job] = any_engine.activate_jobs(["remote-work"], "w1")
    assert any_engine.wake_job(job.key) is False  # running, not waiting
    any_engine.wait_job(job.key, WaitRemote(3600, "a long task"), worker="w1", lock_version=job.lock_version)
    assert any_engine.wake_job(job.key) is True
    assert any_engine.wake_job(123456789) is False
    [again] = any_engine.activate_jobs(["remote-work"], "w1")
    assert again.key == job.key
    any_engine.complete_job(again.key, {"done": True}, worker="w1", lock_version=again.lock_version)
    assert any_engine.instance(key).state == "completed"
    assert any_engine.wake_job(job.key) is False


def test_a_wait_is_reported_with_the_others_in_one_batch_and_a_failed_attempt_after_it_is_no_longer_a_wait(
    any_engine: Engine,
) -> None:
    keys = [any_engine.start("external").key for _ in range(2)]
    first, second = any_engine.activate_jobs(["remote-work"], "w1")
    settled = any_engine.report_jobs([
        WaitReport(first.key, WaitRemote(0, "polling"), worker="w1", lock_version=first.lock_version),
        CompleteReport(second.key, worker="w1", lock_version=second.lock_version),
    ])
    assert [s.error for s in settled] == [None, None]
    assert any_engine.instance(keys[1]).state == "completed"
    [again] = any_engine.activate_jobs(["remote-work"], "w1")
    any_engine.fail_job(again.key, "agent unreachable", backoff_ms=1000, worker="w1", lock_version=again.lock_version)
    waiting = _waiting(any_engine, keys[0])
    assert "remoteWait" not in waiting and waiting["lastError"] == "agent unreachable"


def test_a_stale_wait_from_a_worker_that_lost_its_lease_is_refused(any_engine: Engine, clock: ManualClock) -> None:
    any_engine.start("external")
    [job] = any_engine.activate_jobs(["remote-work"], "w1", lease_ms=1_000)
    clock.advance(timedelta(seconds=2))
    [taken] = any_engine.activate_jobs(["remote-work"], "w2")
    [settled] = any_engine.report_jobs([WaitReport(job.key, WaitRemote(5, "x"), worker="w1",
                                                   lock_version=job.lock_version)])
    assert type(settled.error).__name__ == "JobLost"
    assert taken.key == job.key and "remoteWait" not in any_engine.jobs(taken.instance)[0]


def test_the_worker_loop_frees_the_slot_of_a_waiting_job_for_other_work(tmp_path: Path) -> None:
    """One slot: the waiting job leaves it, an unrelated job runs in it, the waiting one comes back and finishes."""
    engine = Engine.open(f"sqlite:///{tmp_path / 'loop.db'}", synchronous="NORMAL")
    engine.deploy([("external.bpmn", EXTERNAL.read_bytes())])
    remote_done = asyncio.Event()
    order: list[str] = []
    workers = WorkerRegistry()
    loop = WorkerLoop(engine, workers, settings=WorkerSettings(concurrency=1, poll_interval_s=0.05))

    async def remote_work(job: Job) -> dict[str, Any]:
        if job.variables.get("n") == 2:
            order.append("other")
            remote_done.set()
            return {}
        if not remote_done.is_set():
            order.append(f"waits, slots held {loop.slots_held}")
            raise WaitRemote(0.05, "the other job's work")
        order.append("resumed")
        return {"ok": True}

    workers.register("remote-work", remote_work)
    waiting = engine.start("external", {"n": 1}).key
    other = engine.start("external", {"n": 2}).key
    loop.run(until_idle=True)
    assert order[0].startswith("waits") and "other" in order and order[-1] == "resumed"
    assert loop.waited >= 1 and loop.slots_held == 0
    assert engine.instance(waiting).state == "completed" and engine.instance(other).state == "completed"
    engine.close()
