"""The engine's error tree, as callers of ``engine.Engine`` see it.

EngineError                      base: every error the facade raises on purpose
 +-- InvalidInput                bad JSON, bad variables, a malformed request (nothing changed)
 |    +-- FormInvalid            a user task's variables fail its form; ``errors`` lists each field's
 +-- DeploymentError             the BPMN did not parse or validate; ``problems`` lists each one
 +-- NotFound                    no such process, instance, job, user task or incident
 +-- Conflict                    the thing exists but the request no longer applies
      +-- JobLost                the worker's lease expired and the job went to another worker

Errors inside expressions never raise: they become incidents on the element.
``BpmnError`` is not an error of the engine: a job handler raises it to
throw a BPMN error that the process may catch. ``AskPerson``, raised by a
handler, parks its job on a user task until a person answers. ``WaitRemote``,
raised by a handler, leaves its job waiting on work elsewhere (a remote task)
without holding a worker: it is claimable again after ``seconds``, or at once
when ``Engine.wake_job`` is called. ``JobFailure``,
raised by a handler, fails the attempt as any exception does, but says how many
retries are left and how long to wait before the next one (a connector's
``retryBackoff``, Camunda's ``jobError(...)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard


class EngineError(Exception):
    """Base class of the errors the engine raises on purpose."""


class InvalidInput(EngineError):
    pass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One form field whose submitted value fails the form: the field's ``key`` and what is wrong."""

    field: str
    message: str


class FormInvalid(InvalidInput):
    """Submitted variables fail the task's form (required, type, range, length, pattern, options)."""

    def __init__(self, task: int, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        listed = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(f"user task {task} was not completed: its form refuses the variables ({listed})")


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


class AskPerson(Exception):
    """Raised by a job handler: the job waits for a person, then runs again with their answer.

    The job is parked on a user task (``name``, ``details`` shown in the task
    list, ``assignee``/``candidate_groups``). When the task is completed, the
    job is created again (same type, headers and retries) and its element
    instance holds the local variable ``answer_variable`` =
    ``{"round": round, "variables": <what the person entered>, "job": <the
    parked job's key>}`` (``PersonAnswer``): the handler can tell an answer it
    has already passed on from a new one by the round, and find what the
    parked attempt recorded by its job key.
    """

    def __init__(self, name: str, *, details: dict[str, Any] | None = None, assignee: str | None = None,
                 candidate_groups: tuple[str, ...] = (), answer_variable: str = "userInput", round: int = 1) -> None:
        super().__init__(f"waiting for a person: {name}")
        self.name = name
        self.details = dict(details or {})
        self.assignee = assignee
        self.candidate_groups = tuple(candidate_groups)
        self.answer_variable = answer_variable
        self.round = round


@dataclass(frozen=True, slots=True)
class PersonAnswer:
    """What a job parked by ``AskPerson`` finds when it runs again: the round it asked, what the person entered
    (``variables``), and the parked job's key (None in a value written before it was kept)."""

    round: int
    variables: dict[str, Any]
    job: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "variables": self.variables, "job": self.job}

    @classmethod
    def of(cls, variables: Mapping[str, Any], answer_variable: str) -> PersonAnswer | None:
        """The answer in ``variables`` (a job's) under ``answer_variable``, when a well-formed one is there."""
        raw = variables.get(answer_variable)
        if not isinstance(raw, Mapping):
            return None
        round_, entered, job = raw.get("round"), raw.get("variables"), raw.get("job")
        if not _integer(round_):
            return None
        return cls(round_, dict(entered) if isinstance(entered, Mapping) else {}, job if _integer(job) else None)

    def after(self, answered: int) -> bool:
        """Whether this answer is newer than round ``answered`` (not passed on yet)."""
        return self.round > answered


def _integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class WaitRemote(Exception):
    """Raised by a job handler: the job waits on work elsewhere and runs again after ``seconds`` (or when woken).

    A durable wait, like a message subscription's: the job's lease is released
    and no worker holds it, its retries are kept and its stall count reset. It
    is claimable again after ``seconds``, or at once when ``Engine.wake_job``
    is called (a push notification, any event that means "look again"). The
    handler's next attempt reads what it needs from the job's variables (what
    it recorded before), checks the remote work once and completes, throws,
    asks a person or raises ``WaitRemote`` again. ``reason`` is shown where the
    job is listed (``waitingFor.remoteWait``), with when it is checked next.
    ``variables`` are set on the job's element instance, as local variables,
    in the transaction that starts the wait: what the next attempt should read.
    """

    def __init__(self, seconds: float, reason: str, *, variables: dict[str, Any] | None = None) -> None:
        super().__init__(f"waiting {seconds:g} s: {reason}")
        self.seconds = max(float(seconds), 0.0)
        self.reason = reason
        self.variables = dict(variables or {})


class BpmnError(Exception):
    """Raised by a job handler to throw a BPMN error (caught by error boundary events) instead of failing."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})


class JobFailure(Exception):
    """Raised by a job handler: this attempt failed; ``retries`` left (None: one fewer) after ``backoff_ms``.

    ``backoff_ms`` None leaves the wait to the worker loop's exponential backoff. With no retries left the
    job raises an incident whose message is this exception's.
    """

    def __init__(self, message: str, *, retries: int | None = None, backoff_ms: int | None = None) -> None:
        super().__init__(message)
        self.retries = None if retries is None else max(retries, 0)
        self.backoff_ms = None if backoff_ms is None else max(backoff_ms, 0)
