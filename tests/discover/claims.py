"""A generated log with known ground truth: claims that people review for two hours (the bottleneck), with one
rework loop, one rejection, two payments that raise an incident, and the rest approved (a repetitive decision).

``run_claims`` drives an engine on a manual clock, so every duration in the
journal is exactly what the ground truth says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from engine import Actor, Channel, Engine
from engine.ports import ManualClock

CLAIM = Path(__file__).resolve().parents[1] / "data" / "discover" / "claim.bpmn"
REVIEWER = Actor(id="alice", channel=Channel.REST, person=True)
STARTER = Actor(id="intake", channel=Channel.REST)


@dataclass(frozen=True)
class Truth:
    instances: int = 20
    review: timedelta = timedelta(hours=2)
    check: timedelta = timedelta(minutes=1)
    pay: timedelta = timedelta(minutes=1)
    incident_for: timedelta = timedelta(minutes=30)
    reworked: tuple[int, ...] = (0,)  # asked for more on the first review
    rejected: tuple[int, ...] = (1,)
    failing: tuple[int, ...] = (2, 3)  # the payment fails once: an incident, resolved after incident_for

    @property
    def completed(self) -> int:
        return self.instances

    @property
    def decisions(self) -> int:
        return self.instances + len(self.reworked)

    @property
    def approvals(self) -> int:
        return self.instances - len(self.rejected)


def _job(engine: Engine, job_type: str) -> tuple[int, int]:
    [job] = engine.activate_jobs([job_type], "w", max_jobs=1)
    return job.key, job.lock_version


def run_claims(engine: Engine, clock: ManualClock, truth: Truth = Truth()) -> list[int]:
    """Deploy the claim process and run ``truth.instances`` instances one after another; their keys."""
    engine.deploy([("claim.bpmn", CLAIM.read_bytes())])
    keys = []
    for n in range(truth.instances):
        key = engine.start("claim", {"claim": n}, by=STARTER).key
        keys.append(key)
        answers = (["more"] if n in truth.reworked else []) + ["reject" if n in truth.rejected else "approve"]
        for answer in answers:
            clock.advance(truth.check)
            job, lock = _job(engine, "check-claim")
            engine.complete_job(job, {}, worker="w", lock_version=lock)
            clock.advance(truth.review)
            [task] = engine.user_tasks(instance=key)
            engine.complete_user_task(task.key, {"decision": answer}, by=REVIEWER)
        if n in truth.rejected:
            continue
        clock.advance(truth.pay)
        job, lock = _job(engine, "pay-claim")
        if n in truth.failing:
            engine.fail_job(job, "bank unreachable", retries=0, worker="w", lock_version=lock)
            clock.advance(truth.incident_for)
            [incident] = engine.incidents(instance=key)
            engine.resolve_incident(incident.key, by=REVIEWER)
            job, lock = _job(engine, "pay-claim")
        engine.complete_job(job, {}, worker="w", lock_version=lock)
    return keys
