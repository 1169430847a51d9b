"""Camunda's error shape for every /v2 answer: RFC 9457 problem+json with ``type``, ``title``, ``status``,
``detail`` and ``instance`` (the request's path), the fields Camunda's clients require.

A /v2 route raises what any hub route raises (``hub.api.common.ApiError``, the
engine's and the registry's errors); ``endpoint`` wraps the route and answers
each in this shape, with Camunda's titles (``INVALID_ARGUMENT``, ``NOT_FOUND``,
``INVALID_STATE`` ...) so a client that switches on them reads ours as it reads
Camunda's. The guard's own refusals (401, 403, 413) carry ``instance`` too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Conflict, DeploymentError, EngineError, FormInvalid, InvalidInput, JobLost, NotFound
from engine.store import DatabaseBusy
from hub.api.common import ApiError
from registry import RegistryConflict, RegistryError, RegistryNotFound

__all__ = ["Handler", "camunda_problem", "endpoint"]

Handler = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("agenthub.camunda")

_TITLES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "INVALID_STATE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL",
    503: "RESOURCE_EXHAUSTED",
    504: "DEADLINE_EXCEEDED",
}


def camunda_problem(status: int, detail: str, instance: str, **extra: Any) -> JSONResponse:
    """One problem detail as Camunda answers it."""
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "ERROR"),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _status(exc: Exception) -> tuple[int, str, dict[str, Any]]:
    """The status, detail and extra fields an error is answered with."""
    if isinstance(exc, ApiError):
        return exc.status, exc.detail, dict(exc.extra)
    if isinstance(exc, DeploymentError):
        problems = [
            {"file": p.source_name, "line": p.line, "element": p.element_id, "message": p.message} for p in exc.problems
        ]
        return 400, str(exc), {"problems": problems}
    if isinstance(exc, FormInvalid):
        return 400, str(exc), {"errors": [{"field": e.field, "message": e.message} for e in exc.errors]}
    if isinstance(exc, (NotFound, RegistryNotFound)):
        return 404, str(exc), {}
    if isinstance(exc, (Conflict, JobLost, RegistryConflict)):
        return 409, str(exc), {}
    if isinstance(exc, (InvalidInput, EngineError, RegistryError)):
        return 400, str(exc), {}
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail), {}
    if isinstance(exc, DatabaseBusy):
        return 503, "the hub's database is busy with other writers and nothing was done: retry in a second", {}
    raise exc


def endpoint(handler: Handler) -> Handler:
    """``handler`` answering its errors as Camunda's problem details."""

    @functools.wraps(handler)
    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:
            try:
                status, detail, extra = _status(exc)
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                return camunda_problem(
                    500,
                    f"the hub failed on {request.method} {request.url.path} ({type(exc).__name__}); "
                    "the hub's log has the details",
                    request.url.path,
                )
            return camunda_problem(status, detail, request.url.path, **extra)

    return answer


async def unknown(request: Request) -> Response:
    """A /v2 path the hub does not serve: say so in Camunda's shape, pointing at the list of those it does."""
    return camunda_problem(
        404,
        f"agenthub does not serve {request.method} {request.url.path} of Camunda's API; "
        "docs/CAMUNDA.md lists the /v2 endpoints it does",
        request.url.path,
    )
