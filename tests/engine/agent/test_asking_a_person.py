"""An agent's question reaches the person: the tool's user task lists it, and an approval lists the call."""

from __future__ import annotations

from engine import Engine
from tests.engine.agent.harness import Agent, calls, final


def test_a_user_task_the_agent_calls_as_a_tool_lists_the_agents_question_and_names_the_agent(engine: Engine) -> None:
    question = {"question": "Do you want a refund or a replacement?"}
    agent = Agent(engine, [calls(("ask_customer", question)), final("ok")])
    key = agent.start()
    [task] = engine.user_tasks(instance=key)
    assert task.element_id == "ask_customer" and task.assignee == "customer"
    assert task.inputs == question
    assert task.to_json()["agent"] == "Support"


def test_an_approval_lists_the_tool_its_arguments_and_why_it_needs_approval(engine: Engine) -> None:
    agent = Agent(engine, [calls(("refund", {"orderId": "o-1", "amount": 500})), final("ok")])
    key = agent.start()
    [task] = agent.approvals(key)
    assert task.to_json()["inputs"] == {
        "tool": "refund",
        "arguments": {"orderId": "o-1", "amount": 500},
        "agent": "Support",
        "reason": "refunds over 100 need finance",
    }
