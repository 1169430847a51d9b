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

from engine.model import Activity, FlowNode, ListenerEvent, Process, SequenceFlow, SubProcess
from engine.ports import IdSource, ProcessLookup
from engine.redaction import journaled
from engine.runtime import commands
from engine.runtime import messages as m
from engine.runtime.behaviors.conditions import VariableChange, evaluate_conditions
from engine.runtime.behaviors.listeners import creating, listening, open_listener
from engine.runtime.behaviors.task_assignment import assign_created
from engine.runtime.expressions import DecisionFailure, ExpressionFailure, apply_mappings
from engine.runtime.journal import EventType
from engine.runtime.kernel import Behavior, BehaviorTable, CommandRejected
from engine.runtime.limits import LimitReached, RuntimeLimits
from engine.runtime.records import TOOL_CALL_LOCALS, ToolCall, ToolVariables
from engine.runtime.state import ElementInstance, ElementState, IncidentAction, InstanceState, InstanceStatus, Phase
from engine.runtime.variables import ScopeView, propagate, set_local
from engine.runtime.waits import close_waits

__all__ = ["CommandRejected", "Step", "StepResult"]

_E = EventType


@dataclass(slots=True)
class StepResult:
    events: list[m.JournalEvent] = field(default_factory=list)
    effects: list[m.Effect] = field(default_factory=list)


