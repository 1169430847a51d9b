"""Several processes on one database: claims, fencing and parallel joins (RELIABILITY.md D3, D5, D8, D20).

The claim race needs ``SELECT ... FOR UPDATE SKIP LOCKED`` and runs on
PostgreSQL only; fencing and the parallel join run on both stores.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from engine import Engine, JobLost
from engine.ports import ManualClock
from engine.store import SqlStore

DATA = Path(__file__).resolve().parents[2] / "data" / "store"
AGENTHUB = Path(sys.executable).with_name("agenthub")


def _dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL, for plain psycopg connections."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _deploy(engine: Engine, name: str) -> None:
    engine.deploy([(f"{name}.bpmn", (DATA / f"{name}.bpmn").read_bytes())])


def _completions(engine: Engine, instance: int, element: str) -> int:
    journal = engine.journal(instance, limit=10_000)
    return sum(1 for e in journal if e["type"] == "element_completed" and e["elementId"] == element)


def test_three_worker_processes_complete_each_of_300_jobs_exactly_once(postgres_url: str, tmp_path: Path) -> None:
    jobs = 300
    engine = Engine.open(postgres_url)
    try:
        _deploy(engine, "ledger_job")
        instances = [engine.start("ledger_job").key for _ in range(jobs)]
    finally:
        engine.close()
    with psycopg.connect(_dsn(postgres_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE ledger (job_key BIGINT NOT NULL, pid INTEGER NOT NULL)")

    env = {**os.environ, "LEDGER_DSN": _dsn(postgres_url)}
    command = [str(AGENTHUB), "worker", "--workers", str(DATA / "ledger_workers.py"), "--db", postgres_url,
               "--until-idle", "--lease", "10"]
    workers = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [w.communicate(timeout=60) for w in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
        assert "deadlock" not in stderr.lower(), stderr
        assert "Traceback" not in stderr, stderr

    engine = Engine.open(postgres_url)
    try:
        views = [engine.instance(key) for key in instances]
        assert Counter(v.state for v in views) == {"completed": jobs}
        assert all(_completions(engine, key, "Record") == 1 for key in instances)
    finally:
        engine.close()
    with psycopg.connect(_dsn(postgres_url), autocommit=True) as conn:
        ledger = conn.execute("SELECT job_key, pid FROM ledger").fetchall()
        open_jobs = conn.execute("SELECT count(*) FROM jobs").fetchone()
        idle_in_tx = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'"
        ).fetchone()
    runs = Counter(key for key, _ in ledger)
    assert len(runs) == jobs, "every job ran"
    assert max(runs.values()) == 1, "no lease expired at 10 s, so no job ran twice"
    assert len({pid for _, pid in ledger}) >= 2, "the workers shared the jobs"
    assert open_jobs == (0,)
    assert idle_in_tx == (0,)


def test_a_worker_whose_lease_expired_and_was_reclaimed_cannot_complete_or_fail_the_job(db_url: str) -> None:
    clock = ManualClock()
    engine = Engine(SqlStore(db_url), clock)
    try:
        _deploy(engine, "ledger_job")
        instance = engine.start("ledger_job").key
        [first] = engine.activate_jobs(["ledger"], "A", lease_ms=1_000)
        clock.advance(timedelta(seconds=2))
        [second] = engine.activate_jobs(["ledger"], "B", lease_ms=1_000)
        assert second.key == first.key
        assert second.lock_version > first.lock_version

        with pytest.raises(JobLost):
            engine.complete_job(first.key, {"by": "A"}, worker="A", lock_version=first.lock_version)
        with pytest.raises(JobLost):
            engine.fail_job(first.key, "A gives up", worker="A", lock_version=first.lock_version)
        engine.complete_job(second.key, {"by": "B"}, worker="B", lock_version=second.lock_version)

        view = engine.instance(instance)
        assert view.state == "completed"
        assert view.variables["by"] == "B"
        assert _completions(engine, instance, "Record") == 1
    finally:
        engine.close()


def test_both_branches_of_a_parallel_join_completed_at_once_from_two_processes_join_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 30
    engine = Engine.open(db_url, synchronous="NORMAL")
    try:
        _deploy(engine, "parallel_approvals")
        instances = [engine.start("parallel_approvals").key for _ in range(count)]
        tasks = {(t.instance, t.element_id): t.key for t in engine.user_tasks(limit=10 * count)}
    finally:
        engine.close()

    monkeypatch.syspath_prepend(str(DATA))  # spawned children import the racer by name, with this sys.path
    racer = importlib.import_module("join_racer")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    reports = [tmp_path / "a.json", tmp_path / "b.json"]
    processes = [
        context.Process(
            target=racer.complete_in_step,
            args=(db_url, [tasks[(i, element)] for i in instances], barrier, str(report)),
        )
        for element, report in zip(["ApproveA", "ApproveB"], reports, strict=True)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
        process.close()
    for report in reports:
        result = json.loads(report.read_text())
        assert result == {"errors": [], "tasks": count}, "\n".join(result["errors"])

    engine = Engine.open(db_url, synchronous="NORMAL")
    try:
        for key in instances:
            assert engine.instance(key).state == "completed"
            assert _completions(engine, key, "Join") == 1
            assert _completions(engine, key, "End") == 1
    finally:
        engine.close()
