"""The stable names federated tools go by on ``/mcp``.

- an upstream MCP tool: ``<server>__<tool>`` (``files__read_file``);
- a registered A2A agent: ``a2a__<agent>`` (so a server named ``a2a`` is never federated).

A name is offered only when it is a valid MCP tool name (SEP-986:
``[A-Za-z0-9._-]``, 1 to 128 characters), so a tool whose upstream name or
server name breaks that rule is not federated, rather than renamed into
something that could collide. Server names cannot hold ``__`` ambiguity: the
server is everything before the *first* ``__``, so a server name containing
``__`` is not federated either. A process id of the same shape is shadowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["A2A_PREFIX", "SEPARATOR", "FederatedName", "agent_tool_name", "mcp_tool_name", "parse"]

SEPARATOR = "__"
A2A_PREFIX = "a2a"
_TOOL_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@dataclass(frozen=True, slots=True)
class FederatedName:
    """What a federated name points at: an MCP server's tool (``tool`` set) or an A2A agent (``tool`` None)."""

    owner: str  # the server's or the agent's registry name
    tool: str | None

    @property
    def is_agent(self) -> bool:
        return self.tool is None


def mcp_tool_name(server: str, tool: str) -> str | None:
    """``server__tool``, or None when that is no valid, unambiguous tool name."""
    if SEPARATOR in server or server == A2A_PREFIX or not tool:
        return None
    name = f"{server}{SEPARATOR}{tool}"
    return name if _TOOL_NAME.match(name) else None


def agent_tool_name(agent: str) -> str | None:
    name = f"{A2A_PREFIX}{SEPARATOR}{agent}"
    return name if _TOOL_NAME.match(name) else None


def parse(name: str) -> FederatedName | None:
    """The server and tool, or agent, a name of the federated shape points at; None for any other name."""
    owner, separator, rest = name.partition(SEPARATOR)
    if not separator or not owner or not rest or not _TOOL_NAME.match(name):
        return None
    if owner == A2A_PREFIX:
        return FederatedName(rest, None)
    return FederatedName(owner, rest)
