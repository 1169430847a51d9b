"""How each command enters the step.

A command about an element's job or task goes to the behaviour of the
element's kind first (an agent takes its model's answers and its approvals),
then to the common rule; the rest are the same for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.actor import Actor
from engine.exceptions import PersonAnswer
from engine.model import FlowNode, ListenerEvent
from engine.runtime import messages as m
from engine.runtime.behaviors.activation import open_job
from engine.runtime.behaviors.activities import child_finished
from engine.runtime.behaviors.ad_hoc import activate_from_outside
from engine.runtime.behaviors.errors import child_error, raise_uncaught, throw_error
from engine.runtime.behaviors.events import open_scope_waits, trigger
from engine.runtime.behaviors.listeners import (
    creating_done,
    held,
    listener_job,
    listener_job_done,
    next_or_ended,
    open_listener,
    still_creating,
    task_listener_result,
)
from engine.runtime.behaviors.task_assignment import assign, assign_created, assigning_done
from engine.runtime.behaviors.task_update import update, update_variables, updating_done
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.journal import EventType
from engine.runtime.kernel import CommandRejected, Kernel
from engine.runtime.records import ParkedJob
from engine.runtime.state import ElementInstance, ElementState, IncidentAction, InstanceStatus, Phase
from engine.runtime.task_inputs import asked_inputs

_E = EventType


def _rejected(message: str) -> Exception:
    return CommandRejected(message)


def _active(step: Kernel) -> None:
    if step.state.status != InstanceStatus.ACTIVE:
        raise _rejected(f"instance {step.state.key} is {step.state.status}")


def _waiting(step: Kernel, key: int, what: str) -> ElementInstance:
    _active(step)
    element = step.state.elements.get(key)
    if element is not None and element.state == ElementState.TERMINATING:
        raise _rejected(f"{what} is being canceled: its canceling listeners are running")
    if element is None or element.state != ElementState.ACTIVE:
        raise _rejected(f"{what} is no longer open (element instance {key} is not waiting)")
    return element


def _by(actor: Actor | None) -> dict[str, Any]:
    """The journal's record of who made a command, as a ``by`` key of the event's data (none for the engine's own)."""
    return {"by": actor.to_json()} if actor is not None else {}


_HANDLERS: dict[type, Callable[[Any, Kernel], None]] = {}


def apply(command: m.Command, step: Kernel) -> None:
    _HANDLERS[type(command)](command, step)


def _handles(kind: type) -> Callable[[Callable[[Any, Kernel], None]], Callable[[Any, Kernel], None]]:
    def register(handler: Callable[[Any, Kernel], None]) -> Callable[[Any, Kernel], None]:
        _HANDLERS[kind] = handler
        return handler

    return register


@_handles(m.StartInstance)
def _start(command: m.StartInstance, step: Kernel) -> None:
    state = step.state
    process = step.process
    start_id = command.start_element
    if start_id is None:
        start = process.none_start_event(process.id)
        if start is None:
            raise _rejected(f"process '{process.id}' has no none start event to start from")
        start_id = start.id
    elif start_id not in process.nodes or process.nodes[start_id].parent != process.id:
        raise _rejected(f"process '{process.id}' has no start event '{start_id}'")
    root = ElementInstance(key=state.root, element_id=process.id, parent=None, state=ElementState.ACTIVE)
    state.elements[root.key] = root
    step.record(_E.INSTANCE_STARTED, None, process=process.id, version=state.version, **_by(command.by))
    if command.variables and command.start_element is None:
        step.set_variables(root.key, dict(command.variables), local=True)
    open_scope_waits(step, root, process.id)
    event_variables = None if command.start_element is None else dict(command.variables)
    try:
        if open_listener(step, root, process, ListenerEvent.START):  # the process's start listeners run first
            root.pending = {"start": start_id, "event": event_variables}
            return
    except ExpressionFailure as exc:
        raise _rejected(f"process '{process.id}' cannot start: {exc}") from None
    _enter_start(step, root, start_id, event_variables)


def _enter_start(step: Kernel, root: ElementInstance, start_id: str, event_variables: dict[str, Any] | None) -> None:
    if event_variables is None:
        step.enter(start_id, root.key)
    else:  # a message, timer or signal start event: its variables arrive as the event's output
        event = step.create_element(start_id, root.key, state=ElementState.ACTIVE)
        step.record(_E.ELEMENT_ACTIVATED, event)
        step.schedule(Phase.COMPLETE, event, event_variables)


@_handles(m.CompleteJob)
def _complete_job(command: m.CompleteJob, step: Kernel) -> None:
    listened = step.state.elements.get(command.element_instance)
    if listener_job(listened, command.job):
        assert listened is not None
        _active(step)
        step.record(_E.JOB_COMPLETED, listened, job=command.job)
        _listener_done(step, listened, command)
        return
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    step.record(_E.JOB_COMPLETED, element, job=command.job)
    if step.behaviors.of(step.node(element)).job_completed(step, element, command.job, dict(command.variables)):
        return  # an agent's model step: the agent's loop goes on
    element.job = None
    step.schedule(Phase.COMPLETE, element, dict(command.variables))


def _listener_done(step: Kernel, element: ElementInstance, command: m.CompleteJob) -> None:
    """A listener job completed: the element goes on where its listeners held it (``behaviors.listeners``)."""
    event = listener_job_done(step, element, dict(command.variables))
    if element.key == step.state.root:
        _process_listener_done(step, element, event)
    elif event == ListenerEvent.START:
        step.schedule(Phase.ACTIVATE, element)
    elif event == ListenerEvent.END:
        step.schedule(Phase.COMPLETE, element)
    elif event == ListenerEvent.CANCELING:
        _canceling_done(step, element)
    else:
        _task_listener_done(step, element, event, command.result)


def _canceling_done(step: Kernel, element: ElementInstance) -> None:
    """A canceling listener's job completed (it can neither deny nor correct): the next one, else the element ends."""
    task = element.user_task
    state = next_or_ended(step, element, ListenerEvent.CANCELING, "canceled")
    if state is None:
        return
    if task is not None:
        step.effect(m.UpdateUserTask(task, {"listener": state}))
        step.effect(m.CancelUserTask(task))
    step.terminated(element)


def _process_listener_done(step: Kernel, root: ElementInstance, event: ListenerEvent) -> None:
    """One of the process's own listeners completed: the next one, else the instance starts or completes."""
    if event == ListenerEvent.END:
        step.settle(root.key)  # completes the instance, or opens the next end listener's job
    else:
        _resume_process_start(step, root)


def _resume_process_start(step: Kernel, root: ElementInstance) -> None:
    """The next start listener of the process, else its start event (an incident's resolution comes here too)."""
    try:
        if open_listener(step, root, step.process, ListenerEvent.START):
            return
    except ExpressionFailure as exc:
        step.incident(root, IncidentAction.JOB, "expression", str(exc))
        return
    pending, root.pending = root.pending or {}, None
    _enter_start(step, root, pending["start"], pending.get("event"))


@_handles(m.FailJob)
def _fail_job(command: m.FailJob, step: Kernel) -> None:
    listened = step.state.elements.get(command.element_instance)
    if listener_job(listened, command.job):
        assert listened is not None
        _active(step)
        step.incident(listened, IncidentAction.JOB, "job", command.message or "listener job failed with no retries "
                      "left", job=command.job)
        return
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    message = command.message or "job failed with no retries left"
    step.incident(element, IncidentAction.JOB, "job", message, job=command.job)


@_handles(m.ThrowError)
def _throw_error(command: m.ThrowError, step: Kernel) -> None:
    if listener_job(step.state.elements.get(command.element_instance), command.job):
        raise _rejected(f"job {command.job} is a listener's: it completes or fails, it throws no BPMN error")
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    throw_error(step, element, command.code, command.message, command.variables)


@_handles(m.CompleteUserTask)
def _complete_task(command: m.CompleteUserTask, step: Kernel) -> None:
    element = _waiting(step, command.element_instance, f"user task {command.task}")
    if element.user_task != command.task:
        raise _rejected(f"user task {command.task} is no longer open")
    node = step.node(element)
    behavior = step.behaviors.of(node)
    if behavior.user_task_completed(step, element, dict(command.variables), command.by):
        return  # an agent's tool call that waited for approval
    if still_creating(element):
        raise _rejected(f"user task {command.task} is still being created: its creating listeners are running")
    if (reason := held(element)) is not None:  # its assigning or updating listeners run
        raise _rejected(f"user task {command.task} is {reason}")
    if element.pending is not None:
        raise _rejected(f"user task {command.task} is already being completed: its completing listeners are running")
    if node.listeners_of(ListenerEvent.COMPLETING):
        _hold_completion(step, element, node, command)
        return
    _finish_task(step, element, command.task, dict(command.variables), command.by)


def _hold_completion(step: Kernel, element: ElementInstance, node: FlowNode, command: m.CompleteUserTask) -> None:
    """The task has completing listeners: the completion waits for them (``behaviors.listeners``)."""
    element.pending = {"variables": dict(command.variables), **({"by": command.by.to_json()} if command.by else {})}
    element.listener = None
    try:
        open_listener(step, element, node, ListenerEvent.COMPLETING)
    except ExpressionFailure as exc:
        raise _rejected(f"user task {command.task} cannot complete: {exc}") from None
    step.record(_E.USER_TASK_COMPLETING, element, task=command.task, **_by(command.by))
    step.effect(m.UpdateUserTask(command.task, {"listener": {"state": "completing"}}))


def _task_listener_done(step: Kernel, element: ElementInstance, event: ListenerEvent,
                        result: dict[str, Any] | None) -> None:
    """A task listener's job completed: its result corrects or denies; the last one lets the completion through."""
    task, pending = element.user_task, element.pending
    if task is not None and event == ListenerEvent.CREATING:
        creating_done(step, element, task, result)
        assign_created(step, element, step.node(element))  # the assignee it was created with, once they all ran
        return
    if task is not None and event == ListenerEvent.ASSIGNING:
        assigning_done(step, element, task, result)
        return
    if task is not None and event == ListenerEvent.UPDATING:
        updating_done(step, element, task, result)
        return
    if task is None or pending is None or event != ListenerEvent.COMPLETING:
        return
    denied = task_listener_result(step, element, task, result)
    if denied is None:
        try:
            if open_listener(step, element, step.node(element), ListenerEvent.COMPLETING):
                return
        except ExpressionFailure as exc:
            denied = f"the next completing listener could not run: {exc}"
    element.pending = None
    element.listener = None
    if denied is not None:
        step.record(_E.USER_TASK_DENIED, element, task=task, reason=denied)
        step.effect(m.UpdateUserTask(task, {"listener": {"state": "denied", "deniedReason": denied}}))
        return
    by = Actor.from_json(pending["by"]) if pending.get("by") else None
    corrected = {"corrections": pending["corrections"]} if pending.get("corrections") else {}
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "completed", **corrected}}))
    step.effect(m.FinishUserTask(task, dict(pending["variables"])))
    _finish_task(step, element, task, dict(pending["variables"]), by)


