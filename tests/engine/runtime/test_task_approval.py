"""A model's user task marked ``<agenthub:approval/>``: four eyes, as an agent's approval, for any process."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.actor import Actor, Channel
from engine.exceptions import Conflict

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="d" targetNamespace="x">
  <bpmn:process id="request" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:userTask id="approve" name="Approve the request">
      <bpmn:extensionElements>
        <zeebe:userTask/>
        <zeebe:assignmentDefinition candidateGroups="ops"/>
        <agenthub:approval allowMachines="=machines"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="e" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="approve" />
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def person(name: str) -> Actor:
    return Actor(id=name, channel=Channel.REST, person=True)


def test_an_approval_task_carries_the_rule_and_names_the_starter_as_excluded(engine: Engine) -> None:
    engine.deploy([("request.bpmn", MODEL)])
    key = engine.start("request", {"machines": True}, owner="alice").key
    [task] = engine.user_tasks(instance=key)
    assert task.details["kind"] == "approval"
    assert task.details["excludedApprovers"] == ["alice"]
    assert task.details["allowMachines"] is True
    assert task.inputs == {}  # the rule is bookkeeping, not something the person acts on


def test_the_starter_may_not_complete_the_approval_but_another_principal_may(engine: Engine) -> None:
    engine.deploy([("request.bpmn", MODEL)])
    key = engine.start("request", {"machines": False}, owner="alice").key
    [task] = engine.user_tasks(instance=key)
    assert task.details["allowMachines"] is False
    with pytest.raises(Conflict, match="four eyes"):
        engine.complete_user_task(task.key, {"approved": True}, by=person("alice"))
    assert engine.instance(key).state == "active"
    engine.complete_user_task(task.key, {"approved": True}, by=person("bob"))
    assert engine.instance(key).state == "completed"


def test_a_plain_user_task_may_still_be_completed_by_whoever_started_the_instance(engine: Engine) -> None:
    engine.deploy([("request.bpmn", MODEL.replace('<agenthub:approval allowMachines="=machines"/>', ""))])
    key = engine.start("request", {}, owner="alice").key
    [task] = engine.user_tasks(instance=key)
    assert "kind" not in task.details
    engine.complete_user_task(task.key, {}, by=person("alice"))
    assert engine.instance(key).state == "completed"
