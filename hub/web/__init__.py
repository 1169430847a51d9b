"""The web console: processes, instances, tasks, incidents, the registry and the agent inspector, in a browser.

Served by the hub itself at ``/`` (hub/app.py mounts ``hub.web.routes.routes``),
rendered on the server with Jinja2 (autoescaping everywhere: agent output and
tool results are untrusted), with JavaScript only where it is needed (the
diagram, forms, live updates). Sign-in makes a session (``registry.sessions``):
the cookie is HttpOnly, SameSite=Lax, Secure over TLS; every state-changing
form carries the session's CSRF token. The hub's Guard authenticates console
paths by that cookie (or a bearer token), so every page has
``request.state.principal`` like a REST route.
"""

from __future__ import annotations

import re

__all__ = ["COOKIE", "is_console_path", "is_public_console_path"]

COOKIE = "agenthub_session"
# Everything that is not the API, a protocol endpoint, health or a well-known document is the console's.
_NOT_CONSOLE = re.compile(r"^/(api/|v2(/|$)|mcp(/|$)|a2a(/|$)|health(/|$)|metrics$|\.well-known/)")
_PUBLIC = re.compile(r"^/(login(/oidc(/callback)?)?|static/.+|favicon\.ico)$")


def is_console_path(path: str) -> bool:
    return _NOT_CONSOLE.match(path) is None


def is_public_console_path(path: str) -> bool:
    return _PUBLIC.match(path) is not None