def _finish_task(step: Kernel, element: ElementInstance, task: int, variables: dict[str, Any],
                 by: Actor | None) -> None:
    element.user_task = None
    who = {"by": by.to_json(), "completedBy": by.id + (" (override)" if by.override else "")} \
        if by is not None else {}  # completedBy: the older spelling, kept for readers of old journals
    step.record(_E.USER_TASK_COMPLETED, element, task=task, variables=sorted(variables), **who)
    if by is not None:
        _acted_in_agent_runs(step, element, by.id)
    if element.parked is not None:  # a job that asked a person: it runs again, with the answer
        _resume_parked(step, element, variables)
        return
    step.schedule(Phase.COMPLETE, element, variables)


def _acted_in_agent_runs(step: Kernel, element: ElementInstance, principal: str) -> None:
    """Whoever completes a task inside an agent's run took part in it: four eyes keep them from approving its calls."""
    key = element.parent
    while key is not None:
        scope = step.state.elements.get(key)
        if scope is None:
            return
        if scope.agent is not None and principal not in scope.agent.actors:
            scope.agent.actors.append(principal)
        key = scope.parent


_handles(m.AssignTask)(assign)
_handles(m.UpdateTask)(update)


@_handles(m.ChildFinished)
def _child_finished(command: m.ChildFinished, step: Kernel) -> None:
    element = _waiting(step, command.element_instance, "call activity")
    child_finished(step, element, command)


