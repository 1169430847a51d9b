"""The choke point every tool call passes: policies decide allow, approve or deny, inside the engine's step.

All policies that match a call apply and the strictest wins (deny over
approve over allow). A policy whose condition fails to evaluate, or gives
anything but true or false, denies with an alert, and the audit says what
it gave: governance fails closed. A call budget
(``maxCalls``) denies the calls past it. Policies see ``toolName``,
``toolCall`` (the arguments that will run), ``confidence`` (what the model
said with the call, or null) and the variables visible to the agent; the
model can change none of these rules, because they are part of the process
model or the hub's configuration, not of the prompt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.agent.config import Policy, PolicyDecision
from engine.feel import FeelError, compile_expression, to_json
from engine.redaction import secret_in

__all__ = ["Decision", "PolicyDecision", "decide"]


@dataclass(frozen=True, slots=True)
class Decision:
    decision: PolicyDecision
    reason: str
    policies: tuple[str, ...] = ()  # which policies decided, for the audit trail ("model:12", "hub:0")
    approvers: tuple[Policy, ...] = field(default=())  # the approve policies: their candidate groups are asked
    alert: bool = False  # a policy failed: the decision is deny, and the audit entry says so loudly


class _Context(Mapping[str, Any]):
    """The call's names over the agent's variables, without copying the variables."""

    def __init__(self, call: dict[str, Any], variables: Mapping[str, Any]) -> None:
        self._call = call
        self._variables = variables

    def __getitem__(self, name: str) -> Any:
        if name in self._call:
            return self._call[name]
        return self._variables[name]

    def __iter__(self) -> Any:
        yield from self._call
        yield from (k for k in self._variables if k not in self._call)

    def __len__(self) -> int:
        return len(set(self._call) | set(self._variables))


def _label(policy: Policy, index: int) -> str:
    return f"{policy.origin}:{policy.line if policy.line is not None else index}"


def decide(
    policies: Sequence[Policy],
    tool: str,
    arguments: dict[str, Any],
    confidence: float | None,
    variables: Mapping[str, Any],
    calls_so_far: int,
    now: datetime,
) -> Decision:
    """Decide one call. ``calls_so_far`` counts the earlier calls of this tool that ran or were approved.

    Before any policy: arguments that carry a string shaped like a secret (a private key, a provider's API
    key) are denied with an alert, whatever the policies say. A model that was told, by a poisoned tool
    description or a document it read, to pass a key on cannot; a process that must hand a tool a
    credential gives it through the connector's ``{{secrets.NAME}}``, resolved at call time, never through
    the model (RELIABILITY M12).
    """
    leaked = secret_in(arguments)
    if leaked is not None:
        what, where = leaked
        return Decision(
            PolicyDecision.DENY,
            f"the arguments carry what looks like {what} (in '{where or 'the arguments'}'): a tool call never "
            "passes on a secret",
            ("secret scan",), (), True,
        )
    context = _Context({"toolName": tool, "toolCall": arguments, "confidence": confidence}, variables)
    strictest = PolicyDecision.ALLOW
    reasons: list[str] = []
    deciding: list[str] = []
    approvers: list[Policy] = []
    alert = False
    for index, policy in enumerate(policies):
        if not policy.matches_tool(tool):
            continue
        label = _label(policy, index)
        outcome = PolicyDecision(policy.decision)
        reason = policy.reason or f"policy {label} decided {outcome}"
        if policy.when is not None:
            held = _condition(policy.when, context, now)
            if isinstance(held, FeelError):  # fail closed: the policy denies, loudly
                outcome, alert = PolicyDecision.DENY, True
                reason = f"policy {label} failed to evaluate ({held}); denied"
            elif not isinstance(held, bool):  # null, a number, a string...: the same as a failure, not true
                outcome, alert = PolicyDecision.DENY, True
                reason = f"policy {label} gave {_shown(held)} instead of true or false; denied"
            elif not held:
                continue
        if policy.max_calls is not None and calls_so_far >= policy.max_calls:
            outcome = PolicyDecision.DENY
            reason = policy.reason or f"'{tool}' may run at most {policy.max_calls} time(s) in one agent run"
        if outcome.strictness > strictest.strictness:
            strictest, reasons, deciding = outcome, [], []
        if outcome == strictest:
            reasons.append(reason)
            deciding.append(label)
            if outcome == PolicyDecision.APPROVE:
                approvers.append(policy)
    if not deciding:
        return Decision(PolicyDecision.ALLOW, "no policy applies to this call")
    asked = tuple(approvers) if strictest == PolicyDecision.APPROVE else ()
    return Decision(strictest, "; ".join(reasons), tuple(deciding), asked, alert)


def _condition(when: str, context: Mapping[str, Any], now: datetime) -> object:
    """What a policy's ``when`` gives: its value, or the FeelError that stopped it."""
    try:
        return compile_expression(when).evaluate(context, now)
    except FeelError as exc:
        return exc


def _shown(value: object) -> str:
    """A FEEL value as the audit shows it: its JSON (a string quoted, null for none), cut short."""
    text = json.dumps(to_json(value), ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:200] + "…"
