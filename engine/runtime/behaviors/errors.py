"""BPMN errors thrown by workers and error end events.

Catching (error boundary events, error event subprocesses) belongs to the
events issue; until then an error nobody catches raises an incident, as in
Camunda 8.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime.state import ElementInstance

if TYPE_CHECKING:
    from engine.runtime.step import Step


def throw_error(step: Step, element: ElementInstance, code: str, message: str, variables: dict[str, Any]) -> None:
    step.record("error_thrown", element, code=code, message=message)
    text = f"an error with code '{code}' was thrown and not caught"
    if message:
        text += f": {message}"
    step.incident(element, "job" if element.job is not None else "activate", "unhandled-error", text, job=element.job)