@_handles(m.CancelInstance)
def _cancel(command: m.CancelInstance, step: Kernel) -> None:
    _active(step)
    root = step.state.elements[step.state.root]
    canceled = {"reason": command.reason, **_by(command.by)}
    if root.state == ElementState.TERMINATING:
        return  # canceled already: its user tasks' canceling listeners are running
    if not step.terminate(root, listeners=True):  # the instance ends once they have run (``Kernel.terminated``)
        root.pending = {"after": {"canceled": canceled}}
        return
    step.state.status = InstanceStatus.TERMINATED
    step.record(_E.INSTANCE_TERMINATED, None, **canceled)


@_handles(m.ResolveIncident)
def _resolve(command: m.ResolveIncident, step: Kernel) -> None:
    _active(step)
    action = step.state.incidents.pop(command.incident, None)
    if action is None:
        raise _rejected(f"incident {command.incident} is not open on instance {step.state.key}")
    element = next((e for e in step.state.elements.values() if e.incident == command.incident), None)
    step.effect(m.ResolveIncidentRow(command.incident))
    if element is None:
        return
    element.incident = None
    step.record(_E.INCIDENT_RESOLVED, element, incident=command.incident, **_by(command.by))
    phase = action.phase
    if action == IncidentAction.WAIT:
        return  # the element still waits (its subscription stayed open): its poller sees no incident and polls
    if action == IncidentAction.JOB:
        if element.job is not None:
            step.effect(m.RetryJob(element.job, retries=1))
        elif element.key == step.state.root and element.pending is not None:  # a process start listener's type
            _resume_process_start(step, element)
    elif phase is not None:
        step.schedule(phase, element)
    elif action == IncidentAction.SETTLE:
        step.settle(element.key)
    else:  # an action of the element's own kind (an agent asks its model again)
        step.behaviors.of(step.node(element)).resume(step, element, action)


