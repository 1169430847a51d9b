"""How every console page is made: Jinja2 templates (autoescaped), the signed-in principal, CSRF, errors as HTML.

A page endpoint is an ``async def (request) -> Response`` wrapped in ``@page``:
errors it raises (``PageError``, the REST layer's ``ApiError``, engine and
registry errors) become an HTML error page with the right status instead of
problem+json. Templates get ``principal``, ``csrf`` (the session's token for
forms), ``nav`` and ``may(scope)`` besides what the endpoint passes. Blocking
work (the engine, the registry) goes through ``blocking`` so the event loop
keeps serving while a query runs.

A form that changes state is read with ``await form(request)``, which refuses
(403) a request whose ``csrf`` field is not the session's token. A request
with a bearer token and no session (a script) has no CSRF to check: the token
in its header is not something a browser sends by itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hub.api.common import ApiError, Hub, _error, hub
from registry import Principal, Session

__all__ = [
    "PageError", "blocking", "form", "hub_of", "json_script", "page", "render", "require_page", "signed_in",
]

T = TypeVar("T")
_TEMPLATES = Path(__file__).parent / "templates"
NAV = (("/processes", "Processes"), ("/instances", "Instances"), ("/tasks", "Tasks"), ("/incidents", "Incidents"),
       ("/discover", "Discover"), ("/registry", "Registry"))
# Scripts only from the hub itself; inline scripts never (data travels in <script type="application/json">, which
# is not executed). Inline styles are allowed for the diagram library's SVG.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _millis(value: Any) -> str:
    """Epoch milliseconds as a UTC time people read (``2026-12-06 16:40:05``)."""
    if value is None or value == "":
        return ""
    try:
        at = dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def json_script(value: Any) -> Markup:
    """JSON safe to put inside ``<script type="application/json">``: ``<``, ``>``, ``&`` escaped as \\u sequences."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["millis"] = _millis
_env.filters["json_script"] = json_script
_env.filters["short"] = _short
_env.filters["pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2, default=str)


def signed_in(request: Request) -> Principal:
    who: Principal | None = getattr(request.state, "principal", None)
    if who is None:
        raise PageError(401, "sign in first")
    return who


def require_page(request: Request, scope: str) -> Principal:
    """The principal, when it holds ``scope``; else a 403 page saying which scope is missing."""
    who = signed_in(request)
    if not who.has(scope):
        raise PageError(403, f"'{who.name}' lacks the '{scope}' scope this needs: ask an admin for a token with it")
    return who


def session_of(request: Request) -> Session | None:
    found: Session | None = getattr(request.state, "session", None)
    return found


def hub_of(request: Request) -> Hub:
    return hub(request)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> Response:
    who: Principal | None = getattr(request.state, "principal", None)
    session = session_of(request)
    values = {
        "request": request, "principal": who, "csrf": session.csrf if session else "", "nav": NAV,
        "path": request.url.path, "may": (lambda scope: who is not None and who.has(scope)),
        **(context or {}),
    }
    html = _env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


async def form(request: Request) -> FormData:
    """The submitted form of a state-changing request, after its CSRF check."""
    data = await request.form()
    session = session_of(request)
    if session is not None:
        sent = data.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
            raise PageError(403, "this form is out of date or was not sent from the console (CSRF check failed): "
                                 "reload the page and try again")
    return data


def page(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A console page: what it raises is shown as an HTML error page with the right status."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except PageError as exc:
            status, message = exc.status, exc.message
        except ApiError as exc:
            status, message = exc.status, exc.detail
        except Exception as exc:
            answer = _error(request, exc)  # engine and registry errors: the REST layer's status and words
            status = answer.status_code
            message = json.loads(bytes(answer.body)).get("detail", "")
        return render(request, "error.html", {"status": status, "message": message}, status=status)

    return wrapped
