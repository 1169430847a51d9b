"""MCP both ways: the hub's MCP server (processes as tools) and, alongside, the client of upstream servers.

The server (``McpEndpoint``, in ``protocols.mcp.server``) owns turning MCP
requests into engine calls: every exposed process is a tool, the hub's own
``agenthub_*`` tools list and complete work, process diagrams and instance
states are resources, and a task-augmented call is a process instance. It
does not know tokens, Host or Origin: the hub's guard checks them and hands
over a ``registry.Principal``; stdio is started for one principal.

    endpoint = McpEndpoint(engine, call_timeout_s=30)
    routes = [Route("/mcp", endpoint.asgi), Mount("/mcp", app=endpoint.asgi)]  # /mcp and /mcp/
    app = Starlette(routes=routes, lifespan=...)  # the lifespan enters endpoint.lifespan()
    await endpoint.run_stdio(principal)           # agenthub mcp

What is exposed and how to connect a desktop assistant: ``docs/MCP.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from protocols.mcp._builtin_tools import BuiltinTool, ToolRefusal
    from protocols.mcp.server import McpEndpoint

__all__ = ["BuiltinTool", "McpEndpoint", "ToolRefusal"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the MCP SDK takes most of a second to import, and the CLI's other commands,
    # which import this package's light modules (client_output, client_review), should not pay for it.
    if name == "McpEndpoint":
        from protocols.mcp.server import McpEndpoint

        return McpEndpoint
    if name in ("BuiltinTool", "ToolRefusal"):  # tools the hub adds beside the agenthub_* ones (extra_tools)
        from protocols.mcp import _builtin_tools

        return getattr(_builtin_tools, name)
    raise AttributeError(name)
