"""An instance waiting in a call activity says what the called instance waits on (nothing waits silently)."""

from __future__ import annotations

from typing import Any

from tests.hub.harness import LiveHub

_NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t"'
)
CALLER = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {_NS} id="caller-defs">
  <bpmn:process id="waits_caller" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Delegate"/>
    <bpmn:callActivity id="Delegate">
      <bpmn:extensionElements><zeebe:calledElement processId="waits_callee"/></bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="F2" sourceRef="Delegate" targetRef="End"/>
    <bpmn:endEvent id="End"/>
  </bpmn:process>
</bpmn:definitions>""".encode()
CALLEE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {_NS} id="callee-defs">
  <bpmn:process id="waits_callee" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Work"/>
    <bpmn:serviceTask id="Work">
      <bpmn:extensionElements><zeebe:taskDefinition type="nobody-runs-this"/></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Work" targetRef="End"/>
    <bpmn:endEvent id="End"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_a_caller_waiting_in_a_call_activity_names_the_called_instance_and_what_it_waits_on(live_hub: LiveHub) -> None:
    with live_hub.client() as client:
        files = [
            ("files", ("caller.bpmn", CALLER, "application/xml")),
            ("files", ("callee.bpmn", CALLEE, "application/xml")),
        ]
        client.post("/api/v1/deployments", files=files).raise_for_status()
        started = client.post("/api/v1/process-instances", json={"processId": "waits_caller"})
        started.raise_for_status()
        view: dict[str, Any] = client.get(f"/api/v1/process-instances/{started.json()['instance']}").json()

    [delegate] = [e for e in view["activeElements"] if e["elementId"] == "Delegate"]
    child = delegate["calledInstance"]
    [called] = [w for w in view["waitingFor"] if w["kind"] == "calledInstance"]
    assert called["element"] == "Delegate" and called["instance"] == child
    assert called["process"] == "waits_callee" and called["state"] == "active"
    assert [(w["kind"], w["element"], w["type"]) for w in called["waitingFor"]] == [("job", "Work", "nobody-runs-this")]
