"""D6 and I4, poison jobs: a job that kills its worker every time becomes an incident after 3 stalls.

The ``poison`` handler calls ``os._exit(137)``, as a segfault in a native
library would. The ``agenthub worker`` process running it dies, a supervisor
(here, the test) starts it again, and the job, whose lease ran out, is
claimed again: a stall. After ``max_stalls`` (3) the engine stops offering
it and raises an incident instead, so the job does not loop forever, and the
jobs of other instances keep flowing.
"""

from __future__ import annotations

import time

from tests.durability.harness import MODELS, Sandbox, wait_for

LEASE_S = 0.5
MAX_STALLS = 3


def _start(box: Sandbox, others: int) -> tuple[int, list[int]]:
    with box.engine() as engine:
        engine.deploy([(f"{name}.bpmn", (MODELS / f"{name}.bpmn").read_bytes()) for name in ("d_poison", "d_straight")])
        poison = engine.start("d_poison", {"case": "poison"}).key  # first, so its job is first in line
        good = [engine.start("d_straight", {"case": f"good-{n}", "amount": n}).key for n in range(others)]
    return poison, good


def _leased(box: Sandbox) -> bool:
    """Whether a job is locked under a lease that has not run out yet."""
    now = int(time.time() * 1000)
    return bool(box.sql("SELECT 1 FROM jobs WHERE state = 'locked' AND lock_expires_at >= ?", (now,)))


def _work_until_quiet(box: Sandbox, *args: str, **env: str) -> list[int]:
    """Run ``agenthub worker --until-idle`` again each time it dies, as a supervisor would; returns exit statuses."""
    statuses: list[int] = []
    while box.open_jobs() > 0:
        assert len(statuses) < 10, f"the poison job kept killing workers: exit statuses {statuses}"
        # a job held by the last, dead worker is claimable once its lease ran out
        wait_for(lambda: not _leased(box), 10, "the dead worker's leases to run out")
        status, _ = box.finish(box.worker("--until-idle", "--lease", str(LEASE_S), *args, **env))
        statuses.append(status)
    return statuses


def _assert_poison_is_an_incident(box: Sandbox, poison: int) -> None:
    attempts = box.ledger("SELECT count(*) FROM attempts WHERE job_type = 'poison'")[0][0]
    assert attempts == MAX_STALLS, f"the poison handler ran {attempts} times"
    ((element, message, job),) = box.sql(
        "SELECT element_id, message, job_key FROM incidents WHERE state = 'open' AND instance_key = ?", (poison,)
    )
    assert element == "Crash"
    assert f"claimed {MAX_STALLS} times by workers that died" in message, message
    assert box.sql("SELECT state, stalls FROM jobs WHERE key = ?", (job,)) == [("failed", MAX_STALLS)]
    assert box.sql("SELECT status, incidents FROM instances WHERE key = ?", (poison,)) == [("active", 1)]


def _assert_others_completed(box: Sandbox, poison: int, good: list[int]) -> None:
    incidents = box.sql("SELECT instance_key, element_id, message FROM incidents WHERE instance_key != ?", (poison,))
    assert incidents == [], f"jobs that did nothing wrong became incidents: {incidents}"
    states = dict(box.sql("SELECT key, status FROM instances"))
    assert [states[key] for key in good] == ["completed"] * len(good)
    box.assert_invariants()
    box.assert_effects_match_jobs()


def test_a_job_that_kills_its_worker_every_time_becomes_an_incident_after_three_stalls(sandbox: Sandbox) -> None:
    poison, good = _start(sandbox, 3)
    statuses = _work_until_quiet(sandbox, "--concurrency", "1")
    assert statuses == [137] * MAX_STALLS + [0], statuses
    _assert_poison_is_an_incident(sandbox, poison)
    _assert_others_completed(sandbox, poison, good)
    assert sandbox.duplicates() == 0


def test_jobs_claimed_in_one_batch_with_a_poison_job_do_not_become_incidents(sandbox: Sandbox) -> None:
    # The CLI's default concurrency claims up to 4 jobs at once; the other three handlers are still running
    # (300 ms each) when the poison job kills the process. They died with it, but they are not poison.
    poison, good = _start(sandbox, 3)
    statuses = _work_until_quiet(sandbox, "--concurrency", "4", DURABILITY_HANDLER_DELAY_MS="300")
    assert statuses.count(137) == MAX_STALLS, statuses
    _assert_poison_is_an_incident(sandbox, poison)
    _assert_others_completed(sandbox, poison, good)
