"""RELIABILITY D9: every job is a save point; a later failure never repeats an earlier side effect.

S1 (a side effect: a row in a ledger) is followed by S2, which fails every
time until it is fixed. S2's failures retry S2 alone, then stop in an incident
at S2; resolving the incident once the cause is fixed runs S2 again and the
instance completes. S1 ran exactly once throughout, on both stores.
"""

from __future__ import annotations

from typing import Any

from engine import Engine, Job, WorkerLoop, WorkerRegistry, WorkerSettings

_PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="saved" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="S1"/>
    <bpmn:serviceTask id="S1"><bpmn:extensionElements><zeebe:taskDefinition type="side-effect"/>
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="S1" targetRef="S2"/>
    <bpmn:serviceTask id="S2"><bpmn:extensionElements><zeebe:taskDefinition type="fails" retries="3"/>
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="S2" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_failing_step_after_a_side_effect_never_repeats_the_side_effect(engine: Engine) -> None:
    ledger: list[int] = []
    attempts: list[int] = []
    broken = [True]

    def side_effect(job: Job) -> dict[str, Any]:
        ledger.append(job.instance)
        return {"charged": True}

    def fails(job: Job) -> dict[str, Any]:
        attempts.append(job.key)
        if broken[0]:
            raise RuntimeError("the downstream service is down")
        return {"shipped": True}

    registry = WorkerRegistry()
    registry.register("side-effect", side_effect)
    registry.register("fails", fails)
    engine.deploy([("saved.bpmn", _PROCESS)])
    key = engine.start("saved", {}).key

    def drive() -> None:
        WorkerLoop(engine, registry, settings=WorkerSettings(backoff_base_ms=0, poll_interval_s=0.01)).run(
            until_idle=True
        )

    drive()
    assert ledger == [key]
    assert len(attempts) == 3  # S2 alone was retried, each retry from the save point after S1
    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "S2" and "the downstream service is down" in incident.message
    assert engine.instance(key).variables["charged"] is True  # S1's result was kept, not rolled back

    broken[0] = False
    engine.resolve_incident(incident.key)
    drive()
    view = engine.instance(key)
    assert view.state == "completed" and view.variables["shipped"] is True
    assert ledger == [key]  # S1 ran once in all
