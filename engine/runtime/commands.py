"""How each command enters the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.runtime import messages as m
from engine.runtime.state import ElementInstance, ElementState, InstanceStatus
from engine.runtime.task_inputs import asked_inputs

if TYPE_CHECKING:
    from engine.runtime.step import Step


def _rejected(message: str) -> Exception:
    from engine.runtime.step import CommandRejected

    return CommandRejected(message)


def _active(step: Step) -> None:
    if step.state.status != InstanceStatus.ACTIVE:
        raise _rejected(f"instance {step.state.key} is {step.state.status}")


def _waiting(step: Step, key: int, what: str) -> ElementInstance:
    _active(step)
    element = step.state.elements.get(key)
    if element is None or element.state != ElementState.ACTIVE:
        raise _rejected(f"{what} is no longer open (element instance {key} is not waiting)")
    return element


_HANDLERS: dict[type, Callable[[Any, Step], None]] = {}


def apply(command: m.Command, step: Step) -> None:
    _HANDLERS[type(command)](command, step)


def _handles(kind: type) -> Callable[[Callable[[Any, Step], None]], Callable[[Any, Step], None]]:
    def register(handler: Callable[[Any, Step], None]) -> Callable[[Any, Step], None]:
        _HANDLERS[kind] = handler
        return handler

    return register


@_handles(m.StartInstance)
def _start(command: m.StartInstance, step: Step) -> None:
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
    step.record("instance_started", None, process=process.id, version=state.version)
    if command.variables and command.start_element is None:
        step.set_variables(root.key, dict(command.variables), local=True)
    from engine.runtime.behaviors.events import open_scope_waits

    open_scope_waits(step, root, process.id)
    if command.start_element is None:
        step.enter(start_id, root.key)
    else:  # a message, timer or signal start event: its variables arrive as the event's output
        event = step.create_element(start_id, root.key, state=ElementState.ACTIVE)
        step.record("element_activated", event)
        step.schedule("complete", event, dict(command.variables))


@_handles(m.CompleteJob)
def _complete_job(command: m.CompleteJob, step: Step) -> None:
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    step.record("job_completed", element, job=command.job)
    if element.agent is not None:  # a model step: the agent's loop goes on
        from engine.agent import loop

        loop.model_answered(step, element, command.job, dict(command.variables))
        return
    element.job = None
    step.schedule("complete", element, dict(command.variables))


@_handles(m.FailJob)
def _fail_job(command: m.FailJob, step: Step) -> None:
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    step.incident(element, "job", "job", command.message or "job failed with no retries left", job=command.job)


@_handles(m.ThrowError)
def _throw_error(command: m.ThrowError, step: Step) -> None:
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    from engine.runtime.behaviors.errors import throw_error

    throw_error(step, element, command.code, command.message, command.variables)


@_handles(m.CompleteUserTask)
def _complete_task(command: m.CompleteUserTask, step: Step) -> None:
    element = _waiting(step, command.element_instance, f"user task {command.task}")
    if element.user_task != command.task:
        raise _rejected(f"user task {command.task} is no longer open")
    if element.inner and element.call is not None:  # an agent's tool call waiting for approval
        from engine.agent import loop

        loop.approval_decided(step, element, dict(command.variables), command.completed_by)
        return
    element.user_task = None
    step.record("user_task_completed", element, task=command.task, variables=sorted(command.variables))
    if element.parked is not None:  # a job that asked a person: it runs again, with the answer
        _resume_parked(step, element, dict(command.variables))
        return
    step.schedule("complete", element, dict(command.variables))


@_handles(m.ChildFinished)
def _child_finished(command: m.ChildFinished, step: Step) -> None:
    element = _waiting(step, command.element_instance, "call activity")
    from engine.runtime.behaviors.activities import child_finished

    child_finished(step, element, command)


@_handles(m.CancelInstance)
def _cancel(command: m.CancelInstance, step: Step) -> None:
    _active(step)
    root = step.state.elements[step.state.root]
    step.terminate(root)
    step.state.status = InstanceStatus.TERMINATED
    step.record("instance_terminated", None, reason=command.reason)


@_handles(m.ResolveIncident)
def _resolve(command: m.ResolveIncident, step: Step) -> None:
    _active(step)
    action = step.state.incidents.pop(command.incident, None)
    if action is None:
        raise _rejected(f"incident {command.incident} is not open on instance {step.state.key}")
    element = next((e for e in step.state.elements.values() if e.incident == command.incident), None)
    step.effect(m.ResolveIncidentRow(command.incident))
    if element is None:
        return
    element.incident = None
    step.record("incident_resolved", element, incident=command.incident)
    if action == "job" and element.job is not None:
        step.effect(m.RetryJob(element.job, retries=1))
    elif action in ("activate", "complete", "leave"):
        step.schedule(action, element)
    elif action == "settle":
        step.settle(element.key)
    elif action == "model" and element.agent is not None:  # ask the model again; past a limit, once more
        from engine.agent import loop

        loop.ask_model(step, element, grace=True)


@_handles(m.SetVariables)
def _set_variables(command: m.SetVariables, step: Step) -> None:
    _active(step)
    key = command.scope if command.scope is not None else step.state.root
    if key not in step.state.elements:
        raise _rejected(f"element instance {key} is not active in instance {step.state.key}")
    step.set_variables(key, dict(command.variables), local=command.local)


@_handles(m.Trigger)
def _trigger(command: m.Trigger, step: Step) -> None:
    _active(step)
    from engine.runtime.behaviors.events import trigger

    trigger(step, command)


@_handles(m.ChildError)
def _child_error(command: m.ChildError, step: Step) -> None:
    _active(step)
    from engine.runtime.behaviors.errors import child_error

    child_error(step, command)


@_handles(m.ErrorUncaught)
def _error_uncaught(command: m.ErrorUncaught, step: Step) -> None:
    _active(step)
    element = step.state.elements.get(command.element_instance)
    if element is None:
        return
    from engine.runtime.behaviors.errors import raise_uncaught

    raise_uncaught(step, element, command.code, command.message)


@_handles(m.ActivateAdHocElements)
def _activate_ad_hoc(command: m.ActivateAdHocElements, step: Step) -> None:
    element = _waiting(step, command.element_instance, "the ad-hoc subprocess")
    from engine.runtime.behaviors import ad_hoc

    ad_hoc.activate_from_outside(step, element, command.elements, dict(command.variables))


@_handles(m.ParkJob)
def _park_job(command: m.ParkJob, step: Step) -> None:
    element = _waiting(step, command.element_instance, f"job {command.job}")
    if element.job != command.job:
        raise _rejected(f"job {command.job} is no longer open")
    element.job = None
    key = step.ids.next_key()
    element.user_task = key
    element.parked = {"type": command.job_type, "retries": command.retries, "headers": dict(command.headers),
                      "answer": command.answer_variable, "round": command.round, "job": command.job}
    step.effect(m.CreateUserTask(
        key=key, element_instance=element.key, element_id=element.element_id, name=command.name,
        assignee=command.assignee, candidate_groups=list(command.candidate_groups), candidate_users=[],
        due_date=None, follow_up_date=None, form_key=None, priority=50,
        details={**command.details, "inputs": asked_inputs(command.name, command.details)}))
    step.record("job_parked", element, job=command.job, task=key, round=command.round)


def _resume_parked(step: Step, element: ElementInstance, variables: dict[str, Any]) -> None:
    from engine.runtime.behaviors.activities import open_job

    parked = element.parked
    assert parked is not None
    element.parked = None
    answer = {"round": parked["round"], "variables": variables, "job": parked.get("job")}
    step.set_variables(element.key, {parked["answer"]: answer}, local=True)
    open_job(step, element, parked["type"], parked["retries"], dict(parked["headers"]), resumed=True)
