"""RELIABILITY D23: a large store (100,000 finished instances, 10,000 waiting) keeps claims on their indexes.

The 100,000 finished instances are copies of a real finished one (bulk
``INSERT ... SELECT``); the 10,000 waiting ones are started through the
engine. Two workers then claim and complete every job. Checked: each job
completes exactly once and every instance ends; the claim's statements are
answered from ``ix_jobs_lock`` and ``ix_jobs_due`` (SQLite's plan names no
scan of ``jobs``); claim latencies are printed, not asserted (timing lives in
bench/, see bench/scale.py for PostgreSQL at 1,000,000 finished).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine import Engine
from tests.models import one_service_task

pytestmark = pytest.mark.slow

_PROCESS = one_service_task("one")
FINISHED = 100_000
WAITING = 10_000


def _copy_finished(engine: Engine, instance: int, copies: int) -> None:
    store: Any = engine.store
    with store.engine.begin() as conn:
        names = [row[1] for row in conn.execute(text("PRAGMA table_info(instances)")).all()]
        values = ", ".join("10000000000 + n.i" if c == "key" else c for c in names)
        conn.execute(text(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :c) "
            f"INSERT INTO instances ({', '.join(names)}) SELECT {values} FROM instances, n WHERE key = :k"
        ), {"c": copies, "k": instance})
        conn.execute(text("ANALYZE"))


def _plans(engine: Engine) -> list[str]:
    store: Any = engine.store
    with store.engine.connect() as conn:
        queries = [
            "SELECT key FROM jobs WHERE state = 'locked' AND lock_expires_at < 1 ORDER BY lock_expires_at LIMIT 16",
            "SELECT key FROM jobs WHERE state = 'ready' AND due_at <= 1 ORDER BY due_at, key LIMIT 32",
            "SELECT key FROM jobs WHERE state = 'ready' AND due_at <= 1 AND type IN ('work') "
            "ORDER BY due_at, key LIMIT 32",
        ]
        return [" ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {q}")).all()) for q in queries]


def test_two_workers_drain_a_large_store_exactly_once_on_the_claim_indexes(tmp_path: Path) -> None:
    engine = Engine.open(f"sqlite:///{tmp_path / 'large.db'}", synchronous="NORMAL")
    try:
        engine.deploy([("one.bpmn", _PROCESS)])
        first = engine.start("one", {}).key
        [job] = engine.activate_jobs(["work"], "seed", max_jobs=1)
        engine.complete_job(job.key, {}, worker="seed", lock_version=job.lock_version)
        assert engine.instance(first).state == "completed"
        _copy_finished(engine, first, FINISHED)
        keys = [engine.start("one", {"n": i}).key for i in range(WAITING)]

        for plan in _plans(engine):
            assert "USING INDEX ix_jobs_" in plan or "USING COVERING INDEX ix_jobs_" in plan, plan
            assert "SCAN jobs" not in plan and "TEMP B-TREE" not in plan, plan

        completed: Counter[int] = Counter()
        latencies: list[float] = []
        lock = threading.Lock()

        def work(name: str) -> None:
            while True:
                started = time.perf_counter()
                jobs = engine.activate_jobs(["work"], name, max_jobs=32)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                if not jobs:
                    return
                for claimed in jobs:
                    engine.complete_job(claimed.key, {}, worker=name, lock_version=claimed.lock_version)
                    with lock:
                        completed[claimed.key] += 1

        workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=600)
        assert len(completed) == WAITING and set(completed.values()) == {1}
        assert {engine.instance(k).state for k in (keys[0], keys[WAITING // 2], keys[-1])} == {"completed"}
        assert engine.instances(state="active", limit=1) == []
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"\nD23: {FINISHED:,} finished + {WAITING:,} waiting, 2 workers: {len(latencies)} claims, "
              f"median {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms")
    finally:
        engine.close()
