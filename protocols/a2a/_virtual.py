"""Virtual A2A agents at ``/a2a/{name}``: a virtual server's processes as the skills of one agent, for its principals.

A virtual server (``registry.VirtualServer``) marked ``a2a`` is served, beside
``/mcp/{name}``, as an A2A agent at ``/a2a/{name}`` with its own card
(``/a2a/{name}/.well-known/agent-card.json``, public as every card is). It is
the hub's endpoint (``/a2a``) narrowed to the set:

1. the verified principal must be admitted (``VirtualServer.admits``), else
   403 before anything else is read or run (``server.A2AEndpoint._gate``);
2. a message names its skill in ``metadata.skillId``; a skill outside the set
   is refused as unknown, and a task of a process outside it is neither found
   nor listed;
3. every message accepted through it, and every one refused by the set or the
   allow list, writes the gateway's audit row (``protocols.gateway.audit``'s
   kind ``gateway.call``, subject ``gateway:<skill>``) with the principal, the
   channel ``a2a`` and the server's name (``virtual``): the journal of ``/mcp``
   and ``/mcp/{name}`` holds these calls too.

A virtual agent's name takes ``/a2a/{name}`` over a process of the same id
(that process stays reachable at ``/a2a`` by its skill id). The definition is
read at every request. Only processes are skills: the federated tools and A2A
agents of the set are offered on ``/mcp/{name}`` alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from a2a.server.context import ServerCallContext
from a2a.types import AgentCard

from engine import Channel
from engine.exposure import ToolSpec
from protocols.a2a._cards import _card, agent_path, skill
from protocols.actors import actor_of
from protocols.gateway.audit import AUDIT_KIND, arguments_digest
from registry import Principal, Registry, VirtualServer

__all__ = ["VIRTUAL", "VirtualAgents", "virtual_card", "virtual_of", "within"]

VIRTUAL = "virtualAgent"
"""``ServerCallContext.state`` (and ``scope["state"]``) key of the virtual server a request was sent to."""


def virtual_of(context: ServerCallContext) -> VirtualServer | None:
    found = context.state.get(VIRTUAL)
    return found if isinstance(found, VirtualServer) else None


def within(context: ServerCallContext, process_id: str) -> bool:
    """Whether ``process_id`` may be reached by this request: always, unless it came through a virtual agent."""
    server = virtual_of(context)
    return server is None or process_id in server.processes


def virtual_card(
    server: VirtualServer, specs: Sequence[ToolSpec], base_url: str, version: str, *, extended: bool, push: bool
) -> AgentCard:
    """The card at ``/a2a/{name}``: the set's exposed processes as skills."""
    offered = [s for s in specs if s.process_id in server.processes]
    return _card(
        name=server.name,
        description=(server.description or f"The virtual agent '{server.name}'") +
        " Name the skill (a process id) in the message's metadata.skillId.",
        url=base_url.rstrip("/") + agent_path(server.name),
        base_url=base_url,
        version=version,
        skills=[skill(spec, extended=extended) for spec in offered],
        push=push,
    )


class VirtualAgents:
    """The registry's virtual servers served as agents, and the audit row of each call through one (blocking)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def find(self, name: str) -> VirtualServer | None:
        found = self.registry.virtual.find(name)
        return found if found is not None and found.a2a else None

    def refuse(self, principal: Principal, server: VirtualServer) -> str:
        """Audit a principal ``server`` does not admit, and say why it is refused (the 403's message)."""
        self.audit(principal, server, "", "denied", time.monotonic(), reason="not admitted")
        return (f"permission denied: '{principal.name}' may not use the virtual agent '{server.name}' (an admin "
                f"allows users or groups with `agenthub mcp-server virtual add {server.name} --a2a --allow-user "
                "... --allow-group ...`)")

    def audit(
        self, principal: Principal, server: VirtualServer, skill_id: str, outcome: str, began: float,
        **details: Any,
    ) -> None:
        """One row; ``argumentsHash`` given as the message's variables is kept as their hash, as on ``/mcp``."""
        if isinstance(details.get("argumentsHash"), dict):
            details["argumentsHash"] = arguments_digest(details["argumentsHash"])
        data = {"tool": skill_id, "process": skill_id, "principal": principal.name, "outcome": outcome,
                "virtual": server.name, "latencyMs": round((time.monotonic() - began) * 1000, 3),
                **{k: v for k, v in details.items() if v is not None}}
        with self.registry.store.begin() as conn:
            self.registry.store.audit(conn, AUDIT_KIND, f"gateway:{skill_id or '-'}", data,
                                      actor=actor_of(principal, Channel.A2A).to_json())
