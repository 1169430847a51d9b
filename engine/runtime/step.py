"""The deterministic step: ``(process, state, command, now, ids) -> (events, effects)``.

A step applies one command to one instance and moves its tokens until every
token waits on something outside (a job, a person, a child instance) or the
instance ends. Work inside the step runs from an agenda rather than by
recursion, so a long chain of script tasks cannot exhaust the stack. The step
reads no clock and makes no ids of its own: both are passed in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.model import AdHocSubProcess, ElementKind, FlowNode, Process, SequenceFlow
from engine.ports import IdSource, ProcessLookup
from engine.redaction import journaled
from engine.runtime import messages as m
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.limits import RuntimeLimits
from engine.runtime.state import ElementInstance, ElementState, InstanceState, InstanceStatus
from engine.runtime.variables import ScopeView, propagate, set_local


class CommandRejected(Exception):
    """The command does not apply to the instance as it is now (already completed, wrong state...)."""


@dataclass(slots=True)
class StepResult:
    events: list[m.JournalEvent] = field(default_factory=list)
    effects: list[m.Effect] = field(default_factory=list)


_JOINING = (ElementKind.PARALLEL_GATEWAY, ElementKind.INCLUSIVE_GATEWAY)


class Step:
    """Applies one command; see the module docstring."""

    def __init__(
        self, process: Process, state: InstanceState, now: datetime, ids: IdSource, processes: ProcessLookup,
        policies: Sequence[Any] = (), limits: RuntimeLimits | None = None,
    ) -> None:
        self.process = process
        self.limits = limits or RuntimeLimits()
        self._activations = 0  # against limits.max_activations
        self.policies = tuple(policies)  # hub-wide agent policies (engine.agent.Policy), before each model's own
        self.state = state
        self.now = now
        self.ids = ids
        self.processes = processes
        self.result = StepResult()
        self._agenda: deque[tuple[str, int, Any]] = deque()

    # --- entry --------------------------------------------------------------------

    def run(self, command: m.Command) -> StepResult:
        from engine.runtime import commands  # the handlers of each command

        commands.apply(command, self)
        self.drain()
        return self.result

    def drain(self) -> None:
        from engine.runtime.behaviors import activate_element, complete_element

        while self._agenda:
            action, key, payload = self._agenda.popleft()
            element = self.state.elements.get(key)
            if element is None:  # terminated meanwhile
                continue
            if action == "activate":
                if self._activations >= self.limits.max_activations:
                    self._out_of_budget(element)
                    continue
                self._activations += 1
                activate_element(self, element)
            elif action == "complete":
                complete_element(self, element, payload)
            elif action == "leave":
                self.leave(element)

    def _out_of_budget(self, element: ElementInstance) -> None:
        """The command ran its activations: this element waits in an incident instead of looping on."""
        if element.incident is not None:
            return
        limit = self.limits.max_activations
        self.incident(
            element, "activate", "limit",
            f"this command activated {limit} elements without reaching a wait state (a loop of gateways or script "
            f"tasks with no task, event or timer to wait on?) and stopped before '{element.element_id}'; resolve "
            "the incident to go on for as many again, or cancel the instance (the limit is AGENTHUB_MAX_STEPS)",
        )

    def schedule(self, action: str, element: ElementInstance, payload: Any = None) -> None:
        self._agenda.append((action, element.key, payload))

    # --- journal and effects ---------------------------------------------------------

    def record(self, type_: str, element: ElementInstance | None = None, **data: Any) -> None:
        self.result.events.append(
            m.JournalEvent(
                type=type_,
                element_id=element.element_id if element else None,
                element_instance=element.key if element else None,
                data=data or None,
            )
        )

    def effect(self, effect: m.Effect) -> None:
        self.result.effects.append(effect)

    # --- element instances -----------------------------------------------------------

    def node(self, element: ElementInstance) -> FlowNode:
        return self.process.nodes[element.element_id]

    def scope(self, key: int | None) -> ScopeView:
        return ScopeView(self.state, key)

    def create_element(self, element_id: str, parent: int, **fields: Any) -> ElementInstance:
        element = ElementInstance(key=self.ids.next_key(), element_id=element_id, parent=parent, **fields)
        self.state.elements[element.key] = element
        return element

    def enter(self, element_id: str, parent: int) -> ElementInstance:
        element = self.create_element(element_id, parent)
        self.schedule("activate", element)
        return element

    def set_variables(self, key: int | None, values: dict[str, Any], *, local: bool) -> None:
        if not values:
            return
        if local and key is not None:
            set_local(self.state, key, values)
            self.record("variables_updated", scope=key, variables=journaled(values))  # credentials masked
        else:
            for scope, written in propagate(self.state, key, values).items():
                self.record("variables_updated", scope=scope, variables=journaled(written))

    def remove(self, element: ElementInstance) -> None:
        if element.waits:
            from engine.runtime.behaviors.events import close_waits

            close_waits(self, element)
        self.state.elements.pop(element.key, None)
        self.state.variables.pop(element.key, None)

    # --- incidents ---------------------------------------------------------------------

    def incident(self, element: ElementInstance, action: str, kind: str, message: str, job: int | None = None) -> None:
        key = self.ids.next_key()
        element.incident = key
        self.state.incidents[key] = action
        self.effect(
            m.CreateIncident(
                key=key,
                element_instance=element.key,
                element_id=element.element_id,
                type=kind,
                message=message,
                job=job,
            )
        )
        self.record("incident_created", element, incident=key, type=kind, message=message)

    # --- leaving an element: outgoing flows, joins, scope completion ---------------------

    def leave(self, element: ElementInstance) -> None:
        """The element completed: take its outgoing flows and tell its container."""
        from engine.runtime.behaviors import compensation, gateways, multi_instance

        parent = self.state.elements.get(element.parent) if element.parent is not None else None
        if parent is not None and parent.is_body and parent.element_id == element.element_id:
            multi_instance.inner_left(self, parent, element, completed=True)
            return
        node = self.node(element)
        if element.compensates is not None:  # a compensation handler: the throw event goes on
            self.remove(element)
            self.record("element_completed", element)
            compensation.handler_done(self, element)
            return
        try:
            flows = gateways.select_flows(self, element, node)
        except ExpressionFailure as exc:
            self.incident(element, "leave", "expression", str(exc))
            return
        assert element.parent is not None and parent is not None
        compensation.record_completion(self, element, node, parent)
        self.remove(element)
        self.record("element_completed", element)
        for flow in flows:
            self.take(flow, element.parent)
        self.settle(element.parent)

    def take(self, flow: SequenceFlow, scope_key: int) -> None:
        self.record("flow_taken", None, flow=flow.id)
        target = self.process.nodes[flow.target]
        if target.kind in _JOINING and len(target.incoming) > 1:
            scope = self.state.elements[scope_key]
            arrivals = scope.joins.setdefault(target.id, {})
            arrivals[flow.id] = arrivals.get(flow.id, 0) + 1
            self._try_join(scope, target)
        else:
            self.enter(target.id, scope_key)

    def _try_join(self, scope: ElementInstance, gateway: FlowNode) -> None:
        arrivals = scope.joins.get(gateway.id, {})
        if gateway.kind == ElementKind.PARALLEL_GATEWAY:
            if not all(arrivals.get(f, 0) > 0 for f in gateway.incoming):
                return
            consumed = list(gateway.incoming)
        else:
            consumed = [f for f in gateway.incoming if arrivals.get(f, 0) > 0]
            if not consumed or self._token_can_reach(scope, gateway.id):
                return
        for flow_id in consumed:
            arrivals[flow_id] -= 1
            if not arrivals[flow_id]:
                del arrivals[flow_id]
        if not arrivals:
            del scope.joins[gateway.id]
        self.enter(gateway.id, scope.key)

    def _token_can_reach(self, scope: ElementInstance, gateway_id: str) -> bool:
        """Whether a token still inside ``scope`` could arrive at the inclusive join ``gateway_id``."""
        for child in self.state.elements.values():
            if child.parent == scope.key and gateway_id in self.process.reachable_from(child.element_id):
                return True
        for other, arrivals in scope.joins.items():
            if other != gateway_id and arrivals and gateway_id in self.process.reachable_from(other):
                return True
        return False

    def settle(self, scope_key: int) -> None:
        """Something left ``scope_key``: fire inclusive joins that can no longer get tokens, or complete the scope."""
        scope = self.state.elements.get(scope_key)
        if scope is None or scope.state != ElementState.ACTIVE:
            return
        if scope.inner or (not scope.is_body and isinstance(self.process.nodes.get(scope.element_id), AdHocSubProcess)):
            from engine.runtime.behaviors import ad_hoc

            ad_hoc.settle(self, scope)
            return
        for gateway_id in list(scope.joins):
            gateway = self.process.nodes[gateway_id]
            if gateway.kind == ElementKind.INCLUSIVE_GATEWAY:
                self._try_join(scope, gateway)
        if any(e.parent == scope_key for e in self.state.elements.values()):
            return
        if scope.joins:  # tokens wait at a join that can never fire: the scope is stuck, as in BPMN
            return
        if scope.key == self.state.root:
            self.complete_instance()
        elif not scope.is_body:
            self.schedule("complete", scope)

    # --- termination -------------------------------------------------------------------------

    def terminate(self, element: ElementInstance) -> None:
        """Terminate an element instance and everything inside it, withdrawing its jobs, tasks and children."""
        for child in self.state.children_of(element.key):
            self.terminate(child)
        if element.job is not None:
            self.effect(m.CancelJob(element.job))
        if element.user_task is not None:
            self.effect(m.CancelUserTask(element.user_task))
        if element.child_instance is not None:
            self.effect(m.CancelChild(element.child_instance))
        if element.incident is not None:
            self.state.incidents.pop(element.incident, None)
            self.effect(m.ResolveIncidentRow(element.incident))
        element.joins.clear()
        self.remove(element)
        if element.key != self.state.root:
            self.record("element_terminated", element)

    def complete_instance(self) -> None:
        root = self.state.elements[self.state.root]
        variables = dict(self.state.variables.get(root.key, {}))
        self.remove(root)
        self.state.status = InstanceStatus.COMPLETED
        self.record("instance_completed", None)
        if self.state.parent is not None:
            self.effect(
                m.NotifyParent(
                    self.state.parent.instance,
                    m.ChildFinished(self.state.parent.element_instance, completed=True, variables=variables),
                )
            )
        # keep the final variables readable after completion
        self.state.variables = {self.state.root: variables}