class Step:
    """Applies one command; see the module docstring. Implements ``engine.runtime.kernel.Kernel``."""

    def __init__(
        self, process: Process, state: InstanceState, now: datetime, ids: IdSource, processes: ProcessLookup,
        policies: Sequence[Any] = (), limits: RuntimeLimits | None = None, *, behaviors: BehaviorTable,
    ) -> None:
        self.process = process
        self.behaviors = behaviors
        self.limits = limits or RuntimeLimits()
        self._activations = 0  # against limits.max_activations
        self.policies = tuple(policies)  # hub-wide agent policies (engine.agent.Policy), before each model's own
        self.state = state
        self.now = now
        self.ids = ids
        self.processes = processes
        self.result = StepResult()
        self._agenda: deque[tuple[Phase, int, Any]] = deque()
        self._changes: list[VariableChange] = []  # variables written since conditions were last evaluated

    # --- entry --------------------------------------------------------------------

    def run(self, command: m.Command) -> StepResult:
        commands.apply(command, self)
        self.drain()
        return self.result

    def drain(self) -> None:
        """Run the agenda dry, then evaluate the conditional events that what it did may have triggered, until
        none triggers any more (``behaviors.conditions``)."""
        self._drain_agenda()
        while any(e.conditions for e in self.state.elements.values()):
            changes, self._changes = self._changes, []
            if not evaluate_conditions(self, changes):
                break
            self._drain_agenda()
        self._changes = []

    def _drain_agenda(self) -> None:
        while self._agenda:
            action, key, payload = self._agenda.popleft()
            element = self.state.elements.get(key)
            if element is None:  # terminated meanwhile
                continue
            if action == Phase.ACTIVATE:
                if self._activations >= self.limits.max_activations:
                    self._out_of_budget(element)
                    continue
                self._activations += 1
                self._activate(element)
            elif action == Phase.COMPLETE:
                self._complete(element, payload)
            else:
                self.leave(element)

    def _out_of_budget(self, element: ElementInstance) -> None:
        """The command ran its activations: this element waits in an incident instead of looping on."""
        if element.incident is not None:
            return
        limit = self.limits.max_activations
        self.incident(
            element, IncidentAction.ACTIVATE, "limit",
            f"this command activated {limit} elements without reaching a wait state (a loop of gateways or script "
            f"tasks with no task, event or timer to wait on?) and stopped before '{element.element_id}'; resolve "
            "the incident to go on for as many again, or cancel the instance (the limit is AGENTHUB_MAX_STEPS)",
        )

    def schedule(self, action: Phase, element: ElementInstance, payload: Any = None) -> None:
        self._agenda.append((action, element.key, payload))

    # --- activating and completing: input and output mappings around the behaviour -------

    def behavior(self, node: FlowNode) -> Behavior:
        return self.behaviors.of(node)

    def _inner_of_body(self, element: ElementInstance) -> ElementInstance | None:
        """The multi-instance body ``element`` is an inner instance of, if it is one."""
        parent = self.state.elements.get(element.parent) if element.parent is not None else None
        return parent if parent is not None and parent.is_body and parent.element_id == element.element_id else None

    def _activate(self, element: ElementInstance) -> None:
        if element.state != ElementState.ACTIVATING:
            return
        node = self.node(element)
        try:
            if isinstance(node, Activity) and node.loop is not None and self._inner_of_body(element) is None:
                element.is_body = True
                if open_listener(self, element, node, ListenerEvent.START):
                    return  # the body's start listeners run before its input collection is read, then each inner's
                self.behaviors.multi_instance.activate_body(self, element, node)
                return
            if node.inputs and element.listener is None:  # not again after its start listeners ran
                values = apply_mappings(node.inputs, self.scope(element.key), self.now, what="input mapping")
                self.set_variables(element.key, values, local=True)
            if open_listener(self, element, node, ListenerEvent.START):
                return  # the job's completion activates the element again (commands: _complete_job)
            self.behavior(node).activate(self, element, node)
            creating(self, element, node)  # a user task's creating listeners
            assign_created(self, element, node)  # then its assigning listeners, when it has an assignee
        except DecisionFailure as exc:
            self.incident(element, IncidentAction.ACTIVATE, "decision", str(exc))
        except ExpressionFailure as exc:
            self.incident(element, IncidentAction.ACTIVATE, "expression", str(exc))
        except LimitReached as exc:
            self.incident(element, IncidentAction.ACTIVATE, "limit", str(exc))

    def _tool_call(self, element: ElementInstance) -> tuple[ToolCall | None, bool]:
        """The agent's tool call whose inner instance ``element`` runs in, and whether the call's writes stay there.

        Propagating (the default), a tool writes as any element does: its inner instance declares ``toolCall``
        and ``toolCallResult``, so those stay on it, and every other name goes to the nearest scope that has
        it, else the process. Isolated, everything stays on the inner instance.
        """
        parent = self.state.elements.get(element.parent) if element.parent is not None else None
        if parent is None or not parent.inner or parent.call is None:
            return None, False
        return parent.call, self._isolates(parent)

    def _isolates(self, inner: ElementInstance) -> bool:
        """Whether ``inner``, a tool call's inner instance, keeps everything written inside it."""
        owner = self.state.elements.get(inner.parent) if inner.parent is not None else None
        agent = owner.agent if owner is not None else None
        return agent is None or agent.tool_variables == ToolVariables.ISOLATED

    def _ceiling(self, key: int | None) -> int | None:
        """The inner instance of the isolated tool call that ``key`` lies in, if any: what is written deeper
        inside it (a subprocess's or a multi-instance tool's elements) goes no higher."""
        while key is not None:
            element = self.state.elements.get(key)
            if element is None:
                return None
            if element.inner and element.call is not None and self._isolates(element):
                return key
            key = element.parent
        return None

    def _complete(self, element: ElementInstance, variables: dict[str, Any] | None) -> None:
        node = self.node(element)
        if element.is_body:  # its end listeners run once every inner instance's have, before it leaves
            element.state = ElementState.COMPLETING
            try:
                if open_listener(self, element, node, ListenerEvent.END):
                    return
            except ExpressionFailure as exc:
                self.incident(element, IncidentAction.COMPLETE, "expression", str(exc))
                return
            self.behaviors.multi_instance.complete_body(self, element, node)
            return
        element.state = ElementState.COMPLETING
        if not listening(element, ListenerEvent.END) and not self._write_outputs(element, node, variables):
            return
        try:
            if open_listener(self, element, node, ListenerEvent.END):
                return  # the job's completion completes the element again, its outputs written
        except ExpressionFailure as exc:
            self.incident(element, IncidentAction.COMPLETE, "expression", str(exc))
            return
        self.leave(element)

    def _write_outputs(self, element: ElementInstance, node: FlowNode, variables: dict[str, Any] | None) -> bool:
        """The element's result through its output mappings (False: they failed, an incident)."""
        values = variables or {}
        call, isolated = self._tool_call(element)
        written = values
        if node.outputs:
            self.set_variables(element.key, values, local=True)
            try:
                written = apply_mappings(node.outputs, self.scope(element.key), self.now, what="output mapping")
            except ExpressionFailure as exc:
                self.incident(element, IncidentAction.COMPLETE, "expression", str(exc))
                return False
            self.set_variables(element.parent, written, local=isolated)
        elif values:
            self.set_variables(element.parent if isolated else element.key, values, local=isolated)
        if call is not None and not isolated:  # what went up is also what the tool returns, lacking a toolCallResult
            kept = {k: v for k, v in written.items() if k not in TOOL_CALL_LOCALS}
            if kept:
                call.written = {**(call.written or {}), **kept}
        return True

    # --- journal and effects ---------------------------------------------------------

    def record(self, type_: EventType, element: ElementInstance | None = None, **data: Any) -> None:
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
        self.schedule(Phase.ACTIVATE, element)
        return element

    def set_variables(self, key: int | None, values: dict[str, Any], *, local: bool) -> None:
        if not values:
            return
        if local and key is not None:
            known = self.state.variables.get(key, {})
            self._changes.extend(VariableChange(key, name, name not in known) for name in values)
            set_local(self.state, key, values)
            self.record(_E.VARIABLES_UPDATED, scope=key, variables=journaled(values))  # credentials masked
        else:
            seen = self.scope(key)
            created = {name for name in values if name not in seen}
            for scope, written in propagate(self.state, key, values, ceiling=self._ceiling(key)).items():
                self._changes.extend(VariableChange(scope, name, name in created) for name in written)
                self.record(_E.VARIABLES_UPDATED, scope=scope, variables=journaled(written))

    def remove(self, element: ElementInstance) -> None:
        if element.waits:
            close_waits(self, element)
        self.state.elements.pop(element.key, None)
        self.state.variables.pop(element.key, None)

    # --- incidents ---------------------------------------------------------------------

    def incident(self, element: ElementInstance, action: IncidentAction, kind: str, message: str,
                 job: int | None = None) -> None:
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
        self.record(_E.INCIDENT_CREATED, element, incident=key, type=kind, message=message)

    # --- leaving an element: outgoing flows, joins, scope completion ---------------------

    def leave(self, element: ElementInstance) -> None:
        """The element completed: take its outgoing flows and tell its container."""
        body = self._inner_of_body(element)
        if body is not None:
            self.behaviors.multi_instance.inner_left(self, body, element)
            return
        node = self.node(element)
        if element.compensates is not None:  # a compensation handler: the throw event goes on
            self.remove(element)
            self.record(_E.ELEMENT_COMPLETED, element)
            self.behaviors.compensation.handler_done(self, element)
            return
        try:
            flows = self.behavior(node).outgoing(self, element, node)
        except ExpressionFailure as exc:
            self.incident(element, IncidentAction.LEAVE, "expression", str(exc))
            return
        parent = self.state.elements.get(element.parent) if element.parent is not None else None
        assert element.parent is not None and parent is not None
        self.behaviors.compensation.record_completion(self, element, node, parent)
        if isinstance(node, SubProcess) and node.triggered_by_event and parent.element_id in self.process.nodes:
            self.behavior(self.process.nodes[parent.element_id]).event_subprocess_done(self, parent, element)
        self.remove(element)
        self.record(_E.ELEMENT_COMPLETED, element)
        for flow in flows:
            self.take(flow, element.parent)
        self.settle(element.parent)

    def take(self, flow: SequenceFlow, scope_key: int) -> None:
        self.record(_E.FLOW_TAKEN, None, flow=flow.id)
        target = self.process.nodes[flow.target]
        self.behavior(target).arrive(self, self.state.elements[scope_key], target, flow)

    def settle(self, scope_key: int) -> None:
        """Something left ``scope_key``: its behaviour decides whether the scope is done."""
        scope = self.state.elements.get(scope_key)
        if scope is None or scope.state != ElementState.ACTIVE:
            return
        node = self.process.nodes.get(scope.element_id)  # None: the process itself
        if node is None or scope.is_body:
            self.settle_flow_scope(scope)
        else:
            self.behavior(node).settle(self, scope)

    def settle_flow_scope(self, scope: ElementInstance) -> None:
        """A scope run by sequence flows: let waiting joins fire that can, complete it when no token is left."""
        for gateway_id in list(scope.joins):
            gateway = self.process.nodes[gateway_id]
            self.behavior(gateway).token_left(self, scope, gateway)
        if any(e.parent == scope.key for e in self.state.elements.values()):
            return
        if scope.joins:  # tokens wait at a join that can never fire: the scope is stuck, as in BPMN
            return
        if scope.key == self.state.root:
            self.complete_instance()
        elif not scope.is_body:
            self.schedule(Phase.COMPLETE, scope)

    # --- termination -------------------------------------------------------------------------

    def terminate(self, element: ElementInstance, *, listeners: bool = False) -> bool:
        """Terminate an element instance and everything inside it, withdrawing its jobs, tasks and children.

        With ``listeners`` (a canceled instance, an interrupting catch event: Camunda's two triggers), a user
        task with canceling listeners inside it runs them first: its element, and each one around it, stays
        ``TERMINATING`` until they have run (``terminated`` ends them then), and this returns False.
        """
        if element.state == ElementState.TERMINATING:
            return False  # terminated already: its canceling listeners are running
        done = True
        for child in self.state.children_of(element.key):
            done = self.terminate(child, listeners=listeners) and done
        if element.job is not None:
            self.effect(m.CancelJob(element.job))
            element.job = None
        if element.child_instance is not None:
            self.effect(m.CancelChild(element.child_instance))
        if element.incident is not None:
            self.state.incidents.pop(element.incident, None)
            self.effect(m.ResolveIncidentRow(element.incident))
            element.incident = None
        element.joins.clear()
        task = element.user_task
        if task is not None:
            if listeners and self._cancel_listened(element, task):
                done = False  # the task is canceled when they have run (Camunda: CANCELING until then)
            else:
                self.effect(m.CancelUserTask(task))
        if not done:
            if element.waits:
                close_waits(self, element)
            element.state = ElementState.TERMINATING
            return False
        self.remove(element)
        if element.key != self.state.root:
            self.record(_E.ELEMENT_TERMINATED, element)
        return True

    def _cancel_listened(self, element: ElementInstance, task: int) -> bool:
        """Open the first canceling listener of a canceled task's element; False when it has none (or none ran)."""
        node = self.process.nodes.get(element.element_id)
        if node is None or not node.listeners_of(ListenerEvent.CANCELING):
            return False
        element.pending, element.listener = None, None  # a held assignment, update or completion dies with it
        try:
            if not open_listener(self, element, node, ListenerEvent.CANCELING):
                return False
        except ExpressionFailure as exc:  # the task is canceled regardless: the trail and the task say what failed
            self.effect(m.UpdateUserTask(task, {"listener": {"state": "canceled", "failed": str(exc)}}))
            return False
        self.record(_E.USER_TASK_CANCELING, element, task=task)
        self.effect(m.UpdateUserTask(task, {"listener": {"state": "canceling"}}))
        return True

    def terminated(self, element: ElementInstance) -> None:
        """A ``TERMINATING`` element has nothing left running: it ends, then what its termination held goes on (a
        boundary event's flow, the instance's cancellation), and so does its scope if that was terminating too."""
        after = (element.pending or {}).get("after") or {}
        self.remove(element)
        if element.key == self.state.root:
            self.state.status = InstanceStatus.TERMINATED
            self.record(_E.INSTANCE_TERMINATED, None, **after.get("canceled", {}))
            return
        self.record(_E.ELEMENT_TERMINATED, element)
        parent = self.state.elements.get(element.parent) if element.parent is not None else None
        if parent is None:
            return
        if "boundary" in after and parent.state == ElementState.ACTIVE:  # not when the scope was canceled since
            boundary = after["boundary"]
            event = self.create_element(boundary["event"], parent.key, state=ElementState.ACTIVE)
            self.record(_E.ELEMENT_ACTIVATED, event)
            self.schedule(Phase.COMPLETE, event, boundary.get("variables") or {})
        elif parent.state == ElementState.TERMINATING:
            if not self.state.children_of(parent.key):
                self.terminated(parent)
        else:
            self.settle(parent.key)

    def complete_instance(self) -> None:
        root = self.state.elements[self.state.root]
        if root.pending is not None:  # the process's start listeners still run: it has not begun
            return
        try:
            if open_listener(self, root, self.process, ListenerEvent.END):
                return  # the last end listener's job settles the process again (commands: _process_listener_done)
        except ExpressionFailure as exc:
            self.incident(root, IncidentAction.SETTLE, "expression", str(exc))
            return
        variables = dict(self.state.variables.get(root.key, {}))
        self.remove(root)
        self.state.status = InstanceStatus.COMPLETED
        self.record(_E.INSTANCE_COMPLETED, None)
        if self.state.parent is not None:
            self.effect(
                m.NotifyParent(
                    self.state.parent.instance,
                    m.ChildFinished(self.state.parent.element_instance, completed=True, variables=variables),
                )
            )
        # keep the final variables readable after completion
        self.state.variables = {self.state.root: variables}
