"""Group commit: many commands in one transaction, each in a savepoint, so one refused rolls back alone.

``Engine.report_jobs`` reports a worker loop's finished jobs with one commit;
starts arriving together on many threads commit together (``grouped``).
Every test runs on SQLite, PostgreSQL and the memory store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.exceptions import JobLost, NotFound
from engine.job_reports import CompleteReport, FailReport
from engine.ports import ManualClock
from engine.runtime import messages as m
from engine.store.memory import MemoryStore

TWO_JOBS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">
  <bpmn:process id="two_jobs" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:serviceTask id="a"><bpmn:extensionElements><zeebe:taskDefinition type="work" />
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a" />
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def any_engine(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[Engine[Any]]:
    """An engine as the ``engine`` fixture opens it (SQLite, PostgreSQL), and one on the memory store."""
    if request.param == "memory":
        engine: Engine[Any] = Engine(MemoryStore(), clock)
    else:
        url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else (
            f"sqlite:///{tmp_path / 'agenthub.db'}")
        engine = Engine.open(str(url), clock=clock, synchronous="NORMAL")
    yield engine
    engine.close()


class Commits:
    """Counts the store's transactions that committed (as bench/engine.py does)."""

    def __init__(self, engine: Engine[Any], gate: threading.Event | None = None) -> None:
        self.count = 0
        self.entered = threading.Event()
        original = engine.store.transaction

        @contextmanager
        def counted() -> Iterator[Any]:
            self.entered.set()
            if gate is not None:
                assert gate.wait(20)
            with original() as tx:
                yield tx
            self.count += 1

        engine.store.transaction = counted  # type: ignore[method-assign]


