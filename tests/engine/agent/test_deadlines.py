"""An agent's deadlines: an approval's due date (onTimeout reject or escalate) and maxDuration while it waits.

Every timer here is a row of the timers table, so each scenario that waits on
one closes the engine and reopens it on the same database before the clock
moves on: what is due survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from engine import Engine
from engine.ports import ManualClock
from tests.engine.agent.harness import Agent, calls, final

REFUND = {"orderId": "o-1", "amount": 500}


Reopen = Callable[[Agent], Engine]


@pytest.fixture
def reopen(db_url: str, clock: ManualClock) -> Iterator[Reopen]:
    """Close the agent's engine and open the same database in a new one, as after a restart; the agent's model
    and tools go on with it. The engines it opened are closed after the test."""
    opened: list[Engine] = []

    def again(agent: Agent) -> Engine:
        agent.engine.close()
        engine = Engine.open(db_url, clock=clock, synchronous="NORMAL")
        opened.append(engine)
        agent.engine = agent.model.engine = engine
        return engine

    yield again
    for engine in opened:
        engine.close()


def _later(agent: Agent, clock: ManualClock, delta: timedelta) -> int:
    clock.advance(delta)
    fired = agent.engine.fire_due_timers()
    agent.drive()
    return fired


def _start(agent: Agent, process: str, **variables: Any) -> int:
    return agent.start(process=process, **{"maxDuration": None, **variables})


def _data(agent: Agent, key: int, kind: str) -> list[dict[str, Any]]:
    return [event["data"] for event in agent.journal(key, kind)]


def test_an_approval_gets_its_policys_due_date_as_the_tasks_due_date(engine: Engine) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("ok")], resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject")
    [task] = agent.approvals(key)
    assert task.to_json()["dueDate"] == "2026-01-01T04:00:00Z"  # PT4H from the (manual) clock's start
    assert task.to_json()["escalated"] is False
    [due] = _data(agent, key, "agent_approval_due")
    assert due == {"callId": "call_1_1", "tool": "refund", "task": task.key, "dueDate": "2026-01-01T04:00:00Z",
                   "onTimeout": "reject"}


def test_an_approval_past_its_due_date_is_rejected_the_call_does_not_run_and_the_agent_goes_on(
    engine: Engine, reopen: Reopen, clock: ManualClock
) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("no refund")], resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject")
    [task] = agent.approvals(key)
    engine = reopen(agent)
    assert _later(agent, clock, timedelta(hours=3, minutes=59)) == 0
    assert agent.approvals(key) == [task]
    assert _later(agent, clock, timedelta(minutes=1)) == 1
    assert agent.ledger.of("refund") == []
    assert engine.instance(key).variables["agentResult"]["response"] == "no refund"
    told = next(m for m in agent.model.seen[1].messages if m["role"] == "tool")
    reason = "the approval was not given before its due date (2026-01-01T04:00:00Z)"
    assert told["content"] == {"error": reason}
    [expired] = _data(agent, key, "agent_approval_expired")
    assert expired["task"] == task.key and expired["reason"] == reason
    assert engine.user_task(task.key).state == "canceled"


def test_an_approval_decided_before_its_due_date_cancels_its_timer(
    engine: Engine, reopen: Reopen, clock: ManualClock
) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("refunded")], resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject")
    [task] = agent.approvals(key)
    assert len(engine.timers(key)) == 1
    engine.complete_user_task(task.key, {"approved": True})
    agent.drive()
    assert engine.timers(key) == []
    engine = reopen(agent)
    assert _later(agent, clock, timedelta(days=1)) == 0
    assert agent.ledger.of("refund") == [REFUND]
    assert _data(agent, key, "agent_approval_expired") == []
    assert engine.instance(key).state == "completed"


def test_a_rejected_approval_takes_its_timer_with_it(engine: Engine, clock: ManualClock) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("ok")], resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject")
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": False, "reason": "no"})
    agent.drive()
    assert engine.timers(key) == []
    assert _later(agent, clock, timedelta(days=1)) == 0


def test_an_approval_past_its_due_date_is_escalated_and_stays_open_for_its_candidates(
    engine: Engine, reopen: Reopen, clock: ManualClock
) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("refunded")], resource="approval_escalate.bpmn")
    key = _start(agent, "approval_escalate", approvalDue="2026-01-01T09:30:00+01:00")
    [task] = agent.approvals(key)
    assert task.due_date == "2026-01-01T08:30:00Z" and task.priority == 50
    engine = reopen(agent)
    assert _later(agent, clock, timedelta(hours=8, minutes=30)) == 1
    [escalated] = agent.approvals(key)
    assert escalated.key == task.key and escalated.priority == 100
    assert escalated.to_json()["escalated"] is True
    assert escalated.candidate_groups == ["finance"]  # escalation does not widen who may approve
    [event] = _data(agent, key, "agent_approval_escalated")
    assert event["task"] == task.key and event["priority"] == 100 and event["dueDate"] == "2026-01-01T08:30:00Z"
    assert agent.ledger.of("refund") == []
    engine.complete_user_task(task.key, {"approved": True})  # still the person's to decide
    agent.drive()
    assert agent.ledger.of("refund") == [REFUND]


def test_an_approval_due_date_from_feel_may_be_a_duration(engine: Engine, clock: ManualClock) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("ok")], resource="approval_escalate.bpmn")
    key = _start(agent, "approval_escalate", approvalDue="PT30M")
    [task] = agent.approvals(key)
    assert task.due_date == "2026-01-01T00:30:00Z"
    assert _later(agent, clock, timedelta(minutes=30)) == 1
    assert agent.approvals(key)[0].priority == 100


def test_an_approval_whose_due_date_is_no_date_waits_without_one_and_the_journal_says_why(
    engine: Engine, clock: ManualClock
) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("ok")], resource="approval_escalate.bpmn")
    key = _start(agent, "approval_escalate", approvalDue="soon")
    [task] = agent.approvals(key)
    assert task.due_date is None and engine.timers(key) == []
    [due] = _data(agent, key, "agent_approval_due")
    assert "ISO 8601" in due["error"] and "'soon'" in due["error"]
    assert agent.ledger.of("refund") == []  # a bad due date never lets a call run


def test_max_duration_ends_an_agent_that_waits_on_an_approval_past_it(
    engine: Engine, reopen: Reopen, clock: ManualClock
) -> None:
    agent = Agent(engine, [calls(("refund", REFUND)), final("ok")], resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject", maxDuration="PT1H")
    [task] = agent.approvals(key)
    engine = reopen(agent)
    assert _later(agent, clock, timedelta(minutes=59)) == 0
    assert _later(agent, clock, timedelta(minutes=1)) == 1
    [limit] = _data(agent, key, "agent_limit_reached")
    assert limit["reason"] == "the agent ran past its time limit (maxDuration)"
    assert engine.user_task(task.key).state == "canceled"  # the open approval is withdrawn
    assert agent.ledger.of("refund") == []
    view = engine.instance(key)
    assert view.state == "completed"  # through the OverBudget boundary event (AGENT_LIMIT_REACHED)
    assert engine.timers(key) == []
    assert _later(agent, clock, timedelta(hours=4)) == 0  # the approval's own timer went with it


def test_max_duration_ends_an_agent_that_waits_on_its_question_to_a_person(engine: Engine, clock: ManualClock) -> None:
    agent = Agent(engine, [calls(("ask_customer", {"question": "Refund or replacement?"})), final("ok")],
                  resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject", maxDuration="PT1H")
    [question] = engine.user_tasks(instance=key)
    assert _later(agent, clock, timedelta(hours=1)) == 1
    assert engine.user_task(question.key).state == "canceled"
    assert [d["reason"] for d in _data(agent, key, "agent_limit_reached")] == [
        "the agent ran past its time limit (maxDuration)"]
    assert engine.instance(key).state == "completed"


def test_max_duration_withdraws_a_model_step_still_in_flight(engine: Engine, clock: ManualClock) -> None:
    agent = Agent(engine, [final("too late")], resource="approval_reject.bpmn")
    key = engine.start("approval_reject", {"request": "hi", "modelName": "scripted", "maxCalls": 5,
                                           "maxDuration": "PT1H"}).key
    assert _later(agent, clock, timedelta(hours=1)) == 1  # fired before any worker took the model step
    assert agent.model.seen == []  # the model job went with the agent
    assert engine.instance(key).state == "completed" and len(_data(agent, key, "agent_limit_reached")) == 1


def test_an_agent_that_finishes_in_time_leaves_no_time_limit_timer_behind(engine: Engine) -> None:
    agent = Agent(engine, [final("done")], resource="approval_reject.bpmn")
    key = _start(agent, "approval_reject", maxDuration="PT1H")
    assert engine.instance(key).state == "completed"
    assert engine.timers(key) == []
