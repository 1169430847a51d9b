"""The behaviours of tasks, events, subprocesses and call activities: what each does on activation."""

from __future__ import annotations

from typing import Any

from engine.actor import Actor
from engine.model import (
    CallActivity,
    ElementKind,
    Event,
    EventDefinitionKind,
    FlowNode,
    JobTask,
    ListenerEvent,
    ScriptTask,
    SubProcess,
    UserTask,
)
from engine.runtime import messages as m
from engine.runtime.behaviors import compensation, errors, events  # submodules, not the table
from engine.runtime.behaviors.activation import PassThrough, activated, open_job
from engine.runtime.expressions import (
    ExpressionFailure,
    evaluate,
    evaluate_strings,
    evaluate_value,
)
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import CommandRejected, ElementBehavior, Kernel
from engine.runtime.limits import LimitReached
from engine.runtime.state import ElementInstance, Phase
from engine.runtime.task_approval import approval_details
from engine.runtime.task_approval import refusal as approval_refusal
from engine.runtime.task_dates import task_date
from engine.runtime.task_inputs import user_task_inputs

__all__ = [
    "CallActivityBehavior", "CatchEventBehavior", "EventBasedGatewayBehavior", "JobTaskBehavior", "PassThrough",
    "ScriptTaskBehavior", "SubProcessBehavior", "ThrowEventBehavior", "UserTaskBehavior", "child_finished",
]


def _unsupported(node: FlowNode) -> ExpressionFailure:
    return ExpressionFailure(f"element '{node.id}' of type {node.kind} is not supported yet")


class JobTaskBehavior(ElementBehavior):
    """Service, send and business-rule tasks: a job that a worker completes."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if not isinstance(node, JobTask):
            raise _unsupported(node)
        _create_job(kernel, element, node)


class ScriptTaskBehavior(JobTaskBehavior):
    """A FEEL script evaluated in the step, or (without an expression) a job."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if not isinstance(node, ScriptTask):
            super().activate(kernel, element, node)
            return
        value = evaluate(node.expression, kernel.scope(element.key), kernel.now, what="script expression")
        activated(kernel, element)
        kernel.schedule(Phase.COMPLETE, element, {node.result_variable: value} if node.result_variable else {})


class UserTaskBehavior(ElementBehavior):
    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if not isinstance(node, UserTask):
            raise _unsupported(node)
        _create_user_task(kernel, element, node)

    def user_task_completed(self, kernel: Kernel, element: ElementInstance, variables: dict[str, Any],
                            by: Actor | None) -> bool:
        refused = approval_refusal(kernel, kernel.node(element), by)  # <agenthub:approval/>: four eyes
        if refused is not None:
            raise CommandRejected(refused)
        return False


class CallActivityBehavior(ElementBehavior):
    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if not isinstance(node, CallActivity):
            raise _unsupported(node)
        _call(kernel, element, node)


class SubProcessBehavior(ElementBehavior):
    """An embedded (or event) subprocess: a scope entered at its none start event."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if not isinstance(node, SubProcess):
            raise _unsupported(node)
        start = kernel.process.none_start_event(node.id)
        if start is None:
            raise ExpressionFailure(f"subprocess '{node.id}' has no none start event")
        events.open_scope_waits(kernel, element, node.id)
        activated(kernel, element, waits=True)
        kernel.enter(start.id, element.key)


class ThrowEventBehavior(ElementBehavior):
    """End and intermediate throw events: throw their event (or run their job), then complete."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        if isinstance(node, Event) and node.job is not None:
            _create_job(kernel, element, node)
        else:
            _throw_event(kernel, element, node)


class CatchEventBehavior(ElementBehavior):
    """Intermediate catch events and receive tasks: wait for their own event (a catch link passes through)."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        definition = node.definition if isinstance(node, Event) else None
        if definition is not None and definition.kind == EventDefinitionKind.LINK:
            activated(kernel, element)
            kernel.schedule(Phase.COMPLETE, element)
            return
        if not events.open_own_wait(kernel, element, node):
            raise ExpressionFailure(f"'{node.id}' waits for no event the engine can deliver")
        activated(kernel, element, waits=node.kind == ElementKind.RECEIVE_TASK)


class EventBasedGatewayBehavior(ElementBehavior):
    """Waits for the first of the events after it; it leaves through that event (``events.trigger``)."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        events.open_gateway_waits(kernel, element, node)
        activated(kernel, element)


