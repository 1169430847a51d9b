"""Who may approve an agent's tool call: the policies' candidates, four eyes, and how many approvers it needs.

When policies decide ``approve``, every approving policy that matched adds to
one approval task: its candidate groups and users are offered the task (the
union: any of them may approve), the call needs the largest ``approvals`` any
of them asks for, and a machine client may approve only when every one of
them says ``allowMachines="true"`` (the strictest wins, as with decisions).

Four eyes: the principal that started the instance, and every principal that
acted in the agent's run (completed a user task or answered a question inside
it), may not approve its calls; nor may one principal count twice towards the
approvals a call needs. Approving one call is not acting in the run: the same
finance person may approve each of an agent's refunds, never one twice.

The task's details carry the rule (``approvers``, ``allowMachines``,
``excludedApprovers``, ``approvedBy``) so the surfaces that verify principals
(``protocols.task_access``) can refuse before anything changes; the engine
checks the identity rules again when the decision arrives, with what it knows
then, because an ``excludedApprovers`` list written when the task was created
does not see who acted in the run afterwards. Whether a principal is a person
or in a group the engine does not know: that check is the surfaces' alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actor import Actor
from engine.agent.config import Policy
from engine.feel.api import is_expression, strip_marker
from engine.model import Value
from engine.runtime.expressions import ExpressionFailure, evaluate_strings
from engine.runtime.kernel import Kernel
from engine.runtime.records import AgentRun, ToolCall
from engine.runtime.state import ElementInstance

__all__ = ["ApprovalRule", "approval_rule", "refusal"]


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """Who may approve one tool call, evaluated when its approval task is created."""

    groups: list[str]
    users: list[str]
    needed: int
    allow_machines: bool
    excluded: list[str]
    unresolved: list[str]  # candidate expressions that failed: then no one is a candidate (fail closed)

    def details(self) -> dict[str, Any]:
        """What the approval task's details say of the rule (the task JSON shows them)."""
        out: dict[str, Any] = {"approvers": self.needed, "approvedBy": [], "allowMachines": self.allow_machines,
                               "excludedApprovers": list(self.excluded)}
        if self.unresolved:
            out["candidatesUnresolved"] = list(self.unresolved)
        return out


def _strings(raw: str | None, step: Kernel, element: ElementInstance, what: str, failed: list[str]) -> list[str]:
    """The candidates an attribute names; a FEEL expression that fails adds its message to ``failed``."""
    if not raw:
        return []
    value = Value(text=strip_marker(raw), is_expression=is_expression(raw))
    try:
        return evaluate_strings(value, step.scope(element.key), step.now, what=what)
    except ExpressionFailure as exc:
        failed.append(str(exc)[:500])
        return []


def approval_rule(step: Kernel, element: ElementInstance, policies: tuple[Policy, ...]) -> ApprovalRule:
    """The rule of the approving ``policies`` for a call of the agent on ``element``."""
    groups: list[str] = []
    users: list[str] = []
    failed: list[str] = []
    for policy in policies:
        groups.extend(g for g in _strings(policy.candidate_groups, step, element, "candidate groups", failed)
                      if g not in groups)
        users.extend(u for u in _strings(policy.candidate_users, step, element, "candidate users", failed)
                     if u not in users)
    agent = element.agent
    assert agent is not None
    return ApprovalRule(
        groups=groups, users=users, needed=max((p.approvals for p in policies), default=1),
        allow_machines=bool(policies) and all(p.allow_machines for p in policies),
        excluded=_excluded(step, agent, []), unresolved=failed,
    )


def _excluded(step: Kernel, agent: AgentRun, earlier: list[str]) -> list[str]:
    out = list(earlier)
    starter = step.state.started_by
    for who in ([starter] if starter else []) + agent.actors:
        if who not in out:
            out.append(who)
    return out


def refusal(step: Kernel, agent: AgentRun, call: ToolCall, by: Actor) -> str | None:
    """Why ``by`` may not decide ``call`` (four eyes, or approving twice), or None when it may."""
    if by.id in _excluded(step, agent, call.excluded):
        started = " started this instance" if by.id == step.state.started_by else " acted in the agent's run"
        return (f"'{by.id}'{started}, so it may not approve the agent's call {call.id} ({call.tool}): four eyes, "
                "another candidate must decide it")
    if by.id in call.approved_by:
        return (f"'{by.id}' already approved the agent's call {call.id} ({call.tool}): it needs {call.needed} "
                f"distinct approvers, {len(call.approved_by)} so far")
    return None
