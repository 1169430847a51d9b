"""API tokens (``/api/v1/tokens``), local users (``/api/v1/users``), remote A2A agents (``/api/v1/agents``) and
the registry's audit of changes to them (``/api/v1/audit``).

The admin's side of the registry.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import ApiError, audit_actor, field, hub, int_param, json_body, require
from protocols.a2a import CardError, fetch_card
from protocols.http import EgressPolicy


async def list_tokens(request: Request) -> Response:
    require(request, "admin")
    tokens = await asyncio.to_thread(hub(request).registry.tokens.all)
    return JSONResponse({"items": [t.to_json() for t in tokens]})


async def create_token(request: Request) -> Response:
    """``{"name", "scopes": [...], "user"}``; the answer holds the token, shown this once.

    With ``user`` the token is a person's: it authenticates as that user (``name`` then defaults to "token").
    """
    who = require(request, "admin")
    body = await json_body(request)
    scopes = _strings(body, "scopes", required=True) or []
    user = field(body, "user", str)
    name = field(body, "name", str, required=user is None, default="token")
    info, secret = await asyncio.to_thread(hub(request).registry.tokens.create, name, scopes, user=user,
                                           actor=audit_actor(who))
    return JSONResponse({**info.to_json(), "token": secret}, status_code=201)


def _strings(body: dict[str, Any], name: str, *, required: bool = False) -> list[str] | None:
    values: list[Any] | None = field(body, name, list, required=required)
    if values is not None and not all(isinstance(v, str) for v in values):
        raise ApiError(400, f"'{name}' must be an array of strings")
    return values


async def list_users(request: Request) -> Response:
    require(request, "admin")
    users = await asyncio.to_thread(hub(request).registry.users.all)
    return JSONResponse({"items": [u.to_json() for u in users]})


async def add_user(request: Request) -> Response:
    """``{"id", "name", "groups": [...]}``; an id taken already is 409."""
    who = require(request, "admin")
    body = await json_body(request)
    user = await asyncio.to_thread(
        hub(request).registry.users.add,
        field(body, "id", str, required=True),
        field(body, "name", str),
        _strings(body, "groups") or (),
        actor=audit_actor(who),
    )
    return JSONResponse(user.to_json(), status_code=201)


async def update_user(request: Request) -> Response:
    """``{"name", "groups": [...]}``: what is given replaces the user's; their tokens see it at once."""
    who = require(request, "admin")
    body = await json_body(request)
    user = await asyncio.to_thread(
        hub(request).registry.users.update,
        request.path_params["userId"],
        name=field(body, "name", str),
        groups=_strings(body, "groups"),
        actor=audit_actor(who),
    )
    return JSONResponse(user.to_json())


async def remove_user(request: Request) -> Response:
    """Remove a user and revoke their tokens; the answer names the tokens revoked."""
    who = require(request, "admin")
    user_id = request.path_params["userId"]
    revoked = await asyncio.to_thread(hub(request).registry.users.remove, user_id, actor=audit_actor(who))
    return JSONResponse({"removed": user_id, "revokedTokens": revoked})


async def revoke_token(request: Request) -> Response:
    who = require(request, "admin")
    ids = await asyncio.to_thread(hub(request).registry.tokens.revoke, request.path_params["tokenId"],
                                  actor=audit_actor(who))
    return JSONResponse({"revoked": ids})


async def list_audit(request: Request) -> Response:
    """The registry's audit, newest first: who (``actor``, and in ``data.by`` how) changed a token, a user, an MCP
    server or tool, or an A2A agent. ``subject`` (``user:ada``, ``token:<id>``, ``mcp:<server>``) narrows it;
    ``limit`` is at most 1000."""
    require(request, "admin")
    limit = int_param(request, "limit", 100, low=1, high=1000)
    assert limit is not None
    subject = request.query_params.get("subject") or None
    events = await asyncio.to_thread(hub(request).registry.store.events, subject, limit)
    return JSONResponse({"items": events})


def _egress(request: Request) -> EgressPolicy:
    """Where a card may be fetched from: the allow-list calls to agents obey (AGENTHUB_HTTP_ALLOW)."""
    return EgressPolicy.from_env(hub(request).settings.http_allow)


async def list_agents(request: Request) -> Response:
    require(request, "read")
    agents = await asyncio.to_thread(hub(request).registry.agents.all)
    return JSONResponse({"items": [a.to_json() for a in agents]})


async def get_agent(request: Request) -> Response:
    require(request, "read")
    agent = await asyncio.to_thread(hub(request).registry.agents.get, request.path_params["name"])
    return JSONResponse({**agent.to_json(), "card": agent.card})


async def add_agent(request: Request) -> Response:
    """``{"name", "url", "tokenEnv"}``: fetches the agent's card and pins it.

    A URL whose host resolves to an address the egress allow-list does not admit is 400, and nothing is contacted.
    """
    who = require(request, "admin")
    body = await json_body(request)
    name = field(body, "name", str, required=True)
    url = field(body, "url", str, required=True)
    token_env = field(body, "tokenEnv", str)
    try:
        card = await fetch_card(url, egress=_egress(request), token_env=token_env)
    except CardError as exc:
        raise ApiError(400, str(exc)) from None
    agent = await asyncio.to_thread(
        hub(request).registry.agents.add, name, url, card, token_env=token_env, actor=audit_actor(who)
    )
    return JSONResponse(agent.to_json(), status_code=201)


async def remove_agent(request: Request) -> Response:
    who = require(request, "admin")
    await asyncio.to_thread(hub(request).registry.agents.remove, request.path_params["name"], actor=audit_actor(who))
    return Response(status_code=204)


async def approve_agent(request: Request) -> Response:
    """Re-fetch the card and approve it as it is now."""
    who = require(request, "admin")
    registry = hub(request).registry.agents
    name = request.path_params["name"]
    agent = await asyncio.to_thread(registry.get, name)
    try:
        card = await fetch_card(agent.url, egress=_egress(request), token_env=agent.token_env)
    except CardError as exc:
        raise ApiError(400, str(exc)) from None
    await asyncio.to_thread(registry.refresh, name, card, actor=audit_actor(who))
    approved = await asyncio.to_thread(registry.approve, name, actor=audit_actor(who))
    return JSONResponse(approved.to_json())


routes: list[BaseRoute] = [
    Route("/api/v1/tokens", list_tokens, methods=["GET"]),
    Route("/api/v1/tokens", create_token, methods=["POST"]),
    Route("/api/v1/tokens/{tokenId}", revoke_token, methods=["DELETE"]),
    Route("/api/v1/users", list_users, methods=["GET"]),
    Route("/api/v1/users", add_user, methods=["POST"]),
    Route("/api/v1/users/{userId}", update_user, methods=["PATCH"]),
    Route("/api/v1/users/{userId}", remove_user, methods=["DELETE"]),
    Route("/api/v1/audit", list_audit, methods=["GET"]),
    Route("/api/v1/agents", list_agents, methods=["GET"]),
    Route("/api/v1/agents", add_agent, methods=["POST"]),
    Route("/api/v1/agents/{name}", get_agent, methods=["GET"]),
    Route("/api/v1/agents/{name}", remove_agent, methods=["DELETE"]),
    Route("/api/v1/agents/{name}/approve", approve_agent, methods=["POST"]),
]
