"""D5 and I6, fencing: a worker whose lease expired and whose job went to another worker cannot report on it.

In process, on a manual clock: worker A claims a job with a 1 s lease, the
clock moves past it, worker B claims the same job (a new lock version) and
completes it. Whatever A then reports with its old lease is refused, and the
token moved once, with B's variables.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from engine import ActivatedJob, Engine, EngineError, JobLost
from engine.ports import ManualClock
from tests.durability.harness import MODELS

LEASE_MS = 1000


def _two_claims(engine: Engine, clock: ManualClock) -> tuple[int, ActivatedJob, ActivatedJob]:
    """Start an instance; A claims its first job, the lease runs out, B claims it again."""
    engine.deploy([("d_straight.bpmn", (MODELS / "d_straight.bpmn").read_bytes())])
    instance = engine.start("d_straight", {"case": "fencing", "amount": 5}).key
    (a,) = engine.activate_jobs(["charge"], "A", lease_ms=LEASE_MS)
    clock.advance(timedelta(milliseconds=LEASE_MS - 1))
    assert engine.activate_jobs(["charge"], "B", lease_ms=LEASE_MS) == [], "claimed while A's lease still ran"
    clock.advance(timedelta(milliseconds=2))
    (b,) = engine.activate_jobs(["charge"], "B", lease_ms=LEASE_MS)
    assert b.key == a.key and b.lock_version > a.lock_version
    return instance, a, b


def _assert_moved_once(engine: Engine, instance: int, charged: str) -> None:
    events = Counter((e["type"], e["elementId"]) for e in engine.journal(instance))
    assert events[("element_completed", "Charge")] == 1
    assert events[("job_completed", "Charge")] == 1
    assert events[("job_created", "Pack")] == 1
    assert engine.instance(instance).variables["charged"] == charged
    assert [j.type for j in engine.activate_jobs(None, "C")] == ["pack"]


def test_a_worker_whose_job_was_taken_over_cannot_complete_fail_or_extend_it(
    engine: Engine, clock: ManualClock
) -> None:
    instance, a, b = _two_claims(engine, clock)
    with pytest.raises(JobLost):
        engine.complete_job(a.key, {"charged": "A"}, worker="A", lock_version=a.lock_version)
    with pytest.raises(JobLost):
        engine.fail_job(a.key, "A gave up", worker="A", lock_version=a.lock_version)
    with pytest.raises(JobLost):
        engine.throw_error(a.key, "CARD_DECLINED", worker="A", lock_version=a.lock_version)
    assert not engine.extend_lease(a, LEASE_MS)
    engine.complete_job(b.key, {"charged": "B"}, worker="B", lock_version=b.lock_version)
    _assert_moved_once(engine, instance, "B")


def test_a_stale_worker_reporting_after_the_new_owner_completed_changes_nothing(
    engine: Engine, clock: ManualClock
) -> None:
    instance, a, b = _two_claims(engine, clock)
    engine.complete_job(b.key, {"charged": "B"}, worker="B", lock_version=b.lock_version)
    journal = engine.journal(instance)
    with pytest.raises(EngineError):
        engine.complete_job(a.key, {"charged": "A"}, worker="A", lock_version=a.lock_version)
    with pytest.raises(EngineError):
        engine.fail_job(a.key, "A gave up", worker="A", lock_version=a.lock_version)
    assert engine.journal(instance) == journal
    _assert_moved_once(engine, instance, "B")


def test_a_stale_worker_reporting_after_the_new_owner_completed_is_told_it_lost_the_job(
    engine: Engine, clock: ManualClock
) -> None:
    _, a, b = _two_claims(engine, clock)
    engine.complete_job(b.key, {"charged": "B"}, worker="B", lock_version=b.lock_version)
    with pytest.raises(JobLost):
        engine.complete_job(a.key, {"charged": "A"}, worker="A", lock_version=a.lock_version)


def test_a_late_worker_whose_job_nobody_took_over_may_still_complete_it(engine: Engine, clock: ManualClock) -> None:
    # Zeebe's rule too: an expired lease only loses to a new claim (I6 fences re-claimed jobs, not slow ones).
    engine.deploy([("d_straight.bpmn", (MODELS / "d_straight.bpmn").read_bytes())])
    instance = engine.start("d_straight", {"case": "late", "amount": 5}).key
    (a,) = engine.activate_jobs(["charge"], "A", lease_ms=LEASE_MS)
    clock.advance(timedelta(milliseconds=LEASE_MS * 5))
    engine.complete_job(a.key, {"charged": "A"}, worker="A", lock_version=a.lock_version)
    _assert_moved_once(engine, instance, "A")
