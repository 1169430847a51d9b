"""What every REST route shares: the hub's parts, scope checks, JSON bodies, problem+json errors, pages.

Errors: a route raises ``ApiError`` (or lets an engine or registry error
through); ``problem_handlers`` turns each into ``application/problem+json``
with a ``detail`` that says what was wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import (
    Channel,
    Conflict,
    DeploymentError,
    Engine,
    EngineError,
    FormInvalid,
    InvalidInput,
    JobLost,
    NotFound,
    strict_json,
)
from engine.scheduler import WorkerRegistry
from engine.store import DatabaseBusy
from protocols.actors import actor_of
from registry import InvalidEntry, Principal, Registry, RegistryConflict, RegistryError, RegistryNotFound, ToolBlocked

T = TypeVar("T")
MAX_PAGE = 1000


@dataclass(slots=True)
class Hub:
    """The parts a request works with, on ``app.state.hub``."""

    engine: Engine
    registry: Registry
    workers: WorkerRegistry
    settings: Any  # hub.settings.HubSettings (kept loose so routes need not import the CLI's settings)


class ApiError(Exception):
    def __init__(self, status: int, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.extra = extra


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def problem(status: int, detail: str, *, title: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title or _TITLES.get(status, "Error"), "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def hub(request: Request) -> Hub:
    value: Hub = request.app.state.hub
    return value


def principal(request: Request) -> Principal:
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:  # the guard runs before every route that needs one
        raise ApiError(401, "this endpoint needs an API token: Authorization: Bearer <token>")
    return found


def require(request: Request, scope: str) -> Principal:
    who = principal(request)
    if not who.has(scope):
        raise ApiError(403, f"this token lacks the '{scope}' scope", requiredScope=scope)
    return who


def audit_actor(who: Principal) -> dict[str, Any]:
    """A caller as the registry's audit records it: the journal's ``by`` (id, channel ``rest``, ...)."""
    return actor_of(who, Channel.REST).to_json()


def parse_json(raw: bytes) -> Any:
    """Strict JSON (``engine.strict_json``): a 400 naming the field otherwise (``variables.amount``)."""
    try:
        return strict_json.loads(raw)
    except strict_json.JsonProblem as exc:
        if exc.path is None:
            raise ApiError(400, f"the body is not valid JSON: {exc}") from None
        raise ApiError(400, f"the body holds a value JSON cannot carry: {exc}", field=exc.path) from None


async def read_body(request: Request) -> bytes:
    limit: int = hub(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await read_body(request)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "this endpoint needs a JSON object body")
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise ApiError(400, f"the body must be a JSON object, not {type(value).__name__}")
    return value


def only_fields(body: dict[str, Any], allowed: set[str]) -> None:
    """400 naming every field of ``body`` that is not ``allowed`` (a typo is said, not ignored)."""
    unknown = set(body) - allowed
    if unknown:
        raise ApiError(400, f"unknown field {', '.join(sorted(repr(u) for u in unknown))}")


def field(
    body: dict[str, Any], name: str, kind: type[T] | tuple[type, ...], *, required: bool = False, default: Any = None
) -> Any:
    """``body[name]`` checked against ``kind``; a clear 400 naming the field otherwise."""
    if name not in body or body[name] is None:
        if required:
            raise ApiError(400, f"'{name}' is required")
        return default
    value = body[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ApiError(400, f"'{name}' must be {_kind_names(kinds)}, not a boolean")
    if not isinstance(value, kinds):
        raise ApiError(400, f"'{name}' must be {_kind_names(kinds)}, not {type(value).__name__}")
    return value


def _kind_names(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        dict: "an object",
        list: "an array",
        bool: "a boolean",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def int_param(
    request: Request, name: str, default: int | None = None, *, low: int = 0, high: int | None = None
) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter '{name}' must be an integer, not '{raw}'") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"query parameter '{name}' must be between {low} and {high}")
    return value


def path_int(request: Request, name: str) -> int:
    raw = request.path_params[name]
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(404, f"'{raw}' is not a valid id") from None


def page_params(request: Request) -> tuple[int, int | None]:
    limit = int_param(request, "limit", 100, low=1, high=MAX_PAGE)
    assert limit is not None
    return limit, int_param(request, "after")


def paged(items: Sequence[dict[str, Any]], limit: int, *, key: str = "id", total: int | None = None) -> JSONResponse:
    """``{"items": [...], "page": {"limit", "next"}}``: pass ``next`` as ``?after=`` to get the following page."""
    more = len(items) > limit
    shown = list(items[:limit])
    page: dict[str, Any] = {"limit": limit, "next": shown[-1][key] if more and shown else None}
    if total is not None:
        page["total"] = total
    return JSONResponse({"items": shown, "page": page})


def slice_page(items: Sequence[T], limit: int, after: int | None, key: Callable[[T], int]) -> list[T]:
    """One page (plus one item to tell whether there is more) of a list ordered by ``key``."""
    ordered = sorted(items, key=key)
    if after is not None:
        ordered = [i for i in ordered if key(i) > after]
    return ordered[: limit + 1]


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return problem(exc.status, exc.detail, title=exc.title, **exc.extra)
    if isinstance(exc, DeploymentError):
        problems = [
            {"file": p.source_name, "line": p.line, "element": p.element_id, "message": p.message} for p in exc.problems
        ]
        return problem(400, str(exc), title="Invalid BPMN", problems=problems)
    if isinstance(exc, FormInvalid):
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        return problem(400, str(exc), title="Invalid form input", errors=errors)
    if isinstance(exc, (NotFound, RegistryNotFound)):
        return problem(404, str(exc))
    if isinstance(exc, (Conflict, JobLost, RegistryConflict, ToolBlocked)):
        return problem(409, str(exc))
    if isinstance(exc, (InvalidInput, InvalidEntry, EngineError, RegistryError)):
        return problem(400, str(exc))
    if isinstance(exc, HTTPException):
        return problem(exc.status_code, str(exc.detail))
    raise exc


async def handle_error(request: Request, exc: Exception) -> Response:
    return _error(request, exc)


async def busy(request: Request, exc: Exception) -> Response:
    """D4: a database held by other writers past the busy timeout is a 503 to retry, never a 500."""
    answer = problem(
        503, "the hub's database is busy with other writers and nothing was done: retry in a second",
        title="Busy",
    )
    answer.headers["Retry-After"] = "1"
    return answer


async def internal_error(request: Request, exc: Exception) -> Response:
    """Any other exception, from a route or a middleware: a 500 problem, never Starlette's plain-text page.

    Starlette's ServerErrorMiddleware calls this, then re-raises, so the server still logs the traceback;
    the exception's text is not echoed, since it may hold what the caller must not see.
    """
    return problem(
        500,
        f"the hub failed on {request.method} {request.url.path} ({type(exc).__name__}); "
        "the hub's log has the details: try again, and report it if it persists",
    )


problem_handlers: dict[Any, Any] = {
    DatabaseBusy: busy,
    ApiError: handle_error,
    EngineError: handle_error,
    RegistryError: handle_error,
    HTTPException: handle_error,
    Exception: internal_error,  # Starlette hands this one to ServerErrorMiddleware, outside the guard
}
