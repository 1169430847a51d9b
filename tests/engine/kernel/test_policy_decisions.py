"""Policy decisions are a closed set, and a policy whose condition is not a boolean is audited as what it gave."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.agent import Policy, PolicyDecision, decide, policy_from_attributes

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _decide(*policies: Policy) -> object:
    return decide(policies, "lookup_order", {"orderId": "o-1"}, None, {}, 0, NOW)


def test_a_condition_that_gives_a_string_denies_with_an_alert_naming_the_string() -> None:
    decision = decide([Policy(tool="lookup_order", decision=PolicyDecision.ALLOW, when="toolCall.orderId")],
                      "lookup_order", {"orderId": "o-1"}, None, {}, 0, NOW)
    assert decision.decision == PolicyDecision.DENY and decision.alert
    assert 'gave "o-1" instead of true or false' in decision.reason
    assert "True" not in decision.reason


def test_a_condition_that_gives_null_or_a_number_is_recorded_as_such() -> None:
    for when, shown in (("null", "null"), ("1 + 1", "2"), ('{"a": 1}', '{"a": 1}')):
        decision = decide([Policy(tool="*", decision=PolicyDecision.APPROVE, when=when)], "t", {}, None, {}, 0, NOW)
        assert decision.decision == PolicyDecision.DENY and decision.alert
        assert f"gave {shown} instead of true or false" in decision.reason


def test_a_false_condition_does_not_apply_and_a_true_one_does() -> None:
    off = decide([Policy(tool="*", decision=PolicyDecision.DENY, when="false")], "t", {}, None, {}, 0, NOW)
    on = decide([Policy(tool="*", decision=PolicyDecision.APPROVE, when="true")], "t", {}, None, {}, 0, NOW)
    assert (off.decision, off.alert) == (PolicyDecision.ALLOW, False)
    assert (on.decision, on.alert) == (PolicyDecision.APPROVE, False)


def test_decisions_keep_their_strings_and_rank_from_allow_to_deny() -> None:
    assert [str(d) for d in PolicyDecision] == ["allow", "approve", "deny"]
    assert PolicyDecision.ALLOW.strictness < PolicyDecision.APPROVE.strictness < PolicyDecision.DENY.strictness
    assert policy_from_attributes({"tool": "*", "decision": "approve"}).decision is PolicyDecision.APPROVE
