"""G16: property tests of the choke point. A tool runs only if allowed, or approved with exactly those arguments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine
from engine.agent import Policy, decide
from engine.agent.tools import ToolProblem, check_arguments
from engine.agent.turn import ToolDefinition
from tests.engine.agent.harness import Agent, calls, final

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REFUND = ToolDefinition("refund", "Refund", {
    "type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["orderId", "amount"], "additionalProperties": False})
POLICIES = (
    Policy(tool="refund", decision="approve", when="toolCall.amount > 100"),
    Policy(tool="refund", decision="deny", when="toolCall.orderId = \"blocked\""),
    Policy(tool="*", decision="approve", when="confidence != null and confidence < 0.5"),
)
near_names = st.sampled_from(["refund", "Refund", "refund ", "re\u200bfund", "refunds", "\uff52efund", "x__refund", ""])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=8)
arguments = st.one_of(
    st.fixed_dictionaries({"orderId": st.sampled_from(["o-1", "blocked", ""]),
                           "amount": st.one_of(st.integers(-10, 1000), st.floats(-10, 1000, allow_nan=False))},
                          optional={"extra": json_values}),
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    json_values,
)


def _expected(name: str, args: Any, confidence: float | None) -> str:
    """The decision the policies above call for, written from their meaning, not from the code under test."""
    if name != "refund":
        return "refused"
    if not isinstance(args, dict) or set(args) != {"orderId", "amount"}:
        return "refused"
    if not isinstance(args["orderId"], str) or isinstance(args["amount"], bool) or \
            not isinstance(args["amount"], int | float):
        return "refused"
    if args["orderId"] == "blocked":
        return "deny"
    if args["amount"] > 100 or (confidence is not None and confidence < 0.5):
        return "approve"
    return "allow"


@settings(max_examples=2000, deadline=None)
@given(name=near_names, args=arguments, confidence=st.none() | st.floats(0, 1))
def test_the_choke_point_allows_only_what_the_policies_allow(name: str, args: Any, confidence: float | None) -> None:
    tools = {"refund": REFUND}
    if name not in tools:
        outcome = "refused"
    else:
        try:
            checked = check_arguments(tools[name], args)
        except ToolProblem:
            outcome = "refused"
        else:
            outcome = decide(POLICIES, name, checked, confidence, {}, 0, NOW).decision
    assert outcome == _expected(name, args, confidence)


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agenthub.db'}"


turns = st.lists(st.lists(st.tuples(st.sampled_from(["refund", "Refund", "lookup_order", "delete_account"]),
                                    st.sampled_from(["o-1", "o-2"]), st.sampled_from([5, 50, 500, 5000])),
                          min_size=1, max_size=4), min_size=1, max_size=3)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=turns, answers=st.lists(st.booleans(), min_size=12, max_size=12))
def test_through_the_engine_a_tool_ran_only_if_allowed_or_approved_with_those_arguments(
    engine: Engine, script: list[list[tuple[str, str, int]]], answers: list[bool]
) -> None:
    model: list[Any] = [calls(*[(name, {"orderId": order, "amount": amount}) if name == "refund"
                               else (name, {"orderId": order}) if name == "lookup_order" else (name, {})
                               for name, order, amount in turn]) for turn in script]
    agent = Agent(engine, [*model, final("done")])
    key = agent.start(max_calls=len(model) + 1)
    approved: list[dict[str, Any]] = []
    answer = iter(answers)
    while tasks := agent.approvals(key):
        for task in tasks:
            yes = next(answer, True)
            if yes:
                approved.append(task.details["arguments"])
            engine.complete_user_task(task.key, {"approved": yes})
        agent.drive()
    allowed_refunds = [{"orderId": o, "amount": a} for t in script for n, o, a in t if n == "refund" and a <= 100]
    for args in agent.ledger.of("refund"):
        assert args in allowed_refunds or args in approved
    assert len(agent.ledger.of("refund")) <= len(allowed_refunds) + len(approved)
    assert agent.ledger.of("delete_account") == []
    jobs = [job for _, _, job in agent.ledger.rows]
    assert len(jobs) == len(set(jobs))  # no tool job ran twice
