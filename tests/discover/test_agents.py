"""Mining the agents' own decisions, checked against runs of a scripted model whose tool sequences are known
(the support agent of tests/engine/agent/harness.py: refunds over 100 ask finance, deleting an account is denied)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from discover import UnknownProcess, agent_behaviour
from engine import Engine
from tests.engine.agent.harness import DATA, Agent, Answer, calls, final


def _order(order: str = "o-1") -> dict[str, Any]:
    return {"orderId": order}


def _refund(amount: int) -> dict[str, Any]:
    return {"orderId": "o-1", "amount": amount}


def _run(agent: Agent, script: list[Answer], **variables: Any) -> int:
    agent.model.script = script
    return agent.start(**variables)


def _support(engine: Engine) -> dict[str, Any]:
    [region] = agent_behaviour(engine, "support_agent")
    assert (region["processId"], region["elementId"], region["name"]) == ("support_agent", "Support", "Support agent")
    return region


def test_the_tool_graph_and_sequences_recover_the_order_the_agent_chose_its_tools(engine: Engine) -> None:
    agent = Agent(engine, [])
    for _ in range(3):
        _run(agent, [calls(("lookup_order", _order())), calls(("refund", _refund(20))), final("refunded")])
    _run(agent, [calls(("lookup_order", _order())), final("nothing to do")])
    region = _support(engine)
    assert region["runs"] == 4 and region["toolCalls"] == 7 and region["modelCalls"] == 11
    assert region["sequences"] == [{"tools": ["lookup_order", "refund"], "runs": 3},
                                   {"tools": ["lookup_order"], "runs": 1}]
    edges = {(e["from"], e["to"]): e["count"] for e in region["toolGraph"]["edges"]}
    assert edges == {("(start)", "lookup_order"): 4, ("lookup_order", "refund"): 3, ("refund", "(end)"): 3,
                     ("lookup_order", "(end)"): 1}
    assert region["toolGraph"]["nodes"] == [{"tool": "lookup_order", "calls": 4}, {"tool": "refund", "calls": 3}]
    assert region["loops"] == [] and region["loopRate"] == 0.0
    assert region["outcomes"]["completed"] == 4 and region["byOutcome"]["completed"]["runs"] == 4


def test_a_tool_called_again_with_the_same_arguments_is_found_as_a_loop(engine: Engine) -> None:
    agent = Agent(engine, [])
    looking = calls(("lookup_order", _order()))
    _run(agent, [looking, looking, looking, calls(("lookup_order", _order("o-2"))), final("found it")])
    _run(agent, [looking, final("found it")])
    region = _support(engine)
    [loop] = region["loops"]
    assert loop == {"tool": "lookup_order", "repeatedCalls": 2, "runs": 1, "mostRepeats": 3}
    assert region["repeatedCalls"] == 2 and region["loopRate"] == 0.5


def test_policy_denials_asks_and_people_refusing_show_in_the_rates(engine: Engine) -> None:
    agent = Agent(engine, [])
    _run(agent, [calls(("delete_account", {})), final("I may not delete it")])
    key = _run(agent, [calls(("refund", _refund(500))), final("finance said no")])
    [task] = agent.approvals(key)
    engine.complete_user_task(task.key, {"approved": False, "reason": "not our fault"}, completed_by="fiona")
    agent.drive()
    _run(agent, [calls(("lookup_order", _order())), final("ok")])
    region = _support(engine)
    assert region["decisions"] == {"allow": 1, "approve": 1, "deny": 1, "refused": 0}
    assert region["denyRate"] == round(1 / 3, 4) and region["askRate"] == round(1 / 3, 4)
    assert (region["approvalsDecided"], region["refusedByPeople"], region["overruleRate"]) == (1, 1, 1.0)


def test_tokens_and_cost_are_summed_per_outcome_and_a_caught_budget_is_an_escalation(engine: Engine) -> None:
    agent = Agent(engine, [])
    _run(agent, [calls(("lookup_order", _order())), final("ok")])
    _run(agent, [calls(("lookup_order", _order())), calls(("lookup_order", _order("o-2"))), final("ok")],
         max_calls=1)
    region = _support(engine)
    assert region["outcomes"] == {"completed": 1, "escalated": 1, "failed": 0, "canceled": 0, "running": 0}
    done, escalated = region["byOutcome"]["completed"], region["byOutcome"]["escalated"]
    # the scripted model reports 15 tokens and $0.001 per call
    assert (done["modelCalls"], done["tokens"], done["costUsd"]) == (2, 30, "0.002")
    assert (escalated["modelCalls"], escalated["tokens"], escalated["tokensPerRun"]) == (1, 15, 15)


def test_drift_splits_the_measures_by_model_provider_and_process_version(engine: Engine) -> None:
    agent = Agent(engine, [])
    _run(agent, [calls(("lookup_order", _order())), final("ok")], modelName="openai/gpt-4o")
    _run(agent, [calls(("delete_account", {})), calls(("lookup_order", _order())), final("ok")],
         modelName="anthropic/claude-sonnet")
    drift = _support(engine)["drift"]
    by_model = {m["model"]: m for m in drift["byModel"]}
    assert by_model["openai/gpt-4o"]["denyRate"] == 0.0 and by_model["anthropic/claude-sonnet"]["denyRate"] == 0.5
    assert [p["provider"] for p in drift["byProvider"]] == ["anthropic", "openai"]
    assert [(v["version"], v["runs"]) for v in drift["byVersion"]] == [(1, 2)]


def test_agents_of_a_process_that_is_not_deployed_is_an_error_and_none_ran_is_an_empty_list(engine: Engine) -> None:
    with pytest.raises(UnknownProcess, match="'nope' is not deployed"):
        agent_behaviour(engine, "nope")
    Agent(engine, [])
    assert agent_behaviour(engine, "support_agent") == []


def test_a_run_waiting_on_a_person_is_running_and_a_cancelled_one_is_canceled(engine: Engine) -> None:
    agent = Agent(engine, [])
    waiting = _run(agent, [calls(("refund", _refund(500))), final("ok")])
    cancelled = _run(agent, [calls(("refund", _refund(700))), final("ok")])
    engine.cancel(cancelled)
    region = _support(engine)
    assert region["outcomes"] == {"completed": 0, "escalated": 0, "failed": 0, "canceled": 1, "running": 1}
    assert region["decisions"]["approve"] == 2 and region["approvalsDecided"] == 0
    assert engine.instance(waiting).state == "active"


def _without_boundary() -> bytes:
    """The support agent with no boundary event on its budget error: a spent budget raises an incident."""
    raw = (DATA / "support_agent.bpmn").read_text()
    raw = re.sub(r'<bpmn:boundaryEvent id="OverBudget".*?</bpmn:boundaryEvent>', "", raw, flags=re.S)
    return raw.replace('<bpmn:sequenceFlow id="F_OverBudget_Escalated" sourceRef="OverBudget" '
                       'targetRef="Escalated" />', "").encode()


def test_an_uncaught_budget_error_is_a_failure_and_the_versions_are_told_apart(engine: Engine) -> None:
    agent = Agent(engine, [])
    spending = [calls(("lookup_order", _order())), calls(("lookup_order", _order("o-2"))), final("ok")]
    _run(agent, spending, max_calls=1)
    engine.deploy([("support_agent.bpmn", _without_boundary())])
    failing = _run(agent, spending, max_calls=1)
    assert engine.incidents(instance=failing)
    by_version = {v["version"]: v["outcomes"] for v in _support(engine)["drift"]["byVersion"]}
    assert by_version[1]["escalated"] == 1 and by_version[2]["failed"] == 1
