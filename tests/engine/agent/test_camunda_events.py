"""Camunda's ``data.events``: an event subprocess inside Camunda's AI Agent reaches the model as a user message."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Engine
from tests.engine.agent.harness import Agent, calls, final

MODEL = "camunda_agent_events.bpmn"


def _start(engine: Engine, behavior: str | None) -> tuple[Agent, int]:
    agent = Agent(engine, [calls({"id": "c1", "name": "Ask", "arguments": {"question": "Which colour?"}}),
                           final("Done.")], resource=MODEL)
    key = agent.start(process="camunda_agent_events", inputText="Pick a colour.", eventsBehavior=behavior,
                      eventKey="k-1")
    return agent, key


def _event(engine: Engine, agent: Agent, text: str = "blue is nicer") -> None:
    engine.publish_message("ai-agent-message", "k-1", {"messageFromEvent": text})
    agent.drive()


def _asked(engine: Engine, key: int) -> Any:
    [task] = [t for t in engine.user_tasks(instance=key) if t.element_id == "Ask"]
    return task


@pytest.mark.parametrize("behavior", [None, "WAIT_FOR_TOOL_CALL_RESULTS"])
def test_an_event_while_a_tool_runs_waits_for_its_result_and_follows_it_as_a_user_message(
        engine: Engine, behavior: str | None) -> None:
    agent, key = _start(engine, behavior)
    _event(engine, agent)
    assert len(agent.model.seen) == 1  # the tool is still running: the model is not asked yet
    engine.complete_user_task(_asked(engine, key).key, {"answer": "red"})
    agent.drive()

    second = agent.model.seen[1].messages
    assert second[-2:] == [{"role": "tool", "toolCallId": "c1", "name": "Ask", "content": "red"},
                           {"role": "user", "content": "Updated message from event: blue is nicer"}]
    result = engine.instance(key).variables["agent"]
    assert result["responseText"] == "Done."
    roles = [m["role"] for m in result["context"]["conversation"]["messages"]]
    assert roles == ["system", "user", "assistant", "tool_call_result", "user", "assistant"]


def test_an_interrupting_event_cancels_the_tool_calls_in_flight_and_asks_the_model_at_once(engine: Engine) -> None:
    agent, key = _start(engine, "INTERRUPT_TOOL_CALLS")
    _event(engine, agent)

    assert [t for t in engine.user_tasks(instance=key) if t.element_id == "Ask"] == []  # the person is not asked
    second = agent.model.seen[1].messages
    canceled = {"role": "tool", "toolCallId": "c1", "name": "Ask", "content": "Tool execution was canceled."}
    assert second[-2:] == [canceled, {"role": "user", "content": "Updated message from event: blue is nicer"}]
    assert engine.instance(key).variables["agent"]["responseText"] == "Done."


def test_an_unknown_events_behavior_is_an_incident_that_names_the_two_behaviours(engine: Engine) -> None:
    agent, key = _start(engine, "LATER")
    _event(engine, agent)

    [incident] = engine.incidents(instance=key)
    assert "WAIT_FOR_TOOL_CALL_RESULTS or INTERRUPT_TOOL_CALLS" in incident.message
