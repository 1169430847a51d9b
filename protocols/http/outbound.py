"""Camunda's outbound-connector contract, for any connector: what its task headers do with a connector's answer.

A Camunda connector produces a *response* (any JSON-like value) or fails with
an *error* (``code``, ``message``, ``variables``). Its task headers then decide:

- ``errorExpression`` (FEEL) is evaluated first, over the response's entries,
  ``response`` (the whole answer, or ``{"error": {...}}`` after a failure),
  ``error`` (after a failure) and ``job.retries``. ``bpmnError(code, message?,
  variables?)`` throws a BPMN error; ``jobError(message, variables?, retries?,
  retryBackoff?)`` fails the job with those retries (default 0, so an incident)
  after that duration; null or ``{}`` lets the outcome stand.
- a failure nothing above handled fails the job, one retry fewer, after
  ``retryBackoff`` (an ISO 8601 duration such as ``PT30S``); a mistake in the
  task's own inputs or headers (``ConnectorInputError``) leaves no retries, as
  retrying cannot fix it;
- an answer becomes variables: ``resultVariable`` holds it whole, and the
  context ``resultExpression`` gives (evaluated over the same names as
  ``errorExpression``, without ``error`` and ``job``) is merged in.

The expressions see the answer only, never the process variables, as in
Camunda. Owns the rules above; does not know how any connector does its work
(``camunda.py`` is the REST one) nor where secrets live: what a connector
hands over is already masked.

``CamundaOutbound(handler)`` puts any job handler under these rules (the hub
wraps every ``@worker`` of a Camunda connector job type with it): its dict is
the answer, and without ``resultVariable`` or ``resultExpression`` it becomes
the variables, as any worker's result does; an exception it raises is the
error (``BpmnError``, ``AskPerson``, ``WaitRemote`` and ``JobFailure`` pass through). Given a
secret provider, it replaces ``{{secrets.NAME}}`` in the job's variables before
the handler sees them, as Camunda's runtime does, and masks those values in the
answer and in every message. A connector that declares the variables it reads
(``inputs``: the MCP and A2A clients read ``data`` and ``toolCall``) has secrets
resolved in those only, as Camunda binds a connector's input: a variable it never
reads, such as the agent's ``provider`` that its tools see, needs no secret here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as _dt
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from engine import BpmnError
from engine.exceptions import AskPerson, JobFailure, WaitRemote
from engine.feel import Expression, FeelError, FeelFunction, compile_expression, strip_marker, to_json
from engine.scheduler import Job
from engine.scheduler.registry import Handler
from protocols.http.connector import masked, redact
from protocols.http.exceptions import ConnectorError, ConnectorInputError, InvalidTask
from protocols.http.secrets import SecretProvider, SecretResolver

__all__ = [
    "ERROR_FUNCTIONS",
    "CamundaOutbound",
    "OutboundHeaders",
    "apply_headers",
    "run_outbound",
]

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION: Final = compile_expression("duration(text)")


@dataclass(frozen=True, slots=True)
class OutboundHeaders:
    """The task headers of Camunda's outbound-connector contract, read and compiled."""

    result_variable: str | None = None
    result_expression: Expression | None = None
    error_expression: Expression | None = None
    retry_backoff_ms: int | None = None

    @classmethod
    def read(cls, headers: Mapping[str, str], where: str) -> OutboundHeaders:
        """From a job's headers; ConnectorInputError names the header at fault."""
        name = (headers.get("resultVariable") or "").strip() or None
        if name is not None and not _VARIABLE.match(name):
            raise ConnectorInputError(f"{where}: task header resultVariable must be a variable name, got '{name}'")
        return cls(
            result_variable=name,
            result_expression=_expression(headers.get("resultExpression"), "resultExpression", where),
            error_expression=_expression(headers.get("errorExpression"), "errorExpression", where),
            retry_backoff_ms=_backoff_ms(headers.get("retryBackoff"), where),
        )


def _expression(raw: str | None, header: str, where: str) -> Expression | None:
    if raw is None or not raw.strip():
        return None
    try:
        return compile_expression(strip_marker(raw))
    except FeelError as exc:
        raise ConnectorInputError(f"{where}: task header {header} is not valid FEEL: {exc}") from None


