"""An agent's deadlines as durable timers: its time limit (``maxDuration``) and its approvals' due dates.

Both are rows of the engine's timers table, armed in the step that starts
the agent or asks for the approval, so they survive a restart, and owned by
an element instance (``waits``), so they go when it goes: the agent's when
it completes or is terminated, an approval's when it is rejected or
withdrawn. An approval that is approved keeps its inner instance (the call
runs in it), so ``approval_settled`` cancels its timer then.

- The time limit fires into ``loop.time_limit``: an agent waiting on a
  person (an approval, a question) past its ``maxDuration`` stops with the
  limit error, as it would at its next model step.
- An approval's due date comes from the earliest ``dueDate`` of the policies
  that asked for it: an ISO date-time, a duration from now (``PT4H``) or
  FEEL giving either. It is the task's ``dueDate``; with ``onTimeout`` a
  timer is armed. ``reject`` answers the approval as rejected
  (``loop.approval_expired``); ``escalate`` leaves it open, raises its
  priority to ``ESCALATED_PRIORITY`` and flags it (``escalated`` in the task
  JSON). Escalation does not widen who may approve: the candidates the
  policy named stay the candidates, the task only rises to the top of their
  lists (``?sort=-priority``). A due date that cannot be evaluated leaves the
  approval waiting without one and says so in the journal; it never lets a
  call run.

Deciding which deadline fired is here; acting on it is the loop's (this
module does not import ``loop``, which calls it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from engine.agent.config import Policy
from engine.feel.api import is_expression, strip_marker
from engine.runtime import messages as m
from engine.runtime.expressions import ExpressionFailure, evaluate
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import Kernel
from engine.runtime.records import Approval
from engine.runtime.state import ElementInstance
from engine.runtime.task_dates import due_moment
from engine.runtime.waits import close_waits
from engine.scheduler.timers import from_millis, to_millis

__all__ = ["ESCALATED_PRIORITY", "Deadline", "approval_deadline", "approval_settled", "arm_time_limit", "escalate",
           "expiry_reason", "which"]

ESCALATED_PRIORITY = 100


class Deadline(StrEnum):
    """What a timer of an agent's own meant when it fired."""

    TIME_LIMIT = "timeLimit"  # the agent's maxDuration
    REJECT = "reject"  # an approval's due date, onTimeout="reject"
    ESCALATE = "escalate"  # an approval's due date, onTimeout="escalate"
    STALE = "stale"  # nothing waits for it any more (the approval was decided in the same instant)


def _arm(step: Kernel, owner: ElementInstance, due_ms: int) -> None:
    key = step.ids.next_key()
    step.effect(m.CreateTimer(key=key, owner=owner.key, element_id=owner.element_id,
                              due=from_millis(due_ms).isoformat()))
    owner.waits[key] = "timer"


def arm_time_limit(step: Kernel, element: ElementInstance) -> None:
    """At the agent's start: a timer at its ``maxDuration`` deadline, if it has one."""
    agent = element.agent
    assert agent is not None
    if agent.limits.deadline is not None:
        _arm(step, element, agent.limits.deadline)


def _utc(ms: int) -> str:
    return from_millis(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def approval_deadline(step: Kernel, element: ElementInstance, inner: ElementInstance, task: int,
                      approvers: tuple[Policy, ...]) -> None:
    """At the end of asking for an approval: its due date on the task, and its timer when a policy says what
    happens then. The earliest due date of the approving policies wins, with that policy's ``onTimeout``."""
    call = inner.call
    assert call is not None
    earliest: tuple[int, Policy] | None = None
    seen: dict[str, Any] | None = None  # what FEEL sees, as a policy's ``when`` does: the call over the variables
    for policy in approvers:
        if policy.due_date is None:
            continue
        try:
            raw = policy.due_date
            if is_expression(raw):
                if seen is None:
                    seen = {**step.scope(element.key).flatten(), "toolName": call.tool, "toolCall": call.arguments}
                value = evaluate(strip_marker(raw), seen, step.now, what="approval due date")
            else:
                value = raw
            due_ms = to_millis(due_moment(value, step.now, f"the approval's dueDate of the policy for '{call.tool}'"))
        except ExpressionFailure as exc:
            step.record(_E.AGENT_APPROVAL_DUE, element, callId=call.id, tool=call.tool, task=task, error=str(exc))
            continue
        if earliest is None or due_ms < earliest[0]:
            earliest = (due_ms, policy)
    if earliest is None:
        return
    due_ms, policy = earliest
    call.due_date, call.on_timeout = _utc(due_ms), policy.on_timeout
    step.effect(m.ScheduleUserTask(task, call.due_date, due_ms))
    step.record(_E.AGENT_APPROVAL_DUE, element, callId=call.id, tool=call.tool, task=task, dueDate=call.due_date,
                onTimeout=policy.on_timeout)
    if policy.on_timeout is not None:
        _arm(step, inner, due_ms)


def approval_settled(step: Kernel, inner: ElementInstance) -> None:
    """After a person answered an approval: once it is decided (no longer waiting on its task), its timer goes."""
    if inner.key in step.state.elements and inner.user_task is None and inner.waits:
        close_waits(step, inner)


def which(element: ElementInstance) -> Deadline | None:
    """What a timer the element armed for itself means; None when the element is no agent's (not ours)."""
    if element.inner and element.call is not None:
        call = element.call
        if call.approval != Approval.PENDING or element.user_task is None:
            return Deadline.STALE
        return Deadline.ESCALATE if call.on_timeout == Deadline.ESCALATE else Deadline.REJECT
    if element.agent is not None:
        return Deadline.TIME_LIMIT
    return None


def expiry_reason(element: ElementInstance) -> str:
    """What the agent is told of an approval that expired."""
    call = element.call
    assert call is not None
    return f"the approval was not given before its due date ({call.due_date})"


def escalate(step: Kernel, inner: ElementInstance) -> None:
    """An approval past its due date whose policy escalates: it stays open, first in its candidates' lists."""
    call = inner.call
    assert call is not None and inner.parent is not None and inner.user_task is not None
    step.effect(m.EscalateUserTask(inner.user_task, ESCALATED_PRIORITY))
    step.record(_E.AGENT_APPROVAL_ESCALATED, step.state.elements[inner.parent], callId=call.id, tool=call.tool,
                task=inner.user_task, dueDate=call.due_date, priority=ESCALATED_PRIORITY)
