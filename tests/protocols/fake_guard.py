"""A stand-in for the hub's guard in front of a protocol endpoint under test.

``Authorization: Bearer <name>`` makes the principal ``<name>`` with the
scopes its table gives (no real tokens); any other request reaches the
endpoint without a principal, as an unauthenticated one would never reach it
through the real guard.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from registry import Principal


class FakeGuard:
    """Sets ``scope["state"]["principal"]`` from the bearer name, as the hub's guard does after verifying a token."""

    def __init__(self, app: ASGIApp, *, principals: Mapping[str, frozenset[str]]) -> None:
        self.app = app
        self.principals = principals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            name = auth.removeprefix("Bearer ")
            if auth.startswith("Bearer ") and name in self.principals:
                who = Principal(name=name, scopes=self.principals[name], token_id=f"id-{name}")
                scope = {**scope, "state": {**scope.get("state", {}), "principal": who}}
        await self.app(scope, receive, send)
