"""Every BPMN scenario under tests/data/scenarios, run in one engine and across restarts.

A scenario is ``tests/data/scenarios/NAME.bpmn`` with ``NAME.json`` beside it:

    {
      "process": "order",                      # optional when the file has one process
      "variables": {"amount": 120},
      "noStart": true,                         # start nothing: instances come from start events
                                               #   (message, timer, signal) or "startProcess" steps
      "deployAlso": ["child.bpmn"],            # more resources deployed with the scenario (called processes)
      "workers": {                             # job type -> what the handler does
        "charge": {"variables": {"charged": true}},   # complete with these variables
        "flaky": {"fail": 1, "variables": {}},       # fail the first N attempts, then complete
        "echo": {"echo": ["a", "b"]},                  # return these input variables unchanged
        "broken": {"error": "boom"},                    # always fail
        "pay": {"bpmnError": "CARD_DECLINED", "message": "no funds",   # raise engine.BpmnError
                "variables": {"reason": "funds"}},                   # (with these error variables)
        "undo": {"record": "item"}                      # note the job's variable `item` (see "recorded")
      },
      "steps": [                               # applied in order once the instance waits
        {"completeTask": "Approve", "variables": {"approved": true}},
        {"resolveIncident": "Check", "setVariables": {"x": 1}},
        {"setVariables": {"x": 2}},                     # set variables on the instance (with propagation)
        {"cancel": true},                               # cancel the scenario's instance
        {"advanceClock": "PT10M"},                      # move the ManualClock on by an ISO duration
        {"publish": "paid", "key": "o-1", "variables": {"paid": true},
         "ttl": "PT1M", "id": "m1"},                    # publish a message (ttl, id optional)
        {"publish": "paid", "key": "o-1", "id": "m1", "expectConflict": true},  # must raise engine.Conflict
        {"signal": "alarm", "variables": {}},           # broadcast a signal
        {"startProcess": "order", "variables": {}},     # start another instance
        {"check": {"state": "active", "timers": 1}}     # check expectations (as in "expect") here
      ],
      "expect": {
        "state": "completed",                  # optional; the state of the scenario's instance
        "variables": {"total": 130},            # a subset of the final variables
        "absentVariables": ["tmp"],             # variables that must not be set
        "completed": ["Approve", "Charge"],     # elements completed, in any order (a multiset)
        "notCompleted": ["Reject"],             # elements that never completed
        "incidents": ["Check"],                 # elements with open incidents at the end
        "tasks": ["Approve"],                   # open user tasks at the end (element ids)
        "jobs": ["charge"],                     # job types completed by workers, in any order (a multiset)
        "jobOrder": ["undo-c", "undo-b"],       # job types completed by workers, in this order
        "recorded": {"undo": ["b", "a"]},       # per job type, the "record"ed variable of each completion, in order
        "timers": 1,                            # open timers of the scenario's instance
        "subscriptions": 0,                     # open message/signal subscriptions of the scenario's instance
        "openJobs": {"ship": 0},                # jobs of each type that exist (not completed or canceled)
        "instances": {"completed": 2, "active": 1}   # instances in each state given (active, completed,
                                                     #   terminated, incident), over all instances
      }
    }

After every step (and after the start) the worker loop runs until idle: it
completes due jobs and fires due timers. The scenario's instance is the one
it started; with ``noStart`` it is the first instance that exists (lowest key,
not a called child), and expectations about "the instance" need one to exist.
"completed"/"notCompleted" read the journal of the scenario's instance and of
the instances its call activities started.

Each scenario runs twice: in one engine, and with the engine closed and
reopened on the same database before every step (a process restart).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine import BpmnError, Conflict, Engine, InstanceView, Job, WorkerLoop, WorkerRegistry, WorkerSettings
from engine.ports import ManualClock
from engine.scheduler.timers import parse_duration, to_millis

SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "scenarios"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.bpmn") if (p.with_suffix(".json")).exists())


def _millis(text: str) -> int:
    """An ISO 8601 duration in milliseconds (from the scenario clock's start)."""
    start = ManualClock().now()
    return to_millis(start + parse_duration(text)) - to_millis(start)


class _Ledger:
    """What the workers did: every completed job in order, and the variables they were asked to note."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, int]] = []
        self.recorded: dict[str, list[Any]] = defaultdict(list)


def _registry(spec: dict[str, Any], ledger: _Ledger) -> WorkerRegistry:
    registry = WorkerRegistry()
    attempts: Counter[int] = Counter()

    def handler_for(job_type: str, behaviour: dict[str, Any]) -> Callable[[Job], dict[str, Any]]:
        def handle(job: Job) -> dict[str, Any]:
            attempts[job.key] += 1
            if "error" in behaviour:
                raise RuntimeError(behaviour["error"])
            if "bpmnError" in behaviour:
                raise BpmnError(behaviour["bpmnError"], behaviour.get("message", ""), behaviour.get("variables"))
            if attempts[job.key] <= behaviour.get("fail", 0):
                raise RuntimeError(f"attempt {attempts[job.key]} failed on purpose")
            ledger.jobs.append((job_type, job.key))
            if "record" in behaviour:
                ledger.recorded[job_type].append(job.variables.get(behaviour["record"]))
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
        self.ledger = _Ledger()
        self.registry = _registry(self.spec.get("workers", {}), self.ledger)
        self.engine = Engine.open(db_url, clock=self.clock, synchronous="NORMAL")
        self.started: int | None = None

    def _reopen(self) -> None:
        if self.restart:
            self.engine.close()
            self.engine = Engine.open(self.db_url, clock=self.clock, synchronous="NORMAL")

    def _drive(self) -> None:
        settings = WorkerSettings(backoff_base_ms=0, poll_interval_s=0.01, concurrency=1)
        WorkerLoop(self.engine, self.registry, settings=settings).run(until_idle=True)

    def run(self) -> InstanceView | None:
        resources = [(f"{self.name}.bpmn", (SCENARIOS / f"{self.name}.bpmn").read_bytes())]
        for extra in self.spec.get("deployAlso", []):
            resources.append((extra, (SCENARIOS / extra).read_bytes()))
        deployed = self.engine.deploy(resources)
        if not self.spec.get("noStart"):
            process = self.spec.get("process") or deployed[0].process_id
            self.started = self.engine.start(process, self.spec.get("variables", {})).key
        self._reopen()
        self._drive()
        for step in self.spec.get("steps", []):
            self._reopen()
            self._apply(step)
            self._reopen()
            self._drive()
        self._reopen()
        return self.view()

    def instance(self) -> int | None:
        """The scenario's instance: the one it started, else (``noStart``) the first top-level one."""
        if self.started is not None:
            return self.started
        roots = [i for i in self.engine.instances(limit=10_000) if i.parent_instance is None]
        return roots[0].key if roots else None

    def view(self) -> InstanceView | None:
        key = self.instance()
        return self.engine.instance(key) if key is not None else None

    def _the_instance(self) -> int:
        key = self.instance()
        assert key is not None, f"{self.name}: no instance exists"
        return key

    def _apply(self, step: dict[str, Any]) -> None:
        if "completeTask" in step:
            tasks = [t for t in self.engine.user_tasks(instance=None) if t.element_id == step["completeTask"]]
            assert tasks, f"no open user task at '{step['completeTask']}'"
            self.engine.complete_user_task(tasks[0].key, step.get("variables", {}))
        elif "resolveIncident" in step:
            if step.get("setVariables"):
                self.engine.set_variables(self._the_instance(), step["setVariables"], local=False)
            incidents = [i for i in self.engine.incidents() if i.element_id == step["resolveIncident"]]
            assert incidents, f"no open incident at '{step['resolveIncident']}'"
            self.engine.resolve_incident(incidents[0].key)
        elif "setVariables" in step:
            self.engine.set_variables(self._the_instance(), step["setVariables"], local=False)
        elif "cancel" in step:
            self.engine.cancel(self._the_instance())
        elif "advanceClock" in step:
            self.clock.set(self.clock.now() + parse_duration(step["advanceClock"]))
        elif "publish" in step:
            self._publish(step)
        elif "signal" in step:
            self.engine.broadcast_signal(step["signal"], step.get("variables", {}))
        elif "startProcess" in step:
            self.engine.start(step["startProcess"], step.get("variables", {}))
        elif "check" in step:
            self.check(self.view(), step["check"])
        else:
            raise AssertionError(f"unknown step {step}")

    def _publish(self, step: dict[str, Any]) -> None:
        ttl = _millis(step["ttl"]) if step.get("ttl") else 0
        publish = (step["publish"], str(step.get("key", "")), step.get("variables", {}))
        if step.get("expectConflict"):
            with pytest.raises(Conflict):
                self.engine.publish_message(*publish, ttl_ms=ttl, message_id=step.get("id"))
        else:
            self.engine.publish_message(*publish, ttl_ms=ttl, message_id=step.get("id"))

    def check(self, view: InstanceView | None, expect: dict[str, Any]) -> None:
        if "state" in expect:
            assert view is not None, f"{self.name}: no instance, expected one {expect['state']}"
            assert view.state == expect["state"], f"{self.name}: state {view.state}, expected {expect['state']}"
        if "variables" in expect or "absentVariables" in expect:
            assert view is not None, f"{self.name}: no instance to read variables of"
            for name, value in expect.get("variables", {}).items():
                assert view.variables.get(name) == value, f"{self.name}: variable {name} = {view.variables.get(name)!r}"
            for name in expect.get("absentVariables", []):
                assert name not in view.variables, f"{self.name}: variable {name} should not be set"
        if "completed" in expect or "notCompleted" in expect:
            assert view is not None, f"{self.name}: no instance to read the journal of"
            completed = Counter(e["elementId"] for e in self._all_journal(view.key) if e["type"] == "element_completed")
            for element, count in Counter(expect.get("completed", [])).items():
                assert completed[element] == count, f"{self.name}: {element} completed {completed[element]}x"
            for element in expect.get("notCompleted", []):
                assert element not in completed, f"{self.name}: {element} should not have completed"
        if "incidents" in expect:
            assert sorted(i.element_id for i in self.engine.incidents()) == sorted(expect["incidents"])
        if "tasks" in expect:
            assert sorted(t.element_id for t in self.engine.user_tasks()) == sorted(expect["tasks"])
        jobs = [t for t, _ in self.ledger.jobs]
        if "jobs" in expect:
            assert Counter(jobs) == Counter(expect["jobs"]), f"{self.name}: jobs {jobs}"
        if "jobOrder" in expect:
            assert jobs == expect["jobOrder"], f"{self.name}: jobs in order {jobs}"
        for job_type, values in expect.get("recorded", {}).items():
            got = self.ledger.recorded.get(job_type, [])
            assert got == values, f"{self.name}: {job_type} saw {got}"
        if "timers" in expect:
            assert view is not None, f"{self.name}: no instance to count timers of"
            timers = self.engine.timers(view.key)
            assert len(timers) == expect["timers"], f"{self.name}: timers {timers}"
        if "subscriptions" in expect:
            assert view is not None, f"{self.name}: no instance to count subscriptions of"
            subscriptions = self.engine.subscriptions(view.key)
            assert len(subscriptions) == expect["subscriptions"], f"{self.name}: subscriptions {subscriptions}"
        if "openJobs" in expect:
            with self.engine.store.reader() as tx:
                for job_type, count in expect["openJobs"].items():
                    got = tx.count_jobs([job_type])
                    assert got == count, f"{self.name}: {got} open jobs of type {job_type}, expected {count}"
        if "instances" in expect:
            states = Counter(i.state for i in self.engine.instances(limit=10_000))
            for state, count in expect["instances"].items():
                assert states[state] == count, f"{self.name}: {states[state]} instances {state}, all: {dict(states)}"

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
def test_scenario_reaches_its_expected_result(name: str, restart: bool, db_url: str) -> None:
    run = ScenarioRun(name, db_url, restart=restart)
    try:
        run.check(run.run(), run.spec["expect"])
    finally:
        run.close()
