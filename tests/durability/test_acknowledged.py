"""I2, acknowledged means durable: what the engine said it did before a SIGKILL is there after the restart.

A driver starts instances of a one-user-task process and completes their
tasks, printing (and flushing) each instance key as soon as ``start``
returned and each task key as soon as ``complete_user_task`` returned. The
test kills it at a random moment, 0 to 500 ms into its work, several times
on the same database, and checks after every kill that each printed key is
there, and that nothing half-done is: an instance exists with its user task,
a completed task with its completed instance (I1).

A kill is an application crash, which SQLite in WAL mode survives with
``synchronous=NORMAL``; the FULL variant runs the same check with the
setting that also covers power loss.
"""

from __future__ import annotations

import json
import random
import time

import pytest

from tests.durability.harness import KILLED, Sandbox


def _check(box: Sandbox, started: set[int], completed: dict[int, int], kills: int) -> None:
    instances = {int(k): status for k, status in box.sql("SELECT key, status FROM instances")}
    tasks = {int(k): (int(i), state) for k, i, state in box.sql("SELECT key, instance_key, state FROM user_tasks")}
    lost = started - set(instances)
    assert not lost, f"acknowledged starts lost after a kill: {sorted(lost)}"
    for task, instance in completed.items():
        assert tasks.get(task) == (instance, "completed"), f"acknowledged completion of task {task} lost"
        assert instances[instance] == "completed", f"instance {instance}: task {task} completed, instance is not"
    for instance, status in instances.items():
        states = [state for i, state in tasks.values() if i == instance]
        want = ["completed"] if status == "completed" else ["created"]
        assert states == want, f"instance {instance} ({status}) has user tasks {states}: half a step committed"
    # a kill can cut off at most one acknowledgement of each kind: the command that committed as it died
    assert len(instances) - len(started) <= kills
    assert sum(1 for i, state in tasks.values() if state == "completed") - len(completed) <= kills
    assert box.sql("PRAGMA integrity_check") == [("ok",)]
    box.assert_state_matches_rows()
    box.assert_no_orphans()
    box.assert_keys_unique()


@pytest.mark.parametrize(("synchronous", "kills"), [("NORMAL", 6), ("FULL", 3)])
def test_every_acknowledged_start_and_completion_survives_a_kill(
    sandbox: Sandbox, synchronous: str, kills: int
) -> None:
    sandbox.synchronous = synchronous
    rng = random.Random(f"acknowledged-{synchronous}")  # seeded, so a failure replays with the same delays
    started: set[int] = set()
    completed: dict[int, int] = {}
    for kill in range(1, kills + 1):
        process = sandbox.driver("ack")
        lines = sandbox.read_lines(process)
        settings = json.loads(lines.wait_for("ready ").removeprefix("ready "))
        assert settings == {"database": "sqlite", "journal_mode": "WAL", "synchronous": synchronous}
        time.sleep(rng.uniform(0.0, 0.5))
        process.kill()
        assert process.wait(30) == KILLED
        for line in lines.close():
            word, *keys = line.split()
            if word == "started":
                started.add(int(keys[0]))
            elif word == "completed":
                completed[int(keys[0])] = int(keys[1])
        _check(sandbox, started, completed, kill)
    assert len(started) >= kills, f"too few acknowledgements to prove anything: {len(started)}"
