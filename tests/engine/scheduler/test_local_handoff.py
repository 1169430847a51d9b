"""Jobs locked for this process's worker loop reach its queue, even when the loop starts or stops mid-transaction.

A step that creates a job of a type the in-process worker loop handles writes the job already locked for that
loop and hands it over once the transaction commits (``engine.scheduler.local``). A loop that starts on another
thread while a transaction runs was seen by the step (the job locked for it) but not by the commit, which handed
nothing over: the job sat locked, run by nobody, until its lease ran out (a flaky retry test found it: 60 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.scheduler.local import LocalJobs
from tests.engine.scheduler.test_worker_loop import BPMN


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'handoff.db'}"
    opened = Engine.open(url)
    opened.deploy([("one_job.bpmn", BPMN)])
    yield opened
    opened.close()


def _starting_during_transactions(engine: Engine, monkeypatch: pytest.MonkeyPatch, local: LocalJobs | None) -> None:
    """Every transaction from now on begins, then ``engine.local_jobs`` becomes ``local``: a worker loop starting
    (or stopping, with None) on another thread at that moment."""
    real = engine.store.transaction

    @contextmanager
    def transaction(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with real(*args, **kwargs) as tx:
            engine.local_jobs = local
            yield tx

    monkeypatch.setattr(engine.store, "transaction", transaction)


def test_a_job_locked_for_a_loop_that_started_during_the_transaction_is_handed_to_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[bool] = []
    local = LocalJobs("loop-1", frozenset({"work"}), lease_ms=60_000, capacity=8, wake=lambda: woken.append(True))
    _starting_during_transactions(engine, monkeypatch, local)
    started = engine.start("one_job", {"kind": "work"})
    [job] = local.take(10)
    assert (job.instance, job.type, job.worker) == (started.key, "work", "loop-1") and woken
    assert engine.activate_jobs(["work"], "someone-else") == []  # locked for the loop, which has it queued


def test_a_job_is_claimable_when_no_loop_was_there_as_the_step_ran(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalJobs("loop-1", frozenset({"work"}), lease_ms=60_000, capacity=8)
    engine.local_jobs = local
    _starting_during_transactions(engine, monkeypatch, None)  # the loop stops as the transaction begins
    engine.start("one_job", {"kind": "work"})
    assert local.take(10) == []
    [claimed] = engine.activate_jobs(["work"], "someone-else")  # not locked for a loop that is gone
    assert claimed.worker == "someone-else"
