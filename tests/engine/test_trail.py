"""Who made each command: ``Engine``'s state-changing commands write their ``by`` (an ``Actor``) into the journal.

The engine keeps what the surfaces give it and decides nothing by it; without a ``by`` an entry is as it always
was (no key added), so recorded journals replay unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import Actor, Channel, Engine

DATA = Path(__file__).resolve().parents[1] / "data"
PAYMENT = DATA / "cli" / "payment.bpmn"  # waits for message payment-received, then (amount >= price) for a signal
CONFIRM = DATA / "a2a" / "confirm.bpmn"  # a user task
INBOX = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:message id="m" name="letter"/>
  <bpmn:signal id="s" name="alarm"/>
  <bpmn:process id="inbox" isExecutable="true">
    <bpmn:startEvent id="got"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="got" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  <bpmn:process id="siren" isExecutable="true">
    <bpmn:startEvent id="rang"><bpmn:signalEventDefinition signalRef="s"/></bpmn:startEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="rang" targetRef="done"/>
    <bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>
"""

ALICE = Actor(id="alice", channel=Channel.REST, name="Alice", groups=("ops",), person=True)
ROBOT = Actor(id="robot", channel=Channel.MCP)
OPERATOR = Actor(id="alice", channel=Channel.CLI, person=True, operator="cli:ops")


def by(engine: Engine, instance: int, kind: str) -> list[dict[str, Any] | None]:
    """The ``by`` of each journal entry of this type (None where it records no one)."""
    return [(e["data"] or {}).get("by") for e in engine.journal(instance) if e["type"] == kind]


def test_each_command_on_an_instance_records_who_made_it(engine: Engine) -> None:
    engine.deploy([("payment.bpmn", PAYMENT.read_bytes())])
    started = engine.start("payment", {"orderId": "a", "price": 10}, by=ALICE)
    assert started.started_by == "alice"  # without an owner the instance is its starter's
    engine.publish_message("payment-received", "a", {"amount": 1}, by=ROBOT)
    [incident] = engine.incidents(instance=started.key)
    engine.set_variables(started.key, {"amount": 10, "note": "fixed"}, local=False, by=OPERATOR)
    engine.resolve_incident(incident.key, by=ROBOT)
    engine.cancel(started.key, by=ALICE)

    assert by(engine, started.key, "instance_started") == [ALICE.to_json()]
    assert by(engine, started.key, "event_received") == [ROBOT.to_json()]
    [names] = [e["data"] for e in engine.journal(started.key) if e["type"] == "variables_set"]
    assert names == {"variables": ["amount", "note"], "local": False, "by": OPERATOR.to_json()}
    assert by(engine, started.key, "incident_resolved") == [ROBOT.to_json()]
    assert by(engine, started.key, "instance_terminated") == [ALICE.to_json()]
    assert OPERATOR.to_json() == {"id": "alice", "channel": "cli", "person": True, "operator": "cli:ops"}


def test_an_owner_given_beside_by_stays_the_instances_owner(engine: Engine) -> None:
    engine.deploy([("payment.bpmn", PAYMENT.read_bytes())])
    started = engine.start("payment", {"orderId": "b", "price": 1}, owner="alice", by=OPERATOR)
    assert started.started_by == "alice"
    assert by(engine, started.key, "instance_started") == [OPERATOR.to_json()]


def test_a_message_or_signal_that_starts_an_instance_records_its_sender(engine: Engine) -> None:
    engine.deploy([("inbox.bpmn", INBOX)])
    letter = engine.publish_message("letter", "", by=ROBOT)
    [started] = letter["correlatedInstances"]
    assert by(engine, started, "instance_started") == [ROBOT.to_json()]
    assert engine.broadcast_signal("alarm", by=ALICE) == 1
    [siren] = engine.instances(process_id="siren")
    assert by(engine, siren.key, "instance_started") == [ALICE.to_json()]
    assert siren.started_by is None  # a start by event is no one's request to own


def test_assigning_a_task_records_who_assigned_it(engine: Engine) -> None:
    engine.deploy([("confirm.bpmn", CONFIRM.read_bytes())])
    started = engine.start("confirm", {"order": "o-1", "caller": "bob"})
    [task] = engine.user_tasks(instance=started.key)
    engine.claim_user_task(task.key, "alice", by=ALICE)
    engine.claim_user_task(task.key, None, by=Actor(id="root", channel=Channel.CLI, override=True))
    claims = [e["data"] for e in engine.journal(started.key) if e["type"] == "user_task_claimed"]
    assert claims == [
        {"task": task.key, "assignee": "alice", "by": ALICE.to_json()},
        {"task": task.key, "assignee": None, "by": {"id": "root", "channel": "cli", "person": False, "override": True}},
    ]


def test_without_by_the_entries_are_as_before(engine: Engine) -> None:
    engine.deploy([("payment.bpmn", PAYMENT.read_bytes())])
    started = engine.start("payment", {"orderId": "c", "price": 1}, owner="alice")
    engine.publish_message("payment-received", "c", {"amount": 1})
    engine.set_variables(started.key, {"x": 1})
    engine.cancel(started.key)
    journal = engine.journal(started.key)
    assert not [e for e in journal if "by" in (e["data"] or {})]
    assert "event_received" not in {e["type"] for e in journal}  # a delivery by no one is the step's own business
    [started_entry] = [e["data"] for e in journal if e["type"] == "instance_started"]
    assert started_entry == {"process": "payment", "version": 1}


def test_an_actor_reads_back_from_its_journal_record() -> None:
    for actor in (ALICE, ROBOT, OPERATOR, Actor(id="x", override=True)):
        assert Actor.from_json(actor.to_json()) == actor
    assert Actor.from_json({"id": "old", "channel": "telegraph"}).label() == "old via engine"
    assert OPERATOR.label() == "alice (entered by cli:ops) via cli"
