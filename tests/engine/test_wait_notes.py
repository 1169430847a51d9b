"""A message wait that something outside keeps going (a poller) can say why it is stuck, durably, and give up.

``note_wait`` puts what the last check said on the element's ``waitingFor``
(the subscription's row keeps it, so every hub on the database and one that
restarts show it); ``raise_wait_incident`` puts the element in an incident
whose resolution changes nothing but the incident: the element still waits on
its subscription, and the message still reaches it. Run on every store.
"""

from __future__ import annotations

from engine import Engine
from engine.store.memory import MemoryStore

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="urn:t">
  <bpmn:process id="polled" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Wait"/>
    <bpmn:intermediateCatchEvent id="Wait">
      <bpmn:messageEventDefinition id="WaitMessage" messageRef="Done"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="End"/>
    <bpmn:endEvent id="End"/>
  </bpmn:process>
  <bpmn:message id="Done" name="done">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=id"/></bpmn:extensionElements>
  </bpmn:message>
</bpmn:definitions>
"""


def _waiting(engine: Engine) -> tuple[int, dict[str, object]]:
    engine.deploy([("polled.bpmn", MODEL)])
    key = engine.start("polled", {"id": "t-1"}).key
    [subscription] = engine.subscriptions(key)
    return key, subscription


def test_a_noted_wait_shows_its_last_error_failures_and_next_check_until_the_note_is_cleared(engine: Engine) -> None:
    key, subscription = _waiting(engine)
    assert "waitingFor" not in engine.instance(key).active_elements[0]  # nothing noted: a plain message wait

    assert engine.note_wait(int(str(subscription["key"])), "HTTP 503 from the agent", failures=2,
                            next_check_ms=1_767_225_610_000)
    [element] = engine.instance(key).active_elements
    assert element["waitingFor"] == {"message": "done", "correlationKey": "t-1", "subscription": subscription["key"],
                                     "lastError": "HTTP 503 from the agent", "failures": 2,
                                     "nextCheck": "2026-01-01T00:00:10Z"}
    assert engine.subscriptions(key)[0]["waitFailures"] == 2  # the poller reads its count back after a restart

    engine.note_wait(int(str(subscription["key"])), None)
    assert "waitingFor" not in engine.instance(key).active_elements[0]


def test_a_wait_incident_holds_the_element_and_resolving_it_leaves_it_waiting_for_its_message(engine: Engine) -> None:
    key, subscription = _waiting(engine)
    element_instance = int(str(subscription["elementInstance"]))
    engine.raise_wait_incident(key, element_instance, "a2aPolling", "the remote task t-1 is gone (TaskNotFound)")

    view = engine.instance(key)
    assert view.state == "incident"
    [incident] = engine.incidents(instance=key)
    assert (incident.element_id, incident.message) == ("Wait", "the remote task t-1 is gone (TaskNotFound)")

    engine.resolve_incident(incident.key)
    view = engine.instance(key)
    assert view.state == "active" and [e["elementId"] for e in view.active_elements] == ["Wait"]
    assert len(engine.subscriptions(key)) == 1  # still subscribed: nothing ran again
    engine.publish_message("done", "t-1")
    assert engine.instance(key).state == "completed"


def test_the_memory_store_keeps_notes_as_the_sql_store_does() -> None:
    engine = Engine(MemoryStore())
    key, subscription = _waiting(engine)
    assert not engine.note_wait(10**12, "no such subscription")
    engine.note_wait(int(str(subscription["key"])), "unreachable", failures=1)
    assert engine.instance(key).active_elements[0]["waitingFor"]["lastError"] == "unreachable"