def _throw_event(step: Kernel, element: ElementInstance, node: FlowNode) -> None:
    definition = node.definition if isinstance(node, Event) else None
    activated(step, element)
    kind = definition.kind if definition is not None else EventDefinitionKind.NONE
    if kind == EventDefinitionKind.TERMINATE:
        for sibling in step.state.children_of(element.parent) if element.parent is not None else []:
            if sibling.key != element.key:
                step.terminate(sibling)
        if element.parent is not None:
            scope = step.state.elements[element.parent]
            scope.joins.clear()
    elif kind == EventDefinitionKind.ERROR:
        assert definition is not None
        code = events.resolve_name(step, element, definition.ref)
        errors.throw_error(step, element, code, f"error end event '{node.id}'", {})
        return
    elif kind == EventDefinitionKind.ESCALATION:
        assert definition is not None
        if errors.throw_escalation(step, element, events.resolve_name(step, element, definition.ref), {}):
            return  # an interrupting catch ended the thrower
    elif kind == EventDefinitionKind.SIGNAL:
        assert definition is not None
        step.effect(m.BroadcastSignal(events.resolve_name(step, element, definition.ref), {}))
    elif kind == EventDefinitionKind.COMPENSATE:
        assert definition is not None
        if compensation.start(step, element, definition.ref):
            return  # the throw event completes when the last handler has
    elif kind == EventDefinitionKind.LINK:
        assert definition is not None and element.parent is not None
        target = _link_target(step, node, definition.ref or "")
        step.enter(target, element.parent)
    elif kind == EventDefinitionKind.MESSAGE:
        assert definition is not None
        correlation = None
        if definition.correlation_key is not None:
            value = evaluate_value(definition.correlation_key, step.scope(element.key), step.now,
                                   what=f"correlation key of '{node.id}'")
            correlation = None if value is None else str(value)
        step.effect(m.PublishMessage(events.resolve_name(step, element, definition.ref), correlation or "",
                                     dict(step.state.variables.get(element.key, {}))))
    elif kind != EventDefinitionKind.NONE:
        raise ExpressionFailure(f"'{node.id}' throws a {kind} event, which is not supported here")
    step.schedule(Phase.COMPLETE, element)


def _link_target(step: Kernel, node: FlowNode, name: str) -> str:
    for candidate in step.process.children(node.parent):
        definition = candidate.definition if isinstance(candidate, Event) else None
        if (candidate.kind == ElementKind.INTERMEDIATE_CATCH_EVENT and definition is not None
                and definition.kind == EventDefinitionKind.LINK and definition.ref == name):
            return candidate.id
    raise ExpressionFailure(f"link event '{node.id}' throws to link '{name}', but no catch link has that name")


def _create_job(step: Kernel, element: ElementInstance, node: Any) -> None:
    scope = step.scope(element.key)
    job_type = evaluate_value(node.job.type, scope, step.now, what="job type")
    if not isinstance(job_type, str) or not job_type:
        raise ExpressionFailure(
            f"expected the job type of '{node.id}' to be a non-empty string, but it was {job_type!r}"
        )
    retries = evaluate_value(node.job.retries, scope, step.now, what="job retries")
    try:
        retry_count = int(retries)
    except (TypeError, ValueError):
        raise ExpressionFailure(
            f"expected the job retries of '{node.id}' to be a number, but it was {retries!r}"
        ) from None
    activated(step, element, waits=True)
    open_job(step, element, job_type, retry_count, dict(node.headers))