def _wait(condition: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_batch_of_reports_commits_once_and_a_stale_report_is_refused_alone(any_engine: Engine[Any]) -> None:
    engine = any_engine
    engine.deploy([("two_jobs.bpmn", TWO_JOBS)])
    started = [engine.start("two_jobs", {"i": i}) for i in range(4)]
    jobs = sorted(engine.activate_jobs(["work"], "w", max_jobs=10), key=lambda job: job.instance)
    assert [job.instance for job in jobs] == [s.key for s in started]
    commits = Commits(engine)
    settled = engine.report_jobs([
        CompleteReport(jobs[0].key, worker="w", lock_version=jobs[0].lock_version, variables={"done": 0}),
        CompleteReport(jobs[1].key, worker="w", lock_version=jobs[1].lock_version + 1),  # stale lease
        FailReport(jobs[2].key, "boom", worker="w", lock_version=jobs[2].lock_version, retries=2),
        CompleteReport(jobs[3].key, worker="w", lock_version=jobs[3].lock_version, variables={"done": 3}),
        CompleteReport(999_999_999, worker="w", lock_version=1),  # no such job
    ])
    assert commits.count == 1  # five commands, one commit
    assert [type(s.error) for s in settled] == [type(None), JobLost, type(None), type(None), NotFound]
    assert settled[2].value == 2  # fail_job's result: the retries left
    assert engine.instance(started[0].key).state == "completed"
    assert engine.instance(started[0].key).variables["done"] == 0
    assert engine.instance(started[3].key).state == "completed"
    assert engine.instance(started[1].key).state == "active"
    assert engine.instance(started[2].key).state == "active"
    # the refused report changed nothing: its job is still held under the lease it was activated with
    engine.complete_job(jobs[1].key, {"done": 1}, worker="w", lock_version=jobs[1].lock_version)
    assert engine.instance(started[1].key).state == "completed"
    # a report that arrives after its job was completed in a batch is told it lost the job, as a single one is
    again = engine.report_jobs([CompleteReport(jobs[0].key, worker="w", lock_version=jobs[0].lock_version)])
    assert isinstance(again[0].error, (JobLost, NotFound))


def test_an_empty_batch_of_reports_opens_no_transaction(any_engine: Engine[Any]) -> None:
    commits = Commits(any_engine)
    assert any_engine.report_jobs([]) == []
    assert commits.count == 0


def test_a_savepoint_that_raises_rolls_back_its_own_writes_and_keeps_the_rest(any_engine: Engine[Any]) -> None:
    store = any_engine.store

    def job(key: int) -> m.CreateJob:
        return m.CreateJob(key=key, element_instance=1, element_id="t", type="kept", retries=3, headers={})

    with store.transaction() as tx:
        kept, dropped, after = tx.next_key(), tx.next_key(), tx.next_key()
        tx.jobs.insert(job(kept), 1, "p", 0)
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.jobs.insert(job(dropped), 1, "p", 0)
            raise RuntimeError("rolled back alone")
        with tx.savepoint():
            tx.jobs.insert(job(after), 1, "p", 0)
    with store.reader() as tx:
        assert tx.jobs.get(kept) is not None
        assert tx.jobs.get(dropped) is None
        assert tx.jobs.get(after) is not None


def test_starts_on_many_threads_each_get_their_instance_once_and_a_bad_start_fails_alone(
    any_engine: Engine[Any],
) -> None:
    engine = any_engine
    engine.deploy([("two_jobs.bpmn", TWO_JOBS)])
    threads_n = 8
    results: dict[int, Any] = {}
    barrier = threading.Barrier(threads_n)

    def start(i: int) -> None:
        barrier.wait()
        try:
            results[i] = engine.start("missing" if i == 5 else "two_jobs", {"i": i})
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert isinstance(results[5], NotFound)
    views = {i: v for i, v in results.items() if i != 5}
    assert len({v.key for v in views.values()}) == threads_n - 1
    for i, view in views.items():
        assert engine.instance(view.key).variables["i"] == i
    assert len(engine.activate_jobs(["work"], "w", max_jobs=50)) == threads_n - 1  # each started exactly once


def test_starts_queued_behind_a_running_one_commit_together(any_engine: Engine[Any]) -> None:
    engine = any_engine
    engine.deploy([("two_jobs.bpmn", TWO_JOBS)])
    gate = threading.Event()
    commits = Commits(engine, gate)
    results: dict[int, Any] = {}

    def start(i: int) -> None:
        try:
            results[i] = engine.start("missing" if i == 3 else "two_jobs", {"i": i})
        except Exception as exc:
            results[i] = exc

    first = threading.Thread(target=start, args=(0,))
    first.start()
    assert commits.entered.wait(20)  # the first start leads, held at its transaction
    others = [threading.Thread(target=start, args=(i,)) for i in range(1, 6)]
    for thread in others:
        thread.start()
    _wait(lambda: engine._k.waiting() == 5)
    gate.set()
    for thread in [first, *others]:
        thread.join(30)
    assert commits.count == 2  # six starts: the first alone, the five queued behind it in one group
    assert isinstance(results[3], NotFound)
    keys = [results[i].key for i in (0, 1, 2, 4, 5)]
    assert len(set(keys)) == 5
    assert [engine.instance(k).variables["i"] for k in keys] == [0, 1, 2, 4, 5]


def test_failures_and_errors_reported_together_commit_together_and_a_stale_one_is_refused_alone(
    any_engine: Engine[Any],
) -> None:
    """``fail_job`` and ``throw_error`` (REST's and /v2's failure and error reports) group as completions do."""
    engine = any_engine
    engine.deploy([("two_jobs.bpmn", TWO_JOBS)])
    for i in range(5):
        engine.start("two_jobs", {"i": i})
    jobs = engine.activate_jobs(["work"], "w", max_jobs=10)
    assert len(jobs) == 5
    gate = threading.Event()
    commits = Commits(engine, gate)
    results: dict[int, Any] = {}

    def report(index: int) -> None:
        job = jobs[index]
        try:
            if index == 0:  # leads, held at its transaction while the others queue behind it
                results[index] = engine.fail_job(job.key, "down", retries=2, worker="w", lock_version=job.lock_version)
            elif index == 1:
                results[index] = engine.fail_job(job.key, "stale", worker="w", lock_version=job.lock_version + 1)
            elif index == 2:
                results[index] = engine.throw_error(job.key, "NOPE", "declined", worker="w",
                                                    lock_version=job.lock_version)
            else:
                results[index] = engine.fail_job(job.key, "gone", retries=0, worker="w",
                                                 lock_version=job.lock_version)
        except Exception as exc:
            results[index] = exc

    first = threading.Thread(target=report, args=(0,))
    first.start()
    assert commits.entered.wait(20)
    others = [threading.Thread(target=report, args=(i,)) for i in range(1, 5)]
    for thread in others:
        thread.start()
    _wait(lambda: engine._k.waiting() == 4)
    gate.set()
    for thread in [first, *others]:
        thread.join(30)
    assert commits.count == 2  # five reports: the first alone, the four queued behind it in one group
    assert results[0] == 2
    assert isinstance(results[1], JobLost)  # a lease it does not hold: refused, the others unharmed
    assert results[2] is None and results[3] == 0 and results[4] == 0
    states = {j.instance: engine.instance(j.instance).state for j in jobs}
    assert states[jobs[2].instance] == "incident"  # no boundary event catches NOPE
    assert states[jobs[3].instance] == states[jobs[4].instance] == "incident"  # retries exhausted
    assert states[jobs[0].instance] == states[jobs[1].instance] == "active"
