"""The SDK's Streamable HTTP session manager, with a cap on the sessions each token holds (RELIABILITY.md M15).

The SDK keeps every stateful session in one table with one global cap
(``max_sessions``, 503 once full), so one token that opens sessions in a
loop locks every other caller out, the admin included. ``TokenSessions``
decides admission itself, under the SDK's session-creation lock, so
parallel ``initialize`` requests cannot overshoot:

1. a token that already holds ``per_token`` sessions is refused
   (``SessionRefused``, 429);
2. the whole table still has a ceiling (``total``, 503), which admin tokens
   pass, so the people who can revoke a flooding token can always get in
   (each admin token is still held to ``per_token``).

Sessions end as the SDK ends them: DELETE, idle expiry (``idle_s`` with no
request in flight), shutdown; their id then answers 404 and the place is
free again. The refusal is raised, not answered, so ``_http.McpHttpFront``
owns every HTTP answer of its own.

This overrides the SDK's private ``_admit_session`` (pinned ``mcp==2.3.0``)
rather than counting sessions in front of the SDK from the responses it
sends: only the SDK knows when a session expires, and a count kept outside
it would drift. ``tests/hub/test_mcp_sessions.py`` fails if the hook moves.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from typing import Any

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, AuthorizationContext
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from protocols.mcp._events import RETRY_MS, RecentEvents

# The caller of the request being admitted: `_admit_session` is handed only the owner's identity, not its scopes.
_caller: ContextVar[AuthenticatedUser | None] = ContextVar("agenthub_mcp_caller", default=None)


class SessionRefused(Exception):
    """A new session was not opened: ``status`` 429 (this token's cap) or 503 (the whole table)."""

    def __init__(self, status: int, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


class TokenSessions(StreamableHTTPSessionManager):
    """Stateful Streamable HTTP sessions, at most ``per_token`` per token and ``total`` in all (admins excepted)."""

    def __init__(
        self, app: Any, *, per_token: int, total: int, idle_s: float, max_body: int
    ) -> None:
        super().__init__(
            app=app,
            json_response=False,
            stateless=False,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),  # the hub's guard
            session_idle_timeout=idle_s,
            max_request_body_size=max_body,
            max_sessions=None,  # decided in _admit_session
            event_store=RecentEvents(),  # SSE priming events and Last-Event-ID replay (_events)
            retry_interval=RETRY_MS,
        )
        self.per_token = per_token
        self.total = total
        self.idle_s = idle_s

    async def _handle_stateful_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        reset = _caller.set(user if isinstance(user, AuthenticatedUser) else None)
        try:
            await super()._handle_stateful_request(scope, receive, send)
        finally:
            _caller.reset(reset)

    def _admit_session(self, requestor: AuthorizationContext | None) -> StreamableHTTPServerTransport | None:
        caller = _caller.get()
        admin = caller is not None and "admin" in caller.access_token.scopes
        if not admin and len(self._server_instances) >= self.total:
            raise SessionRefused(
                503, f"the hub holds its most MCP sessions ({self.total}): retry later", self._retry_after(None)
            )
        held = self.held_by(requestor)
        if len(held) >= self.per_token:
            raise SessionRefused(
                429,
                f"this token already holds {self.per_token} MCP sessions, its most: end one (DELETE with its "
                "Mcp-Session-Id) or wait for an idle one to expire",
                self._retry_after(held),
            )
        return super()._admit_session(requestor)

    def held_by(self, requestor: AuthorizationContext | None) -> list[str]:
        """The ids of the open sessions owned by ``requestor``."""
        return [sid for sid, owner in self._session_owners.items() if owner == requestor]

    def _retry_after(self, held: list[str] | None) -> int:
        """Whole seconds until the first of these sessions (None: any) would expire if left idle."""
        ids = self._server_instances if held is None else held
        now = anyio.current_time()
        soonest = float(self.idle_s)
        for sid in ids:
            transport = self._server_instances.get(sid)
            scope = transport.idle_scope if transport is not None else None
            if scope is not None and math.isfinite(scope.deadline):
                soonest = min(soonest, scope.deadline - now)
        return max(1, math.ceil(soonest))
