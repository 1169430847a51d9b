"""Where a tool's variables go: as Zeebe propagates them (the default), or kept in the call (``isolated``).

The model (``tests/data/agent/tool_variables.bpmn``) has three tools that
each write ``customer`` (a process variable), ``ticket`` (a new name) and
``attempts`` (a variable of the agent's own scope): a job worker, a job with
output mappings and a chain of script tasks (a fourth, a subprocess, writes
``customer`` from inside). ``toolCallResult`` is the call's own: it goes back
to the model for that call and nowhere else.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine import DeploymentError, Engine, Job
from tests.engine.agent.harness import DATA, Agent, calls, final

MODEL = "tool_variables.bpmn"


def _crm(job: Job) -> dict[str, Any]:
    call_id = job.variables["toolCall"]["_meta"]["id"]
    return {"customer": "by worker", "ticket": "by worker", "attempts": "by worker",
            "toolCallResult": f"worker answered {call_id}"}


def _mapped(job: Job) -> dict[str, Any]:
    return {"raw": "by mapping"}


def _agent(engine: Engine, script: list[Any], *, isolated: bool = False) -> Agent:
    agent = Agent(engine, script, resource=MODEL)
    agent.registry.register("crm", _crm)
    agent.registry.register("mapped", _mapped)
    if isolated:
        text = (DATA / MODEL).read_text().replace('id="tool_variables"', 'id="tool_variables_isolated"')
        text = text.replace("<agenthub:agent ", '<agenthub:agent toolVariables="isolated" ')
        engine.deploy([("tool_variables_isolated.bpmn", text.encode())])
    return agent


def _run(agent: Agent, *, isolated: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    key = agent.start("Update the record", process="tool_variables_isolated" if isolated else "tool_variables",
                      customer="Ada")
    view = agent.engine.instance(key)
    assert view.state == "completed"
    return view.variables, [m for m in agent.conversation(key) if m["role"] == "tool"]


@pytest.mark.parametrize("tool", ["crm", "mapped", "scripted"])
def test_a_tools_variables_go_where_zeebe_would_put_them(engine: Engine, tool: str) -> None:
    by = {"crm": "by worker", "mapped": "by mapping", "scripted": "by script"}[tool]
    variables, _ = _run(_agent(engine, [calls((tool, {})), final("done")]))
    assert variables["customer"] == by  # a process variable: updated in the process
    assert variables["ticket"] == by  # a new name: created on the process
    assert variables["attemptsSeen"] == by and "attempts" not in variables  # the agent's own: updated there
    assert "toolCall" not in variables and "toolCallResult" not in variables
    assert "raw" not in variables  # a job's variables stay on its task when output mappings take what they want


def test_the_model_gets_the_calls_toolcallresult_or_else_what_the_tool_wrote(engine: Engine) -> None:
    agent = _agent(engine, [calls({"id": "c-1", "name": "crm", "arguments": {}}),
                            calls({"id": "c-2", "name": "mapped", "arguments": {}}),
                            calls({"id": "c-3", "name": "scripted", "arguments": {}}), final("done")])
    _, told = _run(agent)
    assert [(m["toolCallId"], m["content"]) for m in told] == [
        ("c-1", "worker answered c-1"),
        ("c-2", "mapped: by mapping"),
        ("c-3", {"customer": "by script", "ticket": "by script", "attempts": "by script"}),
    ]


def test_two_parallel_calls_of_different_tools_each_get_their_own_toolcallresult(engine: Engine) -> None:
    agent = _agent(engine, [calls({"id": "w", "name": "crm", "arguments": {}},
                                  {"id": "m", "name": "mapped", "arguments": {}}), final("done")])
    variables, told = _run(agent)
    assert sorted((m["toolCallId"], m["name"], m["content"]) for m in told) == [
        ("m", "mapped", "mapped: by mapping"), ("w", "crm", "worker answered w")]
    second_turn = [m for m in agent.model.seen[1].messages if m["role"] == "tool"]
    assert {m["toolCallId"]: m["content"] for m in second_turn} == {"m": "mapped: by mapping",
                                                                     "w": "worker answered w"}
    assert "toolCallResult" not in variables


def test_two_parallel_calls_of_one_tool_each_get_their_own_toolcallresult(engine: Engine) -> None:
    agent = _agent(engine, [calls({"id": "a", "name": "crm", "arguments": {}},
                                  {"id": "b", "name": "crm", "arguments": {}}), final("done")])
    _, told = _run(agent)
    assert sorted((m["toolCallId"], m["content"]) for m in told) == [("a", "worker answered a"),
                                                                     ("b", "worker answered b")]


@pytest.mark.parametrize("tool", ["crm", "mapped", "scripted"])
def test_isolated_tools_keep_everything_they_write_in_their_call(engine: Engine, tool: str) -> None:
    by = {"crm": "by worker", "mapped": "by mapping", "scripted": "by script"}[tool]
    variables, told = _run(_agent(engine, [calls({"id": "c", "name": tool, "arguments": {}}), final("done")],
                                  isolated=True), isolated=True)
    assert variables["customer"] == "Ada" and "ticket" not in variables and variables["attemptsSeen"] == 0
    assert "toolCallResult" not in variables
    [message] = told
    if tool == "scripted":
        assert message["content"] == {"customer": by, "ticket": by, "attempts": by}
    else:
        assert message["content"] == {"crm": "worker answered c", "mapped": "mapped: by mapping"}[tool]


@pytest.mark.parametrize("value", ["copy", "=isolated", ""])
def test_tool_variables_is_propagate_or_isolated_and_checked_at_deployment(engine: Engine, value: str) -> None:
    text = (DATA / MODEL).read_text().replace("<agenthub:agent ", f'<agenthub:agent toolVariables="{value}" ')
    with pytest.raises(DeploymentError) as raised:
        engine.deploy([(MODEL, text.encode())])
    assert "agenthub:agent toolVariables must be propagate or isolated" in str(raised.value)


@pytest.mark.parametrize("isolated", [False, True])
def test_what_a_subprocess_tool_writes_inside_goes_up_or_stays_in_the_call(engine: Engine, isolated: bool) -> None:
    variables, _ = _run(_agent(engine, [calls(("nested", {})), final("done")], isolated=isolated), isolated=isolated)
    assert variables["customer"] == ("Ada" if isolated else "by nested")
