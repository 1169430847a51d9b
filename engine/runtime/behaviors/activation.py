"""What several behaviours do on activation: mark the element active (arming its boundary events), open a job."""

from __future__ import annotations

from typing import Any

from engine.model import FlowNode
from engine.runtime import messages as m
from engine.runtime.behaviors.events import open_boundary_waits
from engine.runtime.journal import EventType
from engine.runtime.kernel import ElementBehavior, Kernel
from engine.runtime.state import ElementInstance, ElementState, Phase

__all__ = ["PassThrough", "activated", "is_inner", "open_job"]


def is_inner(step: Kernel, element: ElementInstance) -> bool:
    """Whether ``element`` is an inner instance of a multi-instance body (whose boundary events are the body's)."""
    parent = step.state.elements.get(element.parent) if element.parent is not None else None
    return parent is not None and parent.is_body and parent.element_id == element.element_id


def activated(step: Kernel, element: ElementInstance, *, waits: bool = False) -> None:
    """The element is active; one that waits for something outside also arms its boundary events."""
    element.state = ElementState.ACTIVE
    step.record(EventType.ELEMENT_ACTIVATED, element)
    if waits and not is_inner(step, element):
        open_boundary_waits(step, element, step.node(element))


def open_job(step: Kernel, element: ElementInstance, job_type: str, retries: int, headers: dict[str, str],
             **journal: Any) -> int:
    """Create a job that the element waits for (the effect, the element's link to it, the journal entry)."""
    key = step.ids.next_key()
    element.job = key
    step.effect(m.CreateJob(key=key, element_instance=element.key, element_id=element.element_id, type=job_type,
                            retries=retries, headers=headers))
    step.record(EventType.JOB_CREATED, element, job=key, type=job_type, **journal)
    return key


class PassThrough(ElementBehavior):
    """An element with no work of its own (a task, a manual task, a start event, a gateway): it completes at once."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        activated(kernel, element)
        kernel.schedule(Phase.COMPLETE, element)
