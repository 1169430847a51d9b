"""Signing in to the console with OpenID Connect: the authorization code flow with PKCE (RFC 7636).

Offered on the login page when ``AGENTHUB_OIDC_CLIENT_ID`` is set with the
issuer. ``GET /login/oidc`` sends the browser to the issuer's authorization
endpoint with a fresh ``state``, ``nonce`` and S256 code challenge, keeping
them (and where to go next) in a short-lived HttpOnly cookie bound to this
browser; ``GET /login/oidc/callback`` checks ``state`` against that cookie,
exchanges the code (with the verifier) at the token endpoint, verifies the
ID token with the same keys and checks as API tokens (``hub.oidc``), with the
client id as audience and the nonce sent, and starts a session for the
principal its claims describe. Nothing from the issuer is trusted before the
ID token's signature is: the code exchange happens server to server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub.oidc import OidcVerifier
from hub.web import COOKIE
from hub.web.render import PageError, blocking, hub_of, page
from hub.web.session import safe_next, secure_cookie
from registry import DEFAULT_SESSION_S

__all__ = ["routes"]

_PENDING = "agenthub_oidc"  # the cookie holding one sign-in's state, nonce and verifier
_PENDING_S = 600
_CALLBACK = "/login/oidc/callback"
log = logging.getLogger("agenthub.hub.console")


def _verifier(request: Request) -> OidcVerifier | None:
    found: OidcVerifier | None = getattr(request.app.state, "oidc", None)
    return found if found is not None and found.config.client_id else None


def _redirect_uri(request: Request) -> str:
    base: str = hub_of(request).settings.base_url
    return base.rstrip("/") + _CALLBACK


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@page
async def start(request: Request) -> Response:
    oidc = _verifier(request)
    if oidc is None:
        raise PageError(404, "signing in with OpenID Connect is not configured on this hub (AGENTHUB_OIDC_CLIENT_ID)")
    endpoints = await oidc.endpoints()
    if endpoints is None:
        raise PageError(502, f"the sign-in service {oidc.config.issuer} cannot be reached: try again, or sign in "
                             "with an API token")
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode({
        "response_type": "code", "client_id": oidc.config.client_id, "redirect_uri": _redirect_uri(request),
        "scope": "openid profile email", "state": state, "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()), "code_challenge_method": "S256",
    })
    pending = _b64(json.dumps({"state": state, "nonce": nonce, "verifier": verifier,
                               "next": safe_next(request.query_params.get("next"))}).encode())
    answer = RedirectResponse(f"{endpoints[0]}?{query}", status_code=303)
    answer.set_cookie(_PENDING, pending, max_age=_PENDING_S, path="/login/oidc", httponly=True, samesite="lax",
                      secure=secure_cookie(request))
    return answer


def _pending(request: Request) -> dict[str, str]:
    raw = request.cookies.get(_PENDING, "")
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("state", "nonce", "verifier")):
        raise PageError(400, "this sign-in was not started here, or took too long: start again from the login page")
    return {k: str(v) for k, v in data.items()}


@page
async def callback(request: Request) -> Response:
    oidc = _verifier(request)
    if oidc is None:
        raise PageError(404, "signing in with OpenID Connect is not configured on this hub")
    params = request.query_params
    if params.get("error"):
        raise PageError(401, f"the sign-in service refused: {params.get('error')}"
                             f"{' — ' + params['error_description'] if params.get('error_description') else ''}")
    pending = _pending(request)
    if not secrets.compare_digest(params.get("state", ""), pending["state"]):
        raise PageError(400, "the sign-in's state does not match this browser's: start again from the login page")
    code = params.get("code", "")
    endpoints = await oidc.endpoints()
    if not code or endpoints is None:
        raise PageError(400, "the sign-in service sent no code, or cannot be reached: start again")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": _redirect_uri(request),
            "client_id": oidc.config.client_id or "", "code_verifier": pending["verifier"]}
    if oidc.config.client_secret:
        form["client_secret"] = oidc.config.client_secret
    try:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as http:
            answer = await http.post(endpoints[1], data=form, headers={"Accept": "application/json"})
        answer.raise_for_status()
        tokens = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        log.warning("OpenID Connect: the code exchange at %s failed: %s", endpoints[1], type(error).__name__)
        raise PageError(502, "the sign-in service did not accept the code: start again") from None
    id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
    who = None
    if isinstance(id_token, str):
        who = await oidc.verify(id_token, audience=oidc.config.client_id, nonce=pending["nonce"])
    if who is None:
        raise PageError(401, "the sign-in service's answer could not be verified (see the hub's log): start again")
    value, _session = await blocking(hub_of(request).registry.sessions.create, who)
    done = RedirectResponse(pending.get("next") or "/", status_code=303)
    done.set_cookie(COOKIE, value, max_age=DEFAULT_SESSION_S, path="/", httponly=True, samesite="lax",
                    secure=secure_cookie(request))
    done.delete_cookie(_PENDING, path="/login/oidc")
    return done


routes: list[BaseRoute] = [
    Route("/login/oidc", start, methods=["GET"]),
    Route(_CALLBACK, callback, methods=["GET"]),
]
