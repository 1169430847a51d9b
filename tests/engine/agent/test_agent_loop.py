"""The agent loop on an ad-hoc subprocess, driven by a scripted model, with a side-effect ledger."""

from __future__ import annotations

import pytest

from engine import Conflict, Engine
from tests.engine.agent.harness import Agent, calls, final


def test_an_agent_calls_its_tools_and_completes_with_its_final_answer(engine: Engine) -> None:
    agent = Agent(engine, [
        calls(("lookup_order", {"orderId": "o-1"}), content="I will look the order up."),
        calls(("summarize", {"text": "late parcel"})),
        final("The order o-1 ships tomorrow."),
    ])
    key = agent.start()
    view = engine.instance(key)
    assert view.state == "completed"
    assert view.variables["agentResult"] == {"response": "The order o-1 ships tomorrow.", "modelCalls": 3,
                                             "toolCalls": 2}
    assert agent.ledger.of("lookup_order") == [{"orderId": "o-1"}]
    conversation = agent.conversation(key)
    assert [m["role"] for m in conversation] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                                 "assistant"]
    assert conversation[1]["content"] == "Help the customer"
    assert conversation[3]["content"]["status"] == "done"
    assert conversation[5]["content"] == "LATE PARCEL"  # a script tool's toolCallResult
    assert "toolCall" not in view.variables and "toolCallResult" not in view.variables  # the call's own
    assert view.variables["status"] == "done"  # a tool's other outputs propagate, as Zeebe propagates them


def test_the_model_sees_the_tools_with_schemas_from_from_ai(engine: Engine) -> None:
    agent = Agent(engine, [final("nothing to do")])
    agent.start()
    tools = {t.name: t for t in agent.model.seen[0].tools}
    assert sorted(tools) == ["ask_customer", "delete_account", "lookup_order", "refund", "summarize"]
    assert tools["refund"].description == "Refund an amount of an order."
    assert tools["refund"].input_schema == {
        "type": "object",
        "properties": {"orderId": {"type": "string", "description": "The order number"},
                       "amount": {"type": "number", "description": "Amount to refund"}},
        "required": ["orderId", "amount"],
        "additionalProperties": False,
    }
    assert tools["delete_account"].description == "Delete the account"  # falls back to the name


def test_parallel_tool_calls_of_one_turn_all_run_before_the_next_model_step(engine: Engine) -> None:
    agent = Agent(engine, [
        calls(("lookup_order", {"orderId": "a"}), ("lookup_order", {"orderId": "b"}), ("summarize", {"text": "x"})),
        final("done"),
    ])
    key = agent.start()
    assert engine.instance(key).state == "completed"
    assert sorted(a["orderId"] for a in agent.ledger.of("lookup_order")) == ["a", "b"]
    second = agent.model.seen[1].messages
    assert sorted(m["toolCallId"] for m in second if m["role"] == "tool") == ["call_1_1", "call_1_2", "call_1_3"]


def test_a_user_task_tool_asks_a_person_and_the_answer_goes_back_to_the_agent(engine: Engine) -> None:
    agent = Agent(engine, [calls(("ask_customer", {"question": "Which colour?"})), final("ok")])
    key = agent.start()
    [task] = engine.user_tasks(instance=key)
    assert task.element_id == "ask_customer" and task.assignee == "customer"
    engine.complete_user_task(task.key, {"answer": "blue"})
    agent.drive()
    assert engine.instance(key).state == "completed"
    tool_message = next(m for m in agent.model.seen[1].messages if m["role"] == "tool")
    assert tool_message["content"] == {"answer": "blue"}


def test_every_model_call_is_journaled_with_model_tokens_cost_and_latency(engine: Engine) -> None:
    agent = Agent(engine, [calls(("summarize", {"text": "x"})), final("done")])
    key = agent.start()
    [first, second] = agent.journal(key, "agent_model_called")
    assert first["data"]["model"] == "scripted"
    assert (first["data"]["inputTokens"], first["data"]["outputTokens"], first["data"]["latencyMs"]) == (10, 5, 1)
    assert first["data"]["costUsd"] == "0.001"
    assert first["data"]["answer"] == {"toolCalls": [{"id": "call_1_1", "name": "summarize"}]}
    assert second["data"]["answer"] == {"final": True}
    [call] = agent.journal(key, "agent_tool_call")
    assert call["data"]["decision"] == "allow" and len(call["data"]["argumentsHash"]) == 64


def test_the_model_call_budget_throws_agent_limit_reached_to_the_boundary_event(engine: Engine) -> None:
    agent = Agent(engine, [calls(("summarize", {"text": str(i)})) for i in range(10)])
    key = agent.start(max_calls=3)
    view = engine.instance(key)
    assert view.state == "completed"
    completed = [e["elementId"] for e in agent.journal(key, "element_completed")]
    assert "Escalated" in completed and "Done" not in completed
    assert len(agent.journal(key, "agent_model_called")) == 3
    [limit] = agent.journal(key, "agent_limit_reached")
    assert "maxModelCalls" in limit["data"]["reason"]


def test_an_uncaught_limit_raises_an_incident_and_resolving_it_allows_one_more_model_call(engine: Engine) -> None:
    engine.deploy([("support_agent_bare.bpmn", _without_boundary())])
    agent = Agent(engine, [calls(("summarize", {"text": "a"})), final("finally")])
    view = engine.start("support_agent_bare", {"request": "r", "modelName": "scripted", "maxCalls": 1})
    agent.drive()
    [incident] = engine.incidents(instance=view.key)
    assert "AGENT_LIMIT_REACHED" in incident.message
    engine.resolve_incident(incident.key)
    agent.drive()
    assert engine.instance(view.key).state == "completed"
    assert engine.instance(view.key).variables["agentResult"]["response"] == "finally"


def _without_boundary() -> str:
    from tests.engine.agent.harness import DATA

    text = (DATA / "support_agent.bpmn").read_text()
    start = text.index("<bpmn:boundaryEvent")
    end = text.index("</bpmn:boundaryEvent>") + len("</bpmn:boundaryEvent>")
    text = text[:start] + text[end:]
    text = text.replace('<bpmn:sequenceFlow id="F_OverBudget_Escalated" sourceRef="OverBudget" '
                        'targetRef="Escalated" />', "")
    return text.replace('id="support_agent"', 'id="support_agent_bare"')


def test_a_malformed_model_answer_is_sent_back_to_the_model_and_nothing_runs(engine: Engine) -> None:
    agent = Agent(engine, [{"toolCalls": "refund everything", "content": "refunding"}, final("sorry")])
    key = agent.start()
    assert engine.instance(key).state == "completed"
    assert agent.ledger.rows == []
    second = agent.model.seen[1].messages
    assert second[-1]["role"] == "user" and "neither tool calls nor a final answer" in second[-1]["content"]


def test_tools_cannot_be_activated_from_outside_an_agent(engine: Engine) -> None:
    agent = Agent(engine, [calls(("ask_customer", {"question": "q"})), final("ok")])
    key = agent.start()
    support = next(e for e in engine.instance(key).active_elements if e["elementId"] == "Support")
    with pytest.raises(Conflict, match="activated by the agent's calls only"):
        engine.activate_ad_hoc_elements(key, support["elementInstance"], ["delete_account"])
    assert agent.ledger.of("delete_account") == []
