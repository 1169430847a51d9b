"""Human approval mid-reasoning: exactly the approved arguments run, once (G1, G4, G5, G15 in RELIABILITY.md)."""

from __future__ import annotations

import pytest

from engine import Conflict, Engine
from tests.engine.agent.harness import Agent, calls, final


def _refund(amount: float, order: str = "o-1") -> dict[str, object]:
    return {"orderId": order, "amount": amount}


def test_a_call_that_needs_approval_waits_on_a_task_listed_with_kind_tool_and_arguments(engine: Engine) -> None:
    agent = Agent(engine, [calls(("refund", _refund(500)), content="The parcel was lost; refund it."), final("ok")])
    key = agent.start()
    assert agent.ledger.of("refund") == []  # G1: nothing ran
    [task] = agent.approvals(key)
    assert task.details["tool"] == "refund" and task.details["arguments"] == _refund(500)
    assert task.candidate_groups == ["finance"] and task.details["reason"] == "refunds over 100 need finance"
    assert engine.instance(key).state == "active"
    [requested] = agent.journal(key, "agent_approval_requested")
    assert requested["data"]["task"] == task.key


def test_an_approved_call_runs_exactly_once_with_the_arguments_that_were_approved(engine: Engine) -> None:
    agent = Agent(engine, [calls(("refund", _refund(500))), final("refunded")])
    key = agent.start()
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": True, "orderId": "o-666", "amount": 1_000_000},
                              completed_by="fiona")
    agent.drive()
    assert agent.ledger.of("refund") == [_refund(500)]  # the task's variables changed nothing
    assert engine.instance(key).variables["agentResult"]["response"] == "refunded"
    [decided] = agent.journal(key, "agent_approval_decided")
    assert decided["data"]["approved"] is True and decided["data"]["approver"] == "fiona"
    with pytest.raises(Conflict):  # G5: a second completion of the same approval does nothing
        engine.complete_user_task(task.key, {"approved": True})
    agent.drive()
    assert len(agent.ledger.of("refund")) == 1


def test_a_rejected_call_does_not_run_and_the_agent_is_told_why(engine: Engine) -> None:
    agent = Agent(engine, [calls(("refund", _refund(500))), final("I could not refund")])
    key = agent.start()
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": False, "reason": "not our fault"})
    agent.drive()
    assert agent.ledger.of("refund") == []
    result = next(m for m in agent.model.seen[1].messages if m["role"] == "tool")
    assert result["content"] == {"error": "a person rejected this call: not our fault"}


def test_an_approval_needs_a_yes_or_no(engine: Engine) -> None:
    agent = Agent(engine, [calls(("refund", _refund(500))), final("ok")])
    key = agent.start()
    [task] = agent.approvals(key)
    with pytest.raises(Conflict, match="approved"):
        engine.complete_user_task(task.key, {"approved": "yes"})
    assert agent.approvals(key)[0].key == task.key  # still open


def test_the_model_repeating_an_approved_call_with_other_arguments_needs_a_new_approval(engine: Engine) -> None:
    same_id = {"id": "call-x", "name": "refund", "arguments": _refund(10, "A")}
    swapped = {"id": "call-x", "name": "refund", "arguments": {"orderId": "B", "amount": 1e6}}
    agent = Agent(engine, [calls(("refund", _refund(500, "A"))), calls(swapped), calls(same_id), final("ok")])
    key = agent.start()
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": True})
    agent.drive()
    [second] = agent.approvals(key)  # G4: the swapped arguments wait for their own approval
    assert second.details["arguments"] == {"orderId": "B", "amount": 1e6}
    assert second.details["argumentsHash"] != task.details["argumentsHash"]
    assert agent.ledger.of("refund") == [_refund(500, "A")]


def test_an_approval_survives_a_restart_and_runs_once_after_it(engine: Engine, db_url: str) -> None:
    agent = Agent(engine, [calls(("refund", _refund(500))), final("ok")])
    key = agent.start()
    engine.close()
    reopened = Engine.open(db_url, clock=engine.clock, synchronous="NORMAL")
    try:
        again = Agent.__new__(Agent)
        again.__dict__.update(agent.__dict__)
        again.engine = reopened
        again.model.engine = reopened
        [task] = again.approvals(key)
        reopened.complete_user_task(task.key, {"approved": True})
        again.drive()
        assert reopened.instance(key).state == "completed"
        assert agent.ledger.of("refund") == [_refund(500)]
    finally:
        reopened.close()
