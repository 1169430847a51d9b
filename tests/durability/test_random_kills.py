"""A bounded D2 on SQLite: two ``agenthub worker`` processes, one of them SIGKILLed every 0.2 to 1.0 s.

Sixty instances of a mixed model (a service task, a parallel split into a
multi-instance x3 and a subprocess, a join, an XOR, a job that fails once)
are worked by two worker processes with a 1 s lease while the test kills a
random one of them at random moments and starts it again, as a supervisor
would, for at most 25 s. Then a last worker runs everything to its end, and:

- every instance completed, with the variables its inputs determine;
- every job the engine created ran (its key is in the ledger at least once),
  and each effect, per instance, element and loop counter, ran under exactly
  one job key: duplicates are re-runs of one job (at least once), never a
  second job for one step (I4, I5);
- I3, I7 and I12 hold, and the stored state agrees with the rows (I1).
"""

from __future__ import annotations

import random
import subprocess
import time
from collections import defaultdict

import pytest

from tests.durability.harness import MODELS, Sandbox, wait_for

INSTANCES = 60
KILLING_S = 25.0
WORKER = ("--lease", "1", "--concurrency", "2")


def _expected(n: int) -> dict[str, object]:
    amount = 500 if n % 2 else 50
    return {
        "case": f"mixed-{n}",
        "amount": amount,
        "charged": amount,
        "results": [f"{n}-{i}-{i + 1}" for i in range(3)],
        "result": (n + 1) * 3 * 10,
        "route": "big" if amount > 100 else "small",
        "flakyDone": True,
    }


def _unfinished(box: Sandbox) -> int:
    return int(box.sql("SELECT count(*) FROM instances WHERE status != 'completed'")[0][0])


@pytest.mark.slow
def test_workers_killed_at_random_lose_nothing_and_run_each_step_under_one_job(sandbox: Sandbox) -> None:
    rng = random.Random("random-kills")  # seeded, so a failure replays with the same kill schedule
    with sandbox.engine() as engine:
        engine.deploy([("d_mixed.bpmn", (MODELS / "d_mixed.bpmn").read_bytes())])
        for n in range(INSTANCES):
            items = [{"sku": f"{n}-{i}"} for i in range(3)]
            engine.start("d_mixed", {"case": f"mixed-{n}", "amount": 500 if n % 2 else 50, "base": n, "items": items})

    def start_worker() -> subprocess.Popen[str]:
        return sandbox.worker(*WORKER, DURABILITY_HANDLER_DELAY_MS="20")

    workers = [start_worker(), start_worker()]
    kills = 0
    stop_at = time.monotonic() + KILLING_S
    while time.monotonic() < stop_at and _unfinished(sandbox):
        time.sleep(rng.uniform(0.2, 1.0))
        victim = rng.randrange(len(workers))
        workers[victim].kill()
        workers[victim].wait(30)
        kills += 1
        workers[victim] = start_worker()
    for process in workers:
        process.kill()
        process.wait(30)
    assert kills >= 5, f"only {kills} kills: the run proves little"

    # To quiescence: a worker that stops when nothing is due, run again while jobs of killed workers wait out
    # their leases.
    def quiet() -> bool:
        if sandbox.open_jobs() == 0:
            return True
        status, _ = sandbox.finish(sandbox.worker("--until-idle", *WORKER))
        assert status == 0, sandbox.stderr()
        return sandbox.open_jobs() == 0

    wait_for(quiet, 90, "the last worker to finish every job", interval_s=0.2)

    states = sandbox.states()
    assert len(states) == INSTANCES
    by_case = {dict(s["variables"])[s["root"]]["case"]: (key, s) for key, s in states.items()}
    for n in range(INSTANCES):
        key, state = by_case[f"mixed-{n}"]
        assert state["status"] == "completed", f"instance {key} is {state['status']}"
        variables = dict(state["variables"])[state["root"]]
        expected = _expected(n)
        assert {k: variables.get(k) for k in expected} == expected, f"instance {key}"

    created = {int(data["job"]) for _, kind, _, _, data in sandbox.journal() if kind == "job_created"}
    ran = {int(k) for (k,) in sandbox.ledger("SELECT DISTINCT job_key FROM effects")}
    assert created == ran, f"jobs never run: {sorted(created - ran)[:10]}; effects of unknown jobs: {ran - created}"
    steps: dict[tuple[int, str, int | None], set[int]] = defaultdict(set)
    for instance, element, counter, job in sandbox.ledger(
        "SELECT instance, element_id, loop_counter, job_key FROM effects"
    ):
        steps[(int(instance), element, counter)].add(int(job))
    twice = {step: jobs for step, jobs in steps.items() if len(jobs) != 1}
    assert not twice, f"steps whose effect ran under more than one job: {twice}"
    assert len(steps) == INSTANCES * 7  # Charge, Ship x3, Inner, Big or Small, Flaky
    sandbox.assert_invariants()
    sandbox.assert_effects_match_jobs()
