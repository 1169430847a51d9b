"""Every BPMN scenario under tests/data/scenarios, run in one engine and across restarts.

A scenario is ``tests/data/scenarios/NAME.bpmn`` with ``NAME.json`` beside it:

    {
      "process": "order",                      # optional when the file has one process
      "variables": {"amount": 120},
      "workers": {                             # job type -> what the handler does
        "charge": {"variables": {"charged": true}},   # complete with these variables
        "flaky": {"fail": 1, "variables": {}},       # fail the first N attempts, then complete
        "echo": {"echo": ["a", "b"]},                  # return these input variables unchanged
        "broken": {"error": "boom"}                     # always fail
      },
      "steps": [                               # applied in order once the instance waits
        {"completeTask": "Approve", "variables": {"approved": true}},
        {"resolveIncident": "Check", "setVariables": {"x": 1}}
      ],
      "expect": {
        "state": "completed",
        "variables": {"total": 130},            # a subset of the final variables
        "completed": ["Approve", "Charge"],     # elements completed, in any order (a multiset)
        "incidents": ["Check"],                 # elements with open incidents at the end
        "tasks": ["Approve"]                    # open user tasks at the end (element ids)
      }
    }

Each scenario runs twice: in one engine, and with the engine closed and
reopened on the same database before every step (a process restart).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, InstanceView, Job, WorkerLoop, WorkerRegistry, WorkerSettings
from engine.ports import ManualClock

SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "scenarios"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.bpmn") if (p.with_suffix(".json")).exists())


def _registry(spec: dict[str, Any], ledger: list[tuple[str, int]]) -> WorkerRegistry:
    registry = WorkerRegistry()
    attempts: Counter[int] = Counter()

    def handler_for(job_type: str, behaviour: dict[str, Any]) -> Callable[[Job], dict[str, Any]]:
        def handle(job: Job) -> dict[str, Any]:
            attempts[job.key] += 1
            if "error" in behaviour:
                raise RuntimeError(behaviour["error"])
            if attempts[job.key] <= behaviour.get("fail", 0):
                raise RuntimeError(f"attempt {attempts[job.key]} failed on purpose")
            ledger.append((job_type, job.key))
            result = dict(behaviour.get("variables", {}))
            for name in behaviour.get("echo", []):
                result[name] = job.variables.get(name)
            if behaviour.get("headers"):
                result["headers"] = job.headers
            return result

        return handle

    for job_type, behaviour in spec.items():
        registry.register(job_type, handler_for(job_type, behaviour))
    return registry


class ScenarioRun:
    def __init__(self, name: str, db_url: str, *, restart: bool) -> None:
        self.name = name
        self.spec = json.loads((SCENARIOS / f"{name}.json").read_text())
        self.db_url = db_url
        self.restart = restart
        self.clock = ManualClock()
        self.ledger: list[tuple[str, int]] = []
        self.registry = _registry(self.spec.get("workers", {}), self.ledger)
        self.engine = Engine.open(db_url, clock=self.clock, synchronous="NORMAL")

    def _reopen(self) -> None:
        if self.restart:
            self.engine.close()
            self.engine = Engine.open(self.db_url, clock=self.clock, synchronous="NORMAL")

    def _drive(self) -> None:
        settings = WorkerSettings(backoff_base_ms=0, poll_interval_s=0.01, concurrency=1)
        WorkerLoop(self.engine, self.registry, settings=settings).run(until_idle=True)

    def run(self) -> InstanceView:
        resources = [(f"{self.name}.bpmn", (SCENARIOS / f"{self.name}.bpmn").read_bytes())]
        for extra in self.spec.get("deployAlso", []):
            resources.append((extra, (SCENARIOS / extra).read_bytes()))
        deployed = self.engine.deploy(resources)
        process = self.spec.get("process") or deployed[0].process_id
        instance = self.engine.start(process, self.spec.get("variables", {})).key
        self._reopen()
        self._drive()
        for step in self.spec.get("steps", []):
            self._reopen()
            self._apply(instance, step)
            self._reopen()
            self._drive()
        self._reopen()
        return self.engine.instance(instance)

    def _apply(self, instance: int, step: dict[str, Any]) -> None:
        if "completeTask" in step:
            tasks = [t for t in self.engine.user_tasks(instance=None) if t.element_id == step["completeTask"]]
            assert tasks, f"no open user task at '{step['completeTask']}'"
            self.engine.complete_user_task(tasks[0].key, step.get("variables", {}))
        elif "resolveIncident" in step:
            if step.get("setVariables"):
                self.engine.set_variables(instance, step["setVariables"], local=False)
            incidents = [i for i in self.engine.incidents() if i.element_id == step["resolveIncident"]]
            assert incidents, f"no open incident at '{step['resolveIncident']}'"
            self.engine.resolve_incident(incidents[0].key)
        elif "cancel" in step:
            self.engine.cancel(instance)
        else:
            raise AssertionError(f"unknown step {step}")

    def check(self, view: InstanceView) -> None:
        expect = self.spec["expect"]
        assert view.state == expect["state"], f"{self.name}: state {view.state}, expected {expect['state']}"
        for name, value in expect.get("variables", {}).items():
            assert view.variables.get(name) == value, f"{self.name}: variable {name} = {view.variables.get(name)!r}"
        for name in expect.get("absentVariables", []):
            assert name not in view.variables, f"{self.name}: variable {name} should not be set"
        if "completed" in expect:
            completed = Counter(e["elementId"] for e in self._all_journal(view.key) if e["type"] == "element_completed")
            wanted = Counter(expect["completed"])
            for element, count in wanted.items():
                assert completed[element] == count, f"{self.name}: {element} completed {completed[element]}x"
        if "notCompleted" in expect:
            completed_ids = {e["elementId"] for e in self._all_journal(view.key) if e["type"] == "element_completed"}
            for element in expect["notCompleted"]:
                assert element not in completed_ids, f"{self.name}: {element} should not have completed"
        if "incidents" in expect:
            assert sorted(i.element_id for i in self.engine.incidents()) == sorted(expect["incidents"])
        if "tasks" in expect:
            assert sorted(t.element_id for t in self.engine.user_tasks()) == sorted(expect["tasks"])
        if "jobs" in expect:
            assert Counter(t for t, _ in self.ledger) == Counter(expect["jobs"]), f"{self.name}: jobs {self.ledger}"

    def _all_journal(self, instance: int) -> list[dict[str, Any]]:
        entries = self.engine.journal(instance, limit=100_000)
        for child in self.engine.instances(limit=10_000):
            if child.parent_instance == instance:
                entries += self._all_journal(child.key)
        return entries

    def close(self) -> None:
        self.engine.close()

@pytest.mark.parametrize("restart", [False, True], ids=["one-process", "restart-between-steps"])
@pytest.mark.parametrize("name", scenario_names())
def test_scenario_reaches_its_expected_result(name: str, restart: bool, tmp_path: Path) -> None:
    run = ScenarioRun(name, f"sqlite:///{tmp_path / 'scenario.db'}", restart=restart)
    try:
        run.check(run.run())
    finally:
        run.close()
