"""Retries on the engine's clock (D7): a failing job runs at t = 0, 1 s, 3 s; a stall is not a failed attempt.

The engine runs on a manual clock, so the times a handler sees are exact: the
worker loop only runs an attempt once the clock has reached its due time.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from engine import Engine, Job, WorkerLoop, WorkerRegistry, WorkerSettings
from engine.ports import ManualClock
from tests.engine.scheduler.test_worker_loop import BPMN


def _wait(condition: Any, timeout_s: float = 60) -> None:  # generous: a loaded CI machine
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _millis(clock: ManualClock) -> int:
    return int(clock.now().timestamp() * 1000)


def test_a_failing_job_is_tried_at_0_1_and_3_seconds_and_then_completes(tmp_path: Any) -> None:
    clock = ManualClock()
    engine = Engine.open(f"sqlite:///{tmp_path / 'retries.db'}", clock=clock, synchronous="NORMAL")
    attempts: list[tuple[int, int]] = []

    def flaky(job: Job) -> dict[str, Any]:
        attempts.append((_millis(clock), job.retries))
        if len(attempts) < 3:
            raise RuntimeError(f"attempt {len(attempts)} fails")
        return {"done": True}

    registry = WorkerRegistry()
    registry.register("flaky", flaky)
    engine.deploy([("one_job.bpmn", BPMN)])
    settings = WorkerSettings(backoff_base_ms=1_000, poll_interval_s=0.02, lease_ms=60_000)
    loop = WorkerLoop(engine, registry, settings=settings)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        start = _millis(clock)
        instance = engine.start("one_job", {"kind": "flaky"})
        # the failure committed first: its due time is read from the clock then (advanced before it, the retry
        # would fall due 999 ms later than the test expects; a loaded machine got there)
        _wait(lambda: len(attempts) == 1 and loop.failed == 1)
        clock.advance(timedelta(milliseconds=999))
        time.sleep(0.3)  # the loop polls every 20 ms: the job is not due yet, so it does not run
        assert len(attempts) == 1
        clock.advance(timedelta(milliseconds=1))
        _wait(lambda: len(attempts) == 2 and loop.failed == 2)
        clock.advance(timedelta(milliseconds=1_999))
        time.sleep(0.3)
        assert len(attempts) == 2
        clock.advance(timedelta(milliseconds=1))
        _wait(lambda: engine.instance(instance.key).state == "completed")
    finally:
        loop.stop()
        thread.join(timeout=30)
        engine.close()
    assert [(at - start, retries) for at, retries in attempts] == [(0, 3), (1_000, 2), (3_000, 1)]
    assert loop.failed == 2 and loop.completed == 1


def test_a_job_whose_worker_vanished_is_claimed_again_with_its_retries_untouched(tmp_path: Any) -> None:
    clock = ManualClock()
    engine = Engine.open(f"sqlite:///{tmp_path / 'stalls.db'}", clock=clock, synchronous="NORMAL")
    try:
        engine.deploy([("one_job.bpmn", BPMN)])
        engine.start("one_job", {"kind": "work"})
        [first] = engine.activate_jobs(["work"], "worker-that-dies", lease_ms=10_000)
        assert engine.activate_jobs(["work"], "another", lease_ms=10_000) == []  # leased: nobody else gets it
        clock.advance(timedelta(milliseconds=10_001))  # the lease runs out without a heartbeat or a report
        [second] = engine.activate_jobs(["work"], "another", lease_ms=10_000)
        assert second.key == first.key
        assert (first.retries, first.stalls) == (3, 0)
        assert (second.retries, second.stalls) == (3, 1)
    finally:
        engine.close()