def _backoff_ms(raw: str | None, where: str) -> int | None:
    if raw is None or not raw.strip():
        return None
    value = _DURATION.evaluate({"text": raw.strip()})
    if not isinstance(value, _dt.timedelta) or value < _dt.timedelta(0):
        raise ConnectorInputError(f"{where}: task header retryBackoff '{raw.strip()}' is not an ISO 8601 duration "
                                  "of days and time, such as PT30S")
    return int(value / _dt.timedelta(milliseconds=1))


async def run_outbound(
    job: Job, produce: Callable[[], Awaitable[Any]], where: str, *, answer_is_variables: bool = False
) -> dict[str, Any]:
    """Run one connector attempt (``produce``) under the headers' rules: its variables, BpmnError or JobFailure.

    ``answer_is_variables``: without ``resultVariable`` and ``resultExpression``, a dict answer is the variables.
    """
    try:
        headers = OutboundHeaders.read(job.headers, where)
    except ConnectorInputError as exc:
        raise JobFailure(str(exc), retries=0) from None
    try:
        response = await produce()
    except ConnectorError as exc:
        return apply_headers(headers, job, None, exc, where)
    found = apply_headers(headers, job, response, None, where)
    if answer_is_variables and headers.result_variable is None and headers.result_expression is None:
        return dict(response) if isinstance(response, dict) else {}
    return found


class CamundaOutbound:
    """A job handler of a Camunda connector type, under Camunda's task headers (see the module docstring)."""

    def __init__(self, handler: Handler, *, secrets: SecretProvider | None = None,
                 inputs: frozenset[str] | None = None) -> None:
        self.handler = handler
        self._secrets = secrets
        self._inputs = inputs  # the variables the connector reads (None: all); secrets are resolved in these

    async def __call__(self, job: Job) -> dict[str, Any]:
        where = f"task '{job.element_id}' of process '{job.process_id}'"
        if self._secrets is None:
            return await run_outbound(job, lambda: self._answer(job), where, answer_is_variables=True)
        resolver = SecretResolver(self._secrets, where)
        try:
            variables = {name: resolver.data(value, "an input") if self._inputs is None or name in self._inputs
                         else value for name, value in job.variables.items()}
            resolved = dataclasses.replace(job, variables=variables)
        except InvalidTask as exc:
            raise JobFailure(str(exc), retries=0) from None
        values = tuple(sorted({v for v in resolver.values if v}, key=len, reverse=True))
        try:
            found = await run_outbound(resolved, lambda: self._answer(resolved, values), where,
                                       answer_is_variables=True)
        except BpmnError as exc:
            raise BpmnError(exc.code, redact(exc.message, values), masked(exc.variables, values)) from None
        except JobFailure as exc:
            raise JobFailure(redact(str(exc), values), retries=exc.retries, backoff_ms=exc.backoff_ms) from None
        result: dict[str, Any] = masked(found, values)
        return result

    async def _answer(self, job: Job, secrets: tuple[str, ...] = ()) -> Any:
        handler = self.handler
        try:
            if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
                result = handler(job)
            else:  # a plain handler must not block the worker loop
                result = await asyncio.to_thread(handler, job)
            if inspect.isawaitable(result):
                result = await result
        except (BpmnError, AskPerson, JobFailure, WaitRemote, ConnectorError):  # a durable wait passes through
            raise
        except Exception as exc:
            raise ConnectorError(redact(f"{type(exc).__name__}: {exc}", secrets)) from exc
        return masked(result, secrets)


def apply_headers(
    headers: OutboundHeaders, job: Job, response: Any, error: ConnectorError | None, where: str
) -> dict[str, Any]:
    """What an answer (``response``) or a failure (``error``) comes to under ``headers``; raises to fail or throw."""
    answer = {"error": error.as_variable()} if error is not None else response
    if headers.error_expression is not None:
        _examine(headers.error_expression, answer, error, job, where, headers.retry_backoff_ms)
    if error is not None:
        retries = 0 if isinstance(error, ConnectorInputError) else job.retries - 1
        raise JobFailure(str(error), retries=retries, backoff_ms=headers.retry_backoff_ms)
    found: dict[str, Any] = {}
    if headers.result_variable is not None:
        found[headers.result_variable] = response
    if headers.result_expression is not None:
        mapped = _evaluate(headers.result_expression, _scope(response), "resultExpression", where)
        if mapped is not None and not isinstance(mapped, dict):
            raise JobFailure(f"{where}: resultExpression must give a context, whose entries become variables, "
                             f"but gave {type(mapped).__name__}", retries=0)
        found.update(mapped or {})
    return found


