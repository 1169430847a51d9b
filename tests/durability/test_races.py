"""Races on one instance: two completions of one user task (D15, I5), two branches arriving at a join (D8).

Each race runs between two engines on one SQLite file: two ``Engine``
objects on threads of this process (two connections), or two driver
processes released at the same moment by a go file. Whatever the
interleaving, one completion of a task wins and the other is refused with a
stable error, the stored variables are the winner's, and every token moves
once: a user task completes once, the job after it is created once, a
parallel join fires once.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from engine import Conflict, Engine, NotFound
from tests.durability.harness import MODELS, Sandbox

INSTANCES = 10
JOIN_INSTANCES = 30


def _start(box: Sandbox, process: str, count: int) -> dict[str, list[int]]:
    """Start ``count`` instances; returns the open user task keys by element id."""
    with box.engine() as engine:
        engine.deploy([(f"{process}.bpmn", (MODELS / f"{process}.bpmn").read_bytes())])
        for n in range(count):
            engine.start(process, {"case": f"race-{n}"})
        tasks: dict[str, list[int]] = {}
        for task in engine.user_tasks(limit=10_000):
            tasks.setdefault(task.element_id, []).append(task.key)
        return tasks


def _race(box: Sandbox, tasks: list[list[int]], variables: list[dict[str, Any]]) -> list[dict[int, dict[str, Any]]]:
    """Two driver processes complete their task lists at once; returns each one's outcome by task key."""
    go = box.root / "go"
    processes = [
        box.driver("complete", "--go", str(go), "--tasks", ",".join(map(str, keys)), "--vars", json.dumps(values))
        for keys, values in zip(tasks, variables, strict=True)
    ]
    readers = [box.read_lines(p) for p in processes]
    for reader in readers:
        reader.wait_for("ready")
    go.touch()
    outcomes = []
    for process, reader in zip(processes, readers, strict=True):
        assert process.wait(60) == 0, box.stderr()
        outcomes.append({o["task"]: o for o in map(json.loads, reader.close()[1:])})
    return outcomes


def _assert_won_once(box: Sandbox, task: int, winner: dict[str, Any]) -> None:
    """The task's completion took effect once, with the winner's variables."""
    ((instance, stored),) = box.sql("SELECT instance_key, variables FROM user_tasks WHERE key = ?", (task,))
    assert json.loads(stored) == winner
    ((state,),) = box.sql("SELECT state FROM instances WHERE key = ?", (instance,))
    variables = dict(json.loads(state)["variables"])[json.loads(state)["root"]]
    assert {k: variables.get(k) for k in winner} == winner, f"instance {instance} has the loser's variables"
    events = Counter(
        (kind, element)
        for kind, element in box.sql("SELECT type, element_id FROM journal WHERE instance_key = ?", (instance,))
    )
    assert events[("element_completed", "Approve")] == 1
    assert events[("element_activated", "Announce")] == 1
    assert events[("job_created", "Announce")] == 1
    assert box.sql("SELECT type FROM jobs WHERE instance_key = ?", (instance,)) == [("announce",)]


def _complete_at_once(engines: list[Engine], task: int) -> dict[str, str]:
    """Two threads, each with its own engine, complete one task at the same moment; returns who won."""
    barrier = threading.Barrier(len(engines), timeout=30)
    outcomes: dict[str, str] = {}

    def complete(name: str, engine: Engine) -> None:
        barrier.wait()
        try:
            engine.complete_user_task(task, {"approved": True, "approver": name})
            outcomes[name] = "won"
        except (Conflict, NotFound) as exc:
            outcomes[name] = type(exc).__name__

    threads = [threading.Thread(target=complete, args=(f"thread-{n}", e)) for n, e in enumerate(engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_threads_completing_one_user_task_advance_its_token_once(sandbox: Sandbox) -> None:
    tasks = _start(sandbox, "d_user", INSTANCES)["Approve"]
    engines = [Engine.open(sandbox.url, synchronous="NORMAL") for _ in range(2)]
    try:
        for task in tasks:
            outcomes = _complete_at_once(engines, task)
            assert sorted(outcomes.values()) == ["Conflict", "won"], f"task {task}: {outcomes}"
            winner = next(name for name, outcome in outcomes.items() if outcome == "won")
            _assert_won_once(sandbox, task, {"approved": True, "approver": winner})
    finally:
        for engine in engines:
            engine.close()
    sandbox.assert_state_matches_rows()
    sandbox.assert_no_step_repeated()


def test_two_processes_completing_the_same_user_tasks_each_win_a_task_once(sandbox: Sandbox) -> None:
    tasks = _start(sandbox, "d_user", INSTANCES)["Approve"]
    variables = [{"approved": True, "approver": "p1"}, {"approved": False, "approver": "p2"}]
    first, second = _race(sandbox, [tasks, tasks], variables)
    for task in tasks:
        results = [first[task], second[task]]
        assert sorted(r["ok"] for r in results) == [False, True], f"task {task}: {results}"
        loser = next(r for r in results if not r["ok"])
        assert loser["error"] == "Conflict" and "no longer open" in loser["message"], loser
        _assert_won_once(sandbox, task, variables[0] if first[task]["ok"] else variables[1])
    sandbox.assert_state_matches_rows()
    sandbox.assert_no_step_repeated()
    sandbox.assert_storage_healthy()


def test_two_branches_completed_at_once_in_two_processes_fire_the_join_once(sandbox: Sandbox) -> None:
    tasks = _start(sandbox, "d_join_race", JOIN_INSTANCES)
    assert len(tasks["Left"]) == len(tasks["Right"]) == JOIN_INSTANCES
    left, right = _race(sandbox, [tasks["Left"], tasks["Right"]], [{"left": 1}, {"right": 2}])
    assert all(o["ok"] for o in [*left.values(), *right.values()]), [left, right]
    states = sandbox.states()
    assert len(states) == JOIN_INSTANCES
    completed: dict[int, Counter[str]] = {key: Counter() for key in states}
    query = "SELECT instance_key, element_id FROM journal WHERE type = 'element_completed'"
    for instance, element in sandbox.sql(query):
        completed[int(instance)][element] += 1
    for key, state in states.items():
        assert state["status"] == "completed", f"instance {key} is {state['status']}"
        assert dict(state["variables"])[state["root"]]["total"] == 3
        assert completed[key]["Join"] == 1, f"instance {key}: the join fired {completed[key]['Join']} times"
        assert completed[key]["Count"] == completed[key]["End"] == 1
    sandbox.assert_invariants()

