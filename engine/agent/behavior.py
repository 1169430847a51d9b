"""The agent as a behaviour: an ad-hoc subprocess with ``<agenthub:agent>`` is run by the agent's loop.

This is where the agent plugs into the runtime: the behaviour table's row for
ad-hoc subprocesses (``engine.kernel``). It is a plain ad-hoc subprocess
(``AdHocSubProcessBehavior``) whose activations are the agent's tool calls;
it takes the model step's job results, the approvals of tool calls, the
timers of its deadlines (``deadlines``) and the resolution of a spent
limit's incident, and hands them to ``loop``. An
ad-hoc subprocess without an agent behaves as the runtime's own.
"""

from __future__ import annotations

from typing import Any

from engine.actor import Actor
from engine.agent import camunda_events, deadlines, loop
from engine.agent.config import agent_config
from engine.agent.deadlines import Deadline
from engine.model import AdHocSubProcess, FlowNode
from engine.runtime.behaviors.activation import activated
from engine.runtime.behaviors.ad_hoc import AdHocSubProcessBehavior
from engine.runtime.behaviors.events import open_scope_waits
from engine.runtime.kernel import Kernel
from engine.runtime.records import ToolCall
from engine.runtime.state import ElementInstance, IncidentAction

__all__ = ["AgentSubProcessBehavior"]


class AgentSubProcessBehavior(AdHocSubProcessBehavior):
    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        assert isinstance(node, AdHocSubProcess)
        if agent_config(node) is None:
            super().activate(kernel, element, node)
            return
        prepared = loop.prepare(kernel, element, node)  # evaluated before anything changes: a failure is an incident
        open_scope_waits(kernel, element, node.id)
        activated(kernel, element, waits=True)
        loop.begin(kernel, element, prepared)

    def job_completed(self, kernel: Kernel, element: ElementInstance, job: int, variables: dict[str, Any]) -> bool:
        if element.agent is None:
            return False
        loop.model_answered(kernel, element, job, variables)
        return True

    def user_task_completed(self, kernel: Kernel, element: ElementInstance, variables: dict[str, Any],
                            by: Actor | None) -> bool:
        if not element.inner or element.call is None:
            return False
        loop.approval_decided(kernel, element, variables, by)
        deadlines.approval_settled(kernel, element)
        return True

    def timer_fired(self, kernel: Kernel, element: ElementInstance, wait: int) -> bool:
        match deadlines.which(element):
            case None:
                return False
            case Deadline.TIME_LIMIT:
                loop.time_limit(kernel, element)
            case Deadline.REJECT:
                loop.approval_expired(kernel, element, deadlines.expiry_reason(element))
            case Deadline.ESCALATE:
                deadlines.escalate(kernel, element)
        return True  # a stale one (the approval was decided meanwhile) is taken too, and does nothing

    def resume(self, kernel: Kernel, element: ElementInstance, action: IncidentAction) -> None:
        if action == IncidentAction.MODEL and element.agent is not None:  # ask again; past a limit, once more
            loop.ask_model(kernel, element, grace=True)

    def call_finished(self, kernel: Kernel, element: ElementInstance, call: ToolCall, result: Any) -> None:
        loop.tool_done(kernel, element, call, result)

    def event_subprocess_done(self, kernel: Kernel, scope: ElementInstance, event: ElementInstance) -> None:
        camunda_events.event_done(kernel, scope, event)  # Camunda's data.events; our own agents ignore events