def _scope(answer: Any) -> dict[str, Any]:
    """The answer's own entries, and the whole answer as ``response`` (Camunda offers both)."""
    scope = dict(answer) if isinstance(answer, dict) else {}
    scope["response"] = answer
    return scope


def _evaluate(expression: Expression, scope: Mapping[str, Any], header: str, where: str) -> Any:
    try:
        return to_json(expression.evaluate(scope))
    except FeelError as exc:
        raise JobFailure(f"{where}: {header} cannot be evaluated: {exc}", retries=0) from None


def _examine(
    expression: Expression, answer: Any, error: ConnectorError | None, job: Job, where: str, backoff: int | None
) -> None:
    """Evaluate ``errorExpression``; raise the BPMN error or job failure it asks for, if any."""
    scope = _scope(answer)
    scope.update(ERROR_FUNCTIONS)
    scope["job"] = {"retries": job.retries}
    if error is not None:
        scope["error"] = error.as_variable()
    try:
        raw = expression.evaluate(scope)
    except FeelError as exc:
        raise JobFailure(f"{where}: errorExpression cannot be evaluated: {exc}", retries=0) from None
    if raw is None or raw == {}:
        return
    if not isinstance(raw, dict):
        raise JobFailure(f"{where}: errorExpression must give bpmnError(...), jobError(...) or null, "
                         f"but gave {type(raw).__name__}", retries=0)
    kind = raw.get("errorType")
    if kind == "bpmnError":
        code = raw.get("code")
        if not isinstance(code, str) or not code:
            return  # as in Camunda: a bpmnError without a code is no error
        message = raw.get("message")
        variables = to_json(raw.get("variables"))
        raise BpmnError(code, message if isinstance(message, str) else "",
                        variables if isinstance(variables, dict) else None)
    if kind == "jobError":
        retries = raw.get("retries")
        wait = raw.get("retryBackoff")
        message = raw.get("message")
        raise JobFailure(
            message if isinstance(message, str) and message else f"{where}: errorExpression raised a job error",
            retries=int(retries) if isinstance(retries, Decimal) and retries.is_finite() else 0,
            backoff_ms=int(wait / _dt.timedelta(milliseconds=1)) if isinstance(wait, _dt.timedelta) else backoff,
        )
    raise JobFailure(f"{where}: errorExpression gave a context that is neither bpmnError(...) nor jobError(...)",
                     retries=0)


def _bpmn_error(code: Any, message: Any = None, variables: Any = None) -> Any:
    if not isinstance(code, str):
        raise TypeError("bpmnError: the error code must be a string")
    found: dict[str, Any] = {"errorType": "bpmnError", "code": code}
    if message is not None:
        found["message"] = message if isinstance(message, str) else None
    if variables is not None:
        found["variables"] = variables if isinstance(variables, dict) else None
    return found


def _job_error(message: Any, variables: Any = None, retries: Any = None, retry_backoff: Any = None) -> Any:
    if not isinstance(message, str):
        raise TypeError("jobError: the message must be a string")
    return {
        "errorType": "jobError",
        "message": message,
        "variables": variables if isinstance(variables, dict) else {},
        "retries": retries if isinstance(retries, Decimal) else Decimal(0),
        "retryBackoff": retry_backoff if isinstance(retry_backoff, _dt.timedelta) else _dt.timedelta(0),
    }


#: The functions an ``errorExpression`` may call, on top of FEEL's built-ins (Camunda's names and parameters).
ERROR_FUNCTIONS: Final[Mapping[str, FeelFunction]] = {
    "bpmnError": FeelFunction("bpmnError", ("errorCode", "errorMessage", "variables"), _bpmn_error, required=1),
    "jobError": FeelFunction("jobError", ("errorMessage", "variables", "retries", "retryBackoff"), _job_error,
                             required=1),
}
