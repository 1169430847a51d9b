"""Signing in and out of the console, and its front page.

``GET /login`` shows the form; ``POST /login`` with the form field ``token``
(an API token) verifies it, starts a session and answers 303 to ``next`` (a
path on this hub) or ``/``; a wrong token gets the form again with 401 and
nothing set. ``POST /logout`` ends the session (its CSRF token required) and
clears the cookie.

The cookie: HttpOnly (scripts never see it), SameSite=Lax (a form posted from
another site does not carry it), Secure when the hub is reached over TLS
(directly or behind a proxy that says so in the public URL), Path=/, and it
lasts as long as the session. A POST from another site is refused by the
Guard's Origin check before any of this runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub.web import COOKIE
from hub.web.render import blocking, form, hub_of, page, render, signed_in
from registry import DEFAULT_SESSION_S

__all__ = ["routes", "safe_next", "secure_cookie"]

_MAX_TOKEN = 512


def safe_next(raw: object) -> str:
    """Where to go after signing in: a path on this hub only (never another site, never ``//host``)."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw


def oidc_available(request: Request) -> bool:
    """Whether the login page offers signing in with the issuer (``AGENTHUB_OIDC_CLIENT_ID``)."""
    oidc = getattr(request.app.state, "oidc", None)
    return oidc is not None and bool(oidc.config.client_id)


def secure_cookie(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    base = getattr(hub_of(request).settings, "base_url", "")
    return isinstance(base, str) and base.startswith("https://")


@page
async def login_form(request: Request) -> Response:
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next")), "error": None,
                                          "oidc": oidc_available(request)})


@page
async def login(request: Request) -> Response:
    data = await request.form()
    token = data.get("token")
    target = safe_next(data.get("next"))
    registry = hub_of(request).registry
    who = None
    if isinstance(token, str) and 0 < len(token.strip()) <= _MAX_TOKEN:
        who = await blocking(registry.tokens.verify, token.strip())
    if who is None:
        error = ("That token is not valid (wrong, revoked or mistyped). Use an API token from `agenthub token "
                 "create` or the one `agenthub serve` printed on its first start.")
        return render(request, "login.html", {"next": target, "oidc": oidc_available(request), "error": error},
                      status=401)
    value, _session = await blocking(registry.sessions.create, who)
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(COOKIE, value, max_age=DEFAULT_SESSION_S, path="/", httponly=True, samesite="lax",
                      secure=secure_cookie(request))
    return answer


@page
async def logout(request: Request) -> Response:
    signed_in(request)
    await form(request)
    value = request.cookies.get(COOKIE, "")
    if value:
        await blocking(hub_of(request).registry.sessions.end, value)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookie(request))
    return answer


@page
async def home(request: Request) -> Response:
    return render(request, "home.html", {"who": signed_in(request)})


routes: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
