"""The engine on the in-memory store: every BPMN scenario runs on it, and it agrees with the SQL store.

``Engine.open("memory:")`` (or ``Engine(MemoryStore())``) runs the engine with
no database. The scenarios of ``tests/data/scenarios`` are run here on it
(one process: a memory store does not survive a restart); a subset runs on
both stores side by side, and their instances and journals must be the same.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.ports import ManualClock
from engine.store import MemoryStore, RowMissing

_RUNNER_PATH = Path(__file__).resolve().parents[1] / "runtime" / "test_scenarios.py"
_spec = importlib.util.spec_from_file_location("_scenario_runner_for_memory", _RUNNER_PATH)
assert _spec is not None and _spec.loader is not None
_runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _runner
_spec.loader.exec_module(_runner)
ScenarioRun = _runner.ScenarioRun

# The behaviours the in-memory store must carry, each named by the scenario that shows it.
REQUIRED = {
    "straight": "a straight-through service task process",
    "exclusive_default": "an exclusive gateway",
    "parallel_join": "a parallel gateway",
    "user_task_assignment": "a user task",
    "event_message_catch": "a message catch with correlation",
    "event_timer_duration": "a timer event on a manual clock",
    "event_error_boundary_code": "an error boundary event",
    "exclusive_incident_open": "an incident from a failing expression",
    "job_incident": "an incident from a failing job, resolved",
    "call_activity": "a call activity (child instance)",
    "cancel_instance": "cancel",
}
# Run on both stores and compared; the ones that resolve incidents and start children are in it.
COMPARED = [*REQUIRED, "event_message_ttl_buffered", "event_timer_start_cycle", "multi_instance_parallel",
            "event_signal_parallel", "job_retry"]


def test_every_required_behaviour_has_its_scenario() -> None:
    missing = [name for name in REQUIRED if name not in _runner.scenario_names()]
    assert not missing, f"scenarios missing: {missing}"


@pytest.mark.parametrize("name", _runner.scenario_names())
def test_scenario_reaches_its_expected_result_on_the_memory_store(name: str) -> None:
    run = ScenarioRun(name, "memory:", restart=False)
    try:
        assert isinstance(run.engine.store, MemoryStore)
        run.check(run.run(), run.spec["expect"])
    finally:
        run.close()


def _outcome(run: Any) -> dict[str, Any]:
    engine: Engine[Any] = run.engine
    instances = engine.instances(limit=10_000)
    return {
        "instances": [asdict(view) for view in instances],
        "journals": {view.key: engine.journal(view.key, limit=100_000) for view in instances},
        "tasks": [asdict(task) for task in engine.user_tasks(state=None, limit=10_000)],
        "incidents": [asdict(incident) for incident in engine.incidents(state=None, limit=10_000)],
        "timers": engine.timers(),
        "subscriptions": engine.subscriptions(),
    }


@pytest.mark.parametrize("name", COMPARED)
def test_the_memory_and_sql_stores_agree_on_a_scenario(name: str, tmp_path: Path) -> None:
    outcomes = []
    for url in ("memory:", f"sqlite:///{tmp_path / 'agree.db'}"):
        run = ScenarioRun(name, url, restart=False)
        try:
            run.check(run.run(), run.spec["expect"])
            outcomes.append(_outcome(run))
        finally:
            run.close()
    memory, sql = outcomes
    assert memory == sql


_STRAIGHT = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "straight.bpmn"


def test_a_unit_of_work_that_fails_leaves_nothing_behind() -> None:
    store = MemoryStore()
    engine = Engine(store, ManualClock())
    engine.deploy([("straight.bpmn", _STRAIGHT.read_bytes())])
    with pytest.raises(RuntimeError), store.transaction() as tx:
        engine_key = tx.next_key()
        tx.definitions.insert_deployment(engine_key, "half done", 0)
        raise RuntimeError("the command failed")
    with store.reader() as tx:
        assert [row.name for row in tx.definitions.deployments(100, None)] == ["straight.bpmn"]


def test_what_a_reader_writes_is_not_kept() -> None:
    store = MemoryStore()
    with store.reader() as tx:
        tx.definitions.insert_deployment(tx.next_key(), "looked only", 0)
    with store.reader() as tx:
        assert list(tx.definitions.deployments(100, None)) == []


def test_the_memory_store_tells_a_missing_user_task_by_its_type() -> None:
    engine = Engine.open("memory:", clock=ManualClock())
    with pytest.raises(RowMissing), engine.store.transaction() as tx:
        tx.user_tasks.open(12345)