@_handles(m.RaiseIncident)
def _raise_incident(command: m.RaiseIncident, step: Kernel) -> None:
    element = _waiting(step, command.element_instance, f"element instance {command.element_instance}")
    if element.incident is not None:
        raise _rejected(f"element instance {command.element_instance} already waits in incident {element.incident}")
    step.incident(element, IncidentAction.WAIT, command.type, command.message)


@_handles(m.SetVariables)
def _set_variables(command: m.SetVariables, step: Kernel) -> None:
    _active(step)
    key = command.scope if command.scope is not None else step.state.root
    if key not in step.state.elements:
        raise _rejected(f"element instance {key} is not active in instance {step.state.key}")
    if command.variables and update_variables(command, step, step.state.elements[key]):
        return  # a user task's own variables: held for its updating listeners (task_update)
    if command.variables:  # the names, not the values: variables_updated below records those (credentials masked)
        step.record(_E.VARIABLES_SET, step.state.elements[key], variables=sorted(command.variables),
                    local=command.local, **_by(command.by), **({"reason": command.reason} if command.reason else {}))
    step.set_variables(key, dict(command.variables), local=command.local)


@_handles(m.Trigger)
def _trigger(command: m.Trigger, step: Kernel) -> None:
    _active(step)
    owner = step.state.elements.get(command.owner)
    if command.by is not None and owner is not None:  # a rejected trigger drops the step's events with it
        step.record(_E.EVENT_RECEIVED, owner, kind=owner.waits.get(command.wait), event=command.element_id,
                    **_by(command.by))
    trigger(step, command)


@_handles(m.ChildError)
def _child_error(command: m.ChildError, step: Kernel) -> None:
    _active(step)
    child_error(step, command)


@_handles(m.ErrorUncaught)
def _error_uncaught(command: m.ErrorUncaught, step: Kernel) -> None:
    _active(step)
    element = step.state.elements.get(command.element_instance)
    if element is None:
        return
    raise_uncaught(step, element, command.code, command.message)


@_handles(m.ActivateAdHocElements)
def _activate_ad_hoc(command: m.ActivateAdHocElements, step: Kernel) -> None:
    element = _waiting(step, command.element_instance, "the ad-hoc subprocess")
    activate_from_outside(step, element, command.elements, dict(command.variables))


@_handles(m.ParkJob)
def _park_job(command: m.ParkJob, step: Kernel) -> None:
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    element.job = None
    key = step.ids.next_key()
    element.user_task = key
    element.parked = ParkedJob(job_type=command.job_type, retries=command.retries, headers=dict(command.headers),
                               answer_variable=command.answer_variable, round=command.round, job=command.job)
    step.effect(m.CreateUserTask(
        key=key, element_instance=element.key, element_id=element.element_id, name=command.name,
        assignee=command.assignee, candidate_groups=list(command.candidate_groups), candidate_users=[],
        due_date=None, follow_up_date=None, form_key=None, priority=50,
        details={**command.details, "inputs": asked_inputs(command.name, command.details)}))
    step.record(_E.JOB_PARKED, element, job=command.job, task=key, round=command.round)


def _resume_parked(step: Kernel, element: ElementInstance, variables: dict[str, Any]) -> None:
    parked = element.parked
    assert parked is not None
    element.parked = None
    answer = PersonAnswer(parked.round, variables, parked.job)
    step.set_variables(element.key, {parked.answer_variable: answer.to_json()}, local=True)
    open_job(step, element, parked.job_type, parked.retries, dict(parked.headers), resumed=True)