def _optional_string(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    raise ExpressionFailure(f"expected {what} to be a string, but it was {value!r}")


def _create_user_task(step: Kernel, element: ElementInstance, node: UserTask) -> None:
    spec = node.user_task
    scope = step.scope(element.key)
    now = step.now
    assignee = _optional_string(
        evaluate_value(spec.assignee, scope, now, what="assignee") if spec.assignee else None, "the assignee"
    )
    groups = evaluate_strings(spec.candidate_groups, scope, now, what="candidate groups")
    users = evaluate_strings(spec.candidate_users, scope, now, what="candidate users")
    due = evaluate_value(spec.due_date, scope, now, what="due date") if spec.due_date else None
    follow_up = evaluate_value(spec.follow_up_date, scope, now, what="follow-up date") if spec.follow_up_date else None
    due_date = task_date(due, f"the due date of '{node.id}' (zeebe:taskSchedule dueDate)")
    follow_up_date = task_date(follow_up, f"the follow-up date of '{node.id}' (zeebe:taskSchedule followUpDate)")
    priority = evaluate_value(spec.priority, scope, now, what="priority") if spec.priority else 50
    try:
        priority_value = int(priority)
    except (TypeError, ValueError):
        raise ExpressionFailure(
            f"expected the priority of '{node.id}' to be a number, but it was {priority!r}"
        ) from None
    key = step.ids.next_key()
    element.user_task = key
    if assignee and node.listeners_of(ListenerEvent.ASSIGNING):  # given once its assigning listeners ran
        element.pending, assignee = {"assign": assignee}, None
    step.effect(
        m.CreateUserTask(
            key=key,
            element_instance=element.key,
            element_id=node.id,
            name=node.label,
            assignee=assignee,
            candidate_groups=groups,
            candidate_users=users,
            due_date=due_date[0] if due_date else None,
            follow_up_date=follow_up_date[0] if follow_up_date else None,
            form_key=spec.form_key or spec.form_id,
            priority=priority_value,
            details={**user_task_inputs(step, element, node), **approval_details(step, element, node)},
            due_at=due_date[1] if due_date else None,
            follow_up_at=follow_up_date[1] if follow_up_date else None,
        )
    )
    activated(step, element, waits=True)
    step.record(_E.USER_TASK_CREATED, element, task=key)


def _call(step: Kernel, element: ElementInstance, node: CallActivity) -> None:
    scope = step.scope(element.key)
    process_id = evaluate_value(node.called_process, scope, step.now, what="called process id")
    if not isinstance(process_id, str) or not process_id:
        raise ExpressionFailure(f"expected the called process id of '{node.id}' to be a string, got {process_id!r}")
    found = step.processes.latest(process_id)
    if found is None:
        raise ExpressionFailure(
            f"call activity '{node.id}' calls process '{process_id}', which is not deployed; deploy it, then retry"
        )
    definition_key = found[0]
    depth = (step.state.parent.depth if step.state.parent is not None else 0) + 1
    if depth > step.limits.max_call_depth:
        raise LimitReached(
            f"call activity '{node.id}' would start a call {depth} levels deep, more than the limit of "
            f"{step.limits.max_call_depth} (AGENTHUB_MAX_CALL_DEPTH): does '{process_id}' call itself without end?"
        )
    if node.propagate_all_parent_variables:
        variables = scope.flatten()
    else:
        variables = dict(step.state.variables.get(element.key, {}))
    key = step.ids.next_key()
    element.child_instance = key
    step.effect(m.StartChild(key=key, definition_key=definition_key, element_instance=element.key, variables=variables,
                             depth=depth))
    activated(step, element, waits=True)
    step.record(_E.CHILD_STARTED, element, child=key, process=process_id)


def child_finished(step: Kernel, element: ElementInstance, command: m.ChildFinished) -> None:
    node = step.node(element)
    element.child_instance = None
    if not command.completed:
        step.terminate(element)
        assert element.parent is not None
        step.settle(element.parent)
        return
    propagate_all = isinstance(node, CallActivity) and node.propagate_all_child_variables
    variables = command.variables if (propagate_all or node.outputs) else {}
    step.schedule(Phase.COMPLETE, element, dict(variables))
