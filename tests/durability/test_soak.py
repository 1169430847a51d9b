"""D2, the random-kill soak, on SQLite and on PostgreSQL: worker processes and the driver SIGKILLed at random.

``INSTANCES`` instances of ``tests/data/durability/events/e_soak.bpmn`` (a
service task, an XOR split and merge, a parallel split into a service task,
a PT0S or PT1S timer followed by a user task, and a message catch, then a
parallel join and a service task that reads every branch's result) run
against ``WORKERS`` ``agenthub worker`` processes (1 s lease) and one driver
process (``events/driver.py soak``) that starts the instances, publishes their
messages (half ahead of time with a TTL and a message id, half to the open
subscription) and completes their user tasks. For ``KILLING_S`` seconds, every
0.2 to 2 s, a random one of these processes is SIGKILLed and started again,
as a supervisor would (the driver one time in four). Then the survivors are
killed too, and everything is run to quiescence. It must hold that:

- every instance completed, with the variables its inputs determine;
- every job the engine created ran: the ledger's job keys are the engine's
  job keys; duplicates only under one key (at least once), and each step
  (instance, element) ran under exactly one job key (I4, I5);
- each instance correlated one message, completed one user task and fired
  its timer once (I8, I9);
- I1, I3 (no orphan), I7 (unique keys), and I12: no job left locked, SQLite's
  integrity check, no PostgreSQL session idle in a transaction.

Budget: about 90 s per database on 2 cores. ``INSTANCES`` and ``KILLING_S``
are the knobs; the seed makes a failure replay the same kill schedule.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.durability.harness import DATA, DbSandbox, db_sandbox, wait_for

EVENTS = DATA / "events"
INSTANCES = 500
WORKERS = 2
KILLING_S = 30.0
WORKER_ARGS = ("--lease", "1", "--concurrency", "4")
SEED = "soak"
HANDLER_DELAY_MS = 20


@pytest.fixture
def box(db_url: str, tmp_path: Path, migrated_db: Path) -> Iterator[DbSandbox]:
    sandbox = db_sandbox(db_url, tmp_path / "box", migrated_db, workers=EVENTS / "workers.py")
    yield sandbox
    sandbox.stop_all()


def _expected(n: int) -> dict[str, object]:
    amount = 500 if n % 2 else 50
    route = "big" if amount > 100 else "small"
    return {
        "case": f"soak-{n}",
        "amount": amount,
        "charged": amount,
        "route": route,
        "packed": True,
        "approved": True,
        "paid": amount,
        "notified": f"soak-{n}:{amount}:{route}:True:{amount}",
    }


def _unfinished(box: DbSandbox) -> int:
    return int(box.sql("SELECT count(*) FROM instances WHERE status <> 'completed'")[0][0])


@pytest.mark.slow
def test_d2_soak_random_kills_of_workers_and_driver_lose_nothing_and_repeat_no_step(box: DbSandbox) -> None:
    rng = random.Random(f"{SEED}-{box.kind}")
    began = time.monotonic()

    def driver() -> subprocess.Popen[str]:
        return box.spawn(
            [sys.executable, str(EVENTS / "driver.py"), "soak", "--db", box.url, "--instances", str(INSTANCES)]
        )

    def worker() -> subprocess.Popen[str]:
        return box.worker(*WORKER_ARGS, DURABILITY_HANDLER_DELAY_MS=str(HANDLER_DELAY_MS))

    processes = [driver(), *(worker() for _ in range(WORKERS))]
    kills: Counter[str] = Counter()
    stop_at = time.monotonic() + KILLING_S
    while time.monotonic() < stop_at:
        time.sleep(rng.uniform(0.2, 2.0))
        if processes[0].poll() == 0 and _unfinished(box) == 0:
            break  # the driver saw every instance complete
        victim = 0 if rng.random() < 0.25 else rng.randrange(1, len(processes))
        if processes[victim].poll() is None:
            processes[victim].kill()
            kills["driver" if victim == 0 else "worker"] += 1
        processes[victim].wait(30)
        processes[victim] = driver() if victim == 0 else worker()
    for process in processes:
        process.kill()
        process.wait(30)
    killing = time.monotonic() - began
    assert kills["worker"] >= 3 and kills.total() >= 5, f"only {dict(kills)} kills: the run proves little"

    # To quiescence: the driver completes what is left for it (tasks, messages) while workers run
    workers = [worker() for _ in range(WORKERS)]
    status, _ = box.finish(driver(), timeout_s=240)
    assert status == 0, box.stderr()
    for process in workers:
        process.kill()
        process.wait(30)
    wait_for(lambda: box.open_jobs() == 0, 5, "no job left open")
    elapsed = time.monotonic() - began
    print(
        f"soak on {box.kind}: {INSTANCES} instances, kills {dict(kills)}, killing phase {killing:.1f} s, "
        f"total {elapsed:.1f} s, duplicate effects {box.duplicates()}"
    )

    states = box.states()
    assert len(states) == INSTANCES, f"{len(states)} instances for {INSTANCES} cases"
    by_case = {dict(s["variables"])[s["root"]]["case"]: (key, s) for key, s in states.items()}
    for n in range(INSTANCES):
        key, state = by_case[f"soak-{n}"]
        assert state["status"] == "completed", f"instance {key} is {state['status']}"
        variables = dict(state["variables"])[state["root"]]
        expected = _expected(n)
        assert {k: variables.get(k) for k in expected} == expected, f"instance {key}"

    # every job's effect applied, under its own key; duplicates are re-runs of one job
    created = {int(data["job"]) for _, kind, _, _, data in box.journal() if kind == "job_created"}
    ran = {int(k) for (k,) in box.ledger("SELECT DISTINCT job_key FROM effects")}
    assert created == ran, f"jobs never run: {sorted(created - ran)[:10]}; effects of unknown jobs: {ran - created}"
    steps: dict[tuple[int, str], set[int]] = defaultdict(set)
    for instance, element, job in box.ledger("SELECT instance, element_id, job_key FROM effects"):
        steps[(int(instance), element)].add(int(job))
    twice = {step: jobs for step, jobs in steps.items() if len(jobs) != 1}
    assert not twice, f"steps whose effect ran under more than one job: {twice}"
    assert len(steps) == INSTANCES * 4  # Charge, Big or Small, Pack, Notify

    # one message, one user task, one timer firing per instance
    correlations = Counter(int(i) for (i,) in box.sql("SELECT instance_key FROM message_correlations"))
    assert set(correlations) == set(states) and set(correlations.values()) == {1}, "a message correlated twice"
    tasks = Counter(int(i) for i, s in box.sql("SELECT instance_key, state FROM user_tasks") if s == "completed")
    assert set(tasks) == set(states) and set(tasks.values()) == {1}
    fired = Counter(i for i, kind, element, _, _ in box.journal() if kind == "element_completed" and element == "Delay")
    assert set(fired) == set(states) and set(fired.values()) == {1}
    assert box.sql("SELECT count(*) FROM timers")[0][0] == 0
    assert box.sql("SELECT count(*) FROM subscriptions WHERE instance_key IS NOT NULL")[0][0] == 0

    box.assert_invariants()  # I1, I3, I7, I12 (no job locked; integrity check / no idle-in-transaction session)
    box.assert_effects_match_jobs()
