"""The hardening issue's findings 2 and 3: one big instance or a recovery must not starve everyone else.

- Finding 2: one multi-instance activity over thousands of items held every
  claim until it was done, and the worker loop renewed each queued job's
  lease in a transaction of its own.
- Finding 3: jobs whose worker died were recovered one at a time, each
  alone, so 20 stalled 30-second jobs took 10 minutes and fresh jobs waited.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine import Engine, WorkerLoop, WorkerRegistry
from engine.ports import ManualClock
from engine.scheduler import Job, WorkerSettings

DATA = Path(__file__).resolve().parents[2] / "data" / "limits"


def _deploy(engine: Engine) -> None:
    engine.deploy([("many_jobs.bpmn", (DATA / "many_jobs.bpmn").read_bytes())])


def test_a_big_multi_instance_does_not_take_every_claim_from_other_instances(engine: Engine) -> None:
    _deploy(engine)
    big = engine.start("many_jobs", {"count": 300}).key
    small = [engine.start("many_jobs", {"count": 2}).key for _ in range(3)]  # created after the big one's 300
    claimed = engine.activate_jobs(["work"], "w", max_jobs=8)
    instances = [job.instance for job in claimed]
    assert len(claimed) == 8
    assert instances.count(big) == 4  # half the batch; the other instances' four oldest due jobs fill the rest
    assert [instances.count(key) for key in small] == [2, 2, 0], "later instances waited behind the big one's 300"


def test_the_batch_stays_full_when_only_one_instance_has_work(engine: Engine) -> None:
    _deploy(engine)
    big = engine.start("many_jobs", {"count": 20}).key
    claimed = engine.activate_jobs(["work"], "w", max_jobs=8)
    assert [job.instance for job in claimed] == [big] * 8


def test_stalled_jobs_are_recovered_in_parallel_and_fresh_jobs_flow_beside_them(
    engine: Engine, clock: ManualClock
) -> None:
    _deploy(engine)
    engine.start("many_jobs", {"count": 6})
    died = engine.activate_jobs(["work"], "dead-worker", max_jobs=6, lease_ms=1_000)
    assert len(died) == 6
    clock.advance(timedelta(seconds=5))  # the dead worker's leases ran out
    fresh = engine.start("many_jobs", {"count": 2}).key
    recovered = engine.activate_jobs(["work"], "new-worker", max_jobs=8, lease_ms=10_000)
    stalled = [job for job in recovered if job.instance != fresh]
    assert len(stalled) >= 2, "stalled jobs came back one at a time"
    assert [job.instance for job in recovered].count(fresh) == 2, "fresh jobs waited behind the recovery"
    assert all(job.stalls == 1 for job in stalled)


def test_a_job_that_stalled_twice_is_claimed_alone(engine: Engine, clock: ManualClock) -> None:
    _deploy(engine)
    engine.start("many_jobs", {"count": 3})
    for _ in range(2):
        assert engine.activate_jobs(["work"], "dying", max_jobs=1, lease_ms=1_000)
        clock.advance(timedelta(seconds=5))
    alone = engine.activate_jobs(["work"], "careful", max_jobs=8, lease_ms=10_000, max_stalls=3)
    assert len(alone) == 1 and alone[0].stalls == 2


def test_the_worker_loop_runs_recovered_jobs_side_by_side(tmp_path: Path) -> None:
    """Recovered jobs run in parallel: the loop's handlers overlap instead of waiting for each other."""
    engine = Engine.open(f"sqlite:///{tmp_path / 'recovery.db'}", synchronous="NORMAL")
    try:
        _deploy(engine)
        engine.start("many_jobs", {"count": 4})
        assert len(engine.activate_jobs(["work"], "dead-worker", max_jobs=4, lease_ms=200)) == 4
        time.sleep(0.3)  # the dead worker's leases run out (a real clock: the loop runs on it)
        running, most = 0, 0
        guard = threading.Lock()

        def work(job: Job) -> dict[str, Any]:
            nonlocal running, most
            with guard:
                running += 1
                most = max(most, running)
            time.sleep(0.3)
            with guard:
                running -= 1
            return {}

        workers = WorkerRegistry()
        workers.register("work", work)
        WorkerLoop(engine, workers, settings=WorkerSettings(concurrency=4)).run(until_idle=True)
        assert most >= 2, "recovered jobs ran one at a time"
        assert engine.instances(state="completed", limit=10)
    finally:
        engine.close()


def test_the_heartbeat_renews_every_queued_lease_in_one_transaction(engine: Engine) -> None:
    _deploy(engine)
    engine.start("many_jobs", {"count": 40})
    jobs = engine.activate_jobs(["work"], "w", max_jobs=40)
    transactions = 0
    original = engine.store.transaction

    def counting() -> Any:
        nonlocal transactions
        transactions += 1
        return original()

    engine.store.transaction = counting  # type: ignore[method-assign]
    try:
        lost = engine.extend_leases(jobs, 10_000)
    finally:
        engine.store.transaction = original  # type: ignore[method-assign]
    assert lost == set() and transactions == 1
