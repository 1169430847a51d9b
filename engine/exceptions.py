"""The engine's error tree, as callers of ``engine.Engine`` see it.

EngineError                      base: every error the facade raises on purpose
 +-- InvalidInput                bad JSON, bad variables, a malformed request (nothing changed)
 +-- DeploymentError             the BPMN did not parse or validate; ``problems`` lists each one
 +-- NotFound                    no such process, instance, job, user task or incident
 +-- Conflict                    the thing exists but the request no longer applies
      +-- JobLost                the worker's lease expired and the job went to another worker

Errors inside expressions never raise: they become incidents on the element.
``BpmnError`` is not an error of the engine: a job handler raises it to
throw a BPMN error that the process may catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class EngineError(Exception):
    """Base class of the errors the engine raises on purpose."""


class InvalidInput(EngineError):
    pass


class DeploymentError(EngineError):
    def __init__(self, problems: Sequence[Any]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class NotFound(EngineError):
    pass


class Conflict(EngineError):
    pass


class JobLost(Conflict):
    pass


class BpmnError(Exception):
    """Raised by a job handler to throw a BPMN error (caught by error boundary events) instead of failing."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})
