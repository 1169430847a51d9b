"""Who may approve an agent's call, as the engine keeps it (issue "people", part 5): distinct approvers, four eyes.

The process's refund policy needs two approvers, from the finance group or the users in ``reviewers``. Which
principal is a person or in a group the engine does not know (``protocols.task_access`` checks that); the engine
counts approvers by id and refuses the instance's starter and whoever acted in the agent's run.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine import Actor, Channel, Conflict, Engine
from protocols.task_access import TaskRefused, check_complete, may_complete
from registry import Principal
from tests.engine.agent.harness import Agent, calls, final

REFUND = {"orderId": "o-1", "amount": 500}


def _person(name: str, *groups: str) -> Actor:
    return Actor(id=name, channel=Channel.REST, name=name.title(), groups=groups, person=True)


def _agent(engine: Engine, script: list[Any], reviewers: Any = ("rita",)) -> tuple[Agent, int]:
    agent = Agent(engine, script, resource="approval_rules.bpmn")
    view = engine.start("approval_rules", {"request": "Refund o-1", "modelName": "scripted", "maxCalls": 5,
                                           "reviewers": list(reviewers) if isinstance(reviewers, tuple)
                                           else reviewers}, owner="sam")
    agent.drive()
    return agent, view.key


def test_the_approval_task_says_who_may_approve_how_many_must_and_who_may_not(engine: Engine) -> None:
    agent, key = _agent(engine, [calls(("refund", REFUND)), final("ok")])
    [task] = agent.approvals(key)
    assert task.candidate_groups == ["finance"] and task.candidate_users == ["rita"]  # candidateUsers is FEEL
    shown = task.to_json()
    assert shown["approvers"] == 2 and shown["approvedBy"] == [] and shown["allowMachines"] is False
    assert shown["excludedApprovers"] == ["sam"]  # who started the instance
    assert "approvers" not in task.inputs and "excludedApprovers" not in task.inputs
    [requested] = agent.journal(key, "agent_approval_requested")
    assert requested["data"]["candidateUsers"] == ["rita"] and requested["data"]["approvers"] == 2


def test_a_call_that_needs_two_approvers_waits_for_the_second_distinct_one(engine: Engine) -> None:
    agent, key = _agent(engine, [calls(("refund", REFUND)), final("refunded")])
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": True}, by=_person("fay", "finance"))
    agent.drive()
    [still] = agent.approvals(key)
    assert still.key == task.key and still.state == "created" and still.details["approvedBy"] == ["fay"]
    assert agent.ledger.of("refund") == []  # one approval of two runs nothing
    [given] = agent.journal(key, "agent_approval_given")
    assert given["data"]["by"]["id"] == "fay" and given["data"]["approvals"] == 1 and given["data"]["needed"] == 2
    assert given["data"]["argumentsHash"] == task.details["argumentsHash"]

    with pytest.raises(Conflict, match="'fay' already approved"):
        engine.complete_user_task(task.key, {"approved": True}, by=_person("fay", "finance"))
    engine.complete_user_task(task.key, {"approved": True}, by=_person("rita"))
    agent.drive()
    assert agent.ledger.of("refund") == [REFUND]
    assert engine.user_task(task.key).state == "completed"
    [decided] = agent.journal(key, "agent_approval_decided")
    assert decided["data"]["approved"] is True and decided["data"]["approver"] == "rita"
    assert decided["data"]["approvers"] == ["fay", "rita"]
    assert decided["data"]["by"] == {"id": "rita", "name": "Rita", "channel": "rest", "person": True}


def test_one_rejection_rejects_a_call_that_needs_two_approvers(engine: Engine) -> None:
    agent, key = _agent(engine, [calls(("refund", REFUND)), final("not refunded")])
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": True}, by=_person("fay", "finance"))
    engine.complete_user_task(task.key, {"approved": False, "reason": "too much"}, by=_person("gus", "finance"))
    agent.drive()
    assert agent.ledger.of("refund") == []
    assert engine.user_task(task.key).state == "completed"
    [decided] = agent.journal(key, "agent_approval_decided")
    assert decided["data"]["approved"] is False and decided["data"]["approver"] == "gus"
    assert engine.instance(key).variables["agentResult"]["response"] == "not refunded"


def test_the_principal_that_started_the_instance_may_not_approve_its_agents_calls(engine: Engine) -> None:
    agent, key = _agent(engine, [calls(("refund", REFUND)), final("ok")])
    [task] = agent.approvals(key)
    with pytest.raises(Conflict, match=r"'sam' started this instance.*four eyes"):
        engine.complete_user_task(task.key, {"approved": True}, by=_person("sam", "finance"))
    assert engine.user_task(task.key).state == "created"
    assert agent.journal(key, "agent_approval_given") == []


def test_who_answered_a_task_in_the_agents_run_may_not_approve_its_later_calls(engine: Engine) -> None:
    script = [calls(("ask_customer", {"question": "Refund?"})), calls(("refund", REFUND)), final("ok")]
    agent, key = _agent(engine, script)
    [question] = engine.user_tasks(instance=key)
    engine.complete_user_task(question.key, {"answer": "yes"}, by=_person("cara", "finance"))
    agent.drive()
    [task] = agent.approvals(key)
    assert task.details["excludedApprovers"] == ["sam", "cara"]
    [answered] = agent.journal(key, "user_task_completed")
    assert answered["data"]["by"]["id"] == "cara"
    with pytest.raises(Conflict, match="'cara' acted in the agent's run"):
        engine.complete_user_task(task.key, {"approved": True}, by=_person("cara", "finance"))


def test_a_program_embedding_the_engine_decides_an_approval_alone(engine: Engine) -> None:
    agent, key = _agent(engine, [calls(("refund", REFUND)), final("ok")])
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": True})  # no principal: trusted code, not a surface
    agent.drive()
    assert agent.ledger.of("refund") == [REFUND]


def test_candidates_that_cannot_be_worked_out_offer_the_approval_to_no_one(engine: Engine) -> None:
    agent, key = _agent(engine, [calls(("refund", REFUND)), final("ok")], reviewers={"not": "a list"})
    [task] = agent.approvals(key)
    [unresolved] = task.to_json()["candidatesUnresolved"]
    assert "candidate users" in unresolved
    finance = Principal("fay", frozenset({"tasks"}), groups=frozenset({"finance"}), person=True)
    assert not may_complete(finance, task)  # fails closed: not even the policy's group
    with pytest.raises(TaskRefused, match="could not be worked out"):
        check_complete(finance, task)
    admin = Principal("ops", frozenset({"admin"}), person=True)
    assert check_complete(admin, task).override  # an admin decides it, recorded as an override
