"""The console's registry: MCP servers and their pinned tools, A2A agents and their cards, API tokens and people.

What each part needs mirrors the REST API (``hub.api.mcp_servers``,
``hub.api.admin``): servers and agents are read with ``read``; approving,
removing, tokens and users need ``admin``. A principal sees only the parts
its scopes allow, is offered only what it may do, and gets a 403 page for
anything else it tries.

A changed MCP tool is shown as a unified diff of its approved definition
against the one seen upstream (indented, key-sorted JSON), and approving it
sends the hash that was reviewed: if the tool changed again meanwhile, the
approval is refused (409) rather than approving something nobody saw. A tool
can also be rejected (with a reason, for the audit): it stays blocked, and a
further change upstream is held for review anew; removing the server forgets
it altogether.

A new token's secret is shown once, on the page that answers its creation,
and never again (the registry keeps only its digest).
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Channel
from hub.api.mcp_servers import _fetch as fetch_tools  # the REST route's fetch: egress checked the same way
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page
from hub.web.untrusted import clip, visible
from protocols.a2a import CardError, fetch_card
from protocols.actors import actor_of
from protocols.http import EgressPolicy
from registry import SCOPES, PinnedTool, Principal, Registry, RegistryConflict

__all__ = ["routes"]

_DIFF_LINES = 400
# What a redirect after an action says: chosen by a code in the URL, so a link cannot put words on the page.
_SAID = {"approved": "Tool approved", "rejected": "Change rejected: the tool stays blocked",
         "fetched": "Tools fetched: nothing changed",
         "changes": "Tools fetched: review what changed below", "server-removed": "Server removed",
         "agent-approved": "Agent card approved", "agent-removed": "Agent removed", "token-revoked": "Token revoked",
         "user-added": "Person added", "user-removed": "Person removed (and their tokens revoked)"}


def _pretty(definition: dict[str, Any] | None) -> list[str]:
    text = json.dumps(definition or {}, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return text.splitlines()


def tool_diff(tool: PinnedTool) -> list[tuple[str, str]]:
    """The approved definition against the one seen upstream, as (kind, line) pairs: ``+``, ``-``, ``@`` or `` ``."""
    if tool.approved_definition is None or tool.hash == tool.approved_hash:
        return []
    lines = difflib.unified_diff(_pretty(tool.approved_definition), _pretty(tool.definition), "approved",
                                 "seen upstream", lineterm="", n=3)
    out: list[tuple[str, str]] = []
    for line in lines:
        kind = line[:1] if line[:1] in "+-@" and not line.startswith(("+++", "---")) else " "
        out.append((kind, visible(line[:2000])))
        if len(out) >= _DIFF_LINES:
            out.append((" ", "… (the diff goes on; see GET /api/v1/mcp-servers/{name}/tools)"))
            break
    return out


def _overview(registry: Registry, admin: bool) -> dict[str, Any]:
    servers = []
    for server in registry.mcp.all():
        tools = registry.mcp.tools(server.name)
        held = [t for t in tools if not t.callable and t.state != "removed"]
        servers.append({"server": server, "tools": tools, "held": len(held)})
    agents = [{"agent": a, "card": clip(a.card, 20_000), "title": clip(str(a.card.get("name") or a.name), 80)}
              for a in registry.agents.all()]
    return {
        "servers": servers, "agents": agents,
        "tokens": registry.tokens.all() if admin else [],
        "users": registry.users.all() if admin else [],
    }


@page
async def overview(request: Request) -> Response:
    who = require_page(request, "read")
    admin = who.has("admin")
    context = await blocking(_overview, hub_of(request).registry, admin)
    return render(request, "registry.html", {**context, "admin": admin, "scopes": SCOPES, "created": None,
                                             "message": _SAID.get(request.query_params.get("message", ""))})


def _server_page(registry: Registry, name: str) -> dict[str, Any]:
    server = registry.mcp.get(name)
    tools = [{"tool": t, "diff": tool_diff(t) if t.state == "changed" else [],
              "definition": clip(t.definition, 20_000)} for t in registry.mcp.tools(name)]
    return {"server": server, "tools": tools}


@page
async def server_page(request: Request) -> Response:
    who = require_page(request, "read")
    context = await blocking(_server_page, hub_of(request).registry, request.path_params["name"])
    return render(request, "registry_mcp.html", {**context, "admin": who.has("admin"),
                                                 "message": _SAID.get(request.query_params.get("message", ""))})


def _by(who: Principal) -> dict[str, Any]:
    """The audit's record of a registry change made in the console (the journal's ``by``, channel ``console``)."""
    return actor_of(who, Channel.CONSOLE).to_json()


@page
async def approve_tool(request: Request) -> Response:
    """What ``POST /api/v1/mcp-servers/{name}/approve`` with ``{"tool", "hash"}`` does."""
    who = require_page(request, "admin")
    data = await form(request)
    name = request.path_params["name"]
    tool, expected = data.get("tool"), data.get("hash")
    if not isinstance(tool, str) or not isinstance(expected, str) or not tool or not expected:
        raise PageError(400, "approve one tool, with the hash of the definition you reviewed")
    registry = hub_of(request).registry
    current = (await blocking(registry.mcp.tool, name, tool)).hash
    if current != expected:
        raise PageError(409, f"tool '{tool}' changed again since you reviewed it: look at its diff again")
    try:
        await blocking(registry.mcp.approve, name, tool, expected_hash=expected, actor=_by(who))
    except RegistryConflict as exc:
        raise PageError(409, str(exc)) from None
    return RedirectResponse(f"/registry/mcp/{name}?message=approved", status_code=303)


@page
async def reject_tool(request: Request) -> Response:
    """What ``POST /api/v1/mcp-servers/{name}/reject`` with ``{"tool", "hash", "reason"}`` does."""
    who = require_page(request, "admin")
    data = await form(request)
    name = request.path_params["name"]
    tool, expected, reason = data.get("tool"), data.get("hash"), data.get("reason")
    if not isinstance(tool, str) or not isinstance(expected, str) or not tool or not expected:
        raise PageError(400, "reject one tool, with the hash of the definition you reviewed")
    if not isinstance(reason, str) or not reason.strip():
        raise PageError(400, "say why you reject the change: the reason goes into the registry's audit")
    try:
        await blocking(hub_of(request).registry.mcp.reject, name, tool, expected_hash=expected,
                       reason=reason.strip(), actor=_by(who))
    except RegistryConflict as exc:
        raise PageError(409, str(exc)) from None
    return RedirectResponse(f"/registry/mcp/{name}?message=rejected", status_code=303)


@page
async def refresh_server(request: Request) -> Response:
    """What ``GET /api/v1/mcp-servers/{name}/tools?refresh=true`` does (``read``): fetch the tools and record them."""
    who = require_page(request, "read")
    await form(request)
    registry = hub_of(request).registry
    name = request.path_params["name"]
    server = await blocking(registry.mcp.get, name)
    report = await blocking(registry.mcp.sync, name, await fetch_tools(request, server), actor=_by(who))
    changed = len(report.added) + len(report.changed) + len(report.removed)
    return RedirectResponse(f"/registry/mcp/{name}?message={'changes' if changed else 'fetched'}",
                            status_code=303)


@page
async def remove_server(request: Request) -> Response:
    who = require_page(request, "admin")
    await form(request)
    await blocking(hub_of(request).registry.mcp.remove, request.path_params["name"], actor=_by(who))
    return RedirectResponse("/registry?message=server-removed", status_code=303)


@page
async def approve_agent(request: Request) -> Response:
    """What ``POST /api/v1/agents/{name}/approve`` does: fetch the card again and approve it as it is now."""
    who = require_page(request, "admin")
    await form(request)
    registry = hub_of(request).registry.agents
    name = request.path_params["name"]
    agent = await blocking(registry.get, name)
    try:
        card = await fetch_card(agent.url, egress=EgressPolicy.from_env(hub_of(request).settings.http_allow),
                                token_env=agent.token_env)
    except CardError as exc:
        raise PageError(400, str(exc)) from None
    await blocking(registry.refresh, name, card, actor=_by(who))
    await blocking(registry.approve, name, actor=_by(who))
    return RedirectResponse("/registry?message=agent-approved", status_code=303)


@page
async def remove_agent(request: Request) -> Response:
    who = require_page(request, "admin")
    await form(request)
    await blocking(hub_of(request).registry.agents.remove, request.path_params["name"], actor=_by(who))
    return RedirectResponse("/registry?message=agent-removed", status_code=303)


@page
async def create_token(request: Request) -> Response:
    """The answer is the registry page with the new secret on it: the one time anyone sees it."""
    who = require_page(request, "admin")
    data = await form(request)
    name = str(data.get("name") or "").strip()
    user = str(data.get("user") or "").strip() or None
    scopes = [s for s in data.getlist("scopes") if isinstance(s, str)]
    if not name and user is None:
        raise PageError(400, "give the token a name (or the user it is for)")
    registry = hub_of(request).registry
    info, secret = await blocking(registry.tokens.create, name or "token", scopes, user=user, actor=_by(who))
    context = await blocking(_overview, registry, who.has("admin"))
    return render(request, "registry.html", {**context, "admin": True, "scopes": SCOPES,
                                             "created": {"info": info, "secret": secret}, "message": None})


@page
async def revoke_token(request: Request) -> Response:
    who = require_page(request, "admin")
    await form(request)
    await blocking(hub_of(request).registry.tokens.revoke, request.path_params["tokenId"], actor=_by(who))
    return RedirectResponse("/registry?message=token-revoked#tokens", status_code=303)


@page
async def add_user(request: Request) -> Response:
    who = require_page(request, "admin")
    data = await form(request)
    groups = [g.strip() for g in str(data.get("groups") or "").split(",") if g.strip()]
    await blocking(hub_of(request).registry.users.add, str(data.get("id") or "").strip(),
                   str(data.get("name") or "").strip() or None, groups, actor=_by(who))
    return RedirectResponse("/registry?message=user-added#users", status_code=303)


@page
async def remove_user(request: Request) -> Response:
    who = require_page(request, "admin")
    await form(request)
    await blocking(hub_of(request).registry.users.remove, request.path_params["userId"], actor=_by(who))
    return RedirectResponse("/registry?message=user-removed#users", status_code=303)


routes: list[BaseRoute] = [
    Route("/registry", overview, methods=["GET"]),
    Route("/registry/mcp/{name}", server_page, methods=["GET"]),
    Route("/registry/mcp/{name}/approve", approve_tool, methods=["POST"]),
    Route("/registry/mcp/{name}/reject", reject_tool, methods=["POST"]),
    Route("/registry/mcp/{name}/refresh", refresh_server, methods=["POST"]),
    Route("/registry/mcp/{name}/remove", remove_server, methods=["POST"]),
    Route("/registry/agents/{name}/approve", approve_agent, methods=["POST"]),
    Route("/registry/agents/{name}/remove", remove_agent, methods=["POST"]),
    Route("/registry/tokens", create_token, methods=["POST"]),
    Route("/registry/tokens/{tokenId}/revoke", revoke_token, methods=["POST"]),
    Route("/registry/users", add_user, methods=["POST"]),
    Route("/registry/users/{userId}/remove", remove_user, methods=["POST"]),
]
