"""Camunda's MCP client connectors, job types ``io.camunda.agenticai:mcpclient:1`` and ``mcpremoteclient:1``.

Both run on the ``mcp`` job type's machinery (``tool_task.McpToolTask``: its
pooled sessions, its egress allow-list, its pin check), under Camunda's input
names and result shapes. Which upstream server an element reaches is always a
server registered in our registry, so its tools are pinned and its
credentials are the entry's:

- ``mcpclient:1``: ``data.client.clientId`` is the registered server's name;
- ``mcpremoteclient:1``: ``data.transport.type`` ``http`` and
  ``data.transport.http.url`` must be the URL of a registered HTTP server
  (trailing ``/`` aside), after the operator's routes (``AGENTHUB_HTTP_ROUTES``,
  ``protocols.http.routes``) sent it where they say. An unregistered URL is refused (no retries, an
  incident saying how to register it): an agent never reaches a server nobody
  registered, and never a tool nobody approved. The element's
  ``authentication`` and ``headers`` are not sent; the registry entry's are.
  ``sse`` is refused: the registry's servers speak streamable HTTP or stdio.

``data.connectorMode.type``:

- ``aiAgentTool`` (an agent's gateway, ``engine.agent.gateway``):
  ``toolOperation.method`` ``tools/list`` answers ``{toolDefinitions: [{name,
  description, inputSchema}]}`` with the pinned and approved tools that pass
  ``toolModeFilters.tools.included/excluded``; ``tools/call`` with
  ``params.name``/``params.arguments`` answers ``{name, content, isError}``.
  A tool that is filtered out, or blocked by its pin, answers ``isError`` with
  the reason, so the agent's model is told instead of the instance stopping.
- ``standalone``: ``operation.type`` ``tools/list`` or ``tools/call``
  (``operation.toolName``, ``operation.toolArguments``), filtered by
  ``standaloneModeFilters.tools``; the same answers. A blocked or filtered tool
  fails the job (an incident once retries run out), as the ``mcp`` job type does.
  Also ``resources/list``, ``resources/templates/list``, ``resources/read``
  (``operation.resourceUri``), filtered by ``standaloneModeFilters.resources``
  (URIs), and ``prompts/list``, ``prompts/get`` (``operation.promptName``,
  ``operation.promptArguments``), filtered by ``standaloneModeFilters.prompts``,
  with Camunda's shapes (``camunda_results``). Resources and prompts are not
  pinned (the registry pins tools); they are read on a session of their own.

The answer goes through Camunda's task headers (``resultVariable``,
``resultExpression``, ``errorExpression``: ``protocols.http.outbound``, which
the hub wraps these handlers with). Not done: ``data.connectorMode.meta``
(not sent); ``sse``; documents (blobs stay base64 in the result).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

from engine.agent.camunda import nested
from engine.scheduler import Job
from protocols.http import ConnectorInputError
from protocols.http.routes import HttpRoutes
from protocols.mcp.camunda_results import passes, shaped
from protocols.mcp.client import connect, deadline
from protocols.mcp.tool_task import McpToolTask
from registry import McpServer, RegistryNotFound, ToolBlocked

__all__ = ["MCP_CLIENT_JOB_TYPE", "MCP_REMOTE_CLIENT_JOB_TYPE", "CamundaMcpClient"]

MCP_CLIENT_JOB_TYPE: Final = "io.camunda.agenticai:mcpclient:1"
MCP_REMOTE_CLIENT_JOB_TYPE: Final = "io.camunda.agenticai:mcpremoteclient:1"
_TOOL_METHODS: Final = ("tools/list", "tools/call")
_OTHER_METHODS: Final = ("resources/list", "resources/templates/list", "resources/read", "prompts/list",
                          "prompts/get")


def _names(value: Any, where: str) -> list[str]:
    """A filter's tool names: a list of strings, or one string of names separated by commas."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    if isinstance(value, list) and all(isinstance(n, str) for n in value):
        return [n.strip() for n in value]
    raise ConnectorInputError(f"{where} must be a list of tool names, not {type(value).__name__}")


class CamundaMcpClient:
    """The handler of one of Camunda's MCP client job types (``remote`` for ``mcpremoteclient:1``)."""

    def __init__(self, tools: McpToolTask, *, remote: bool, routes: HttpRoutes | None = None) -> None:
        self.tools = tools
        self.remote = remote
        self.routes = routes or HttpRoutes()

    async def __call__(self, job: Job) -> dict[str, Any]:
        where = f"task '{job.element_id}' of process '{job.process_id}'"
        data = job.variables.get("data")
        mode = nested(data, "connectorMode", "type")
        if mode == "aiAgentTool":
            method = nested(data, "connectorMode", "toolOperation", "method")
            params = nested(data, "connectorMode", "toolOperation", "params")
            filters = nested(data, "connectorMode", "toolModeFilters", "tools")
            name, arguments = nested(params, "name"), nested(params, "arguments")
        elif mode == "standalone":
            method = nested(data, "connectorMode", "operation", "type")
            filters = nested(data, "connectorMode", "standaloneModeFilters", "tools")
            name = nested(data, "connectorMode", "operation", "toolName")
            arguments = nested(data, "connectorMode", "operation", "toolArguments")
        else:
            raise ConnectorInputError(f"{where}: data.connectorMode.type must be aiAgentTool or standalone, "
                                      f"not {mode!r}")
        if mode == "standalone" and method in _OTHER_METHODS:
            return await self._other(job, data, str(method), where)
        if method not in _TOOL_METHODS:
            known = _TOOL_METHODS + (_OTHER_METHODS if mode == "standalone" else ())
            raise ConnectorInputError(f"{where}: the MCP operation must be one of {', '.join(known)}, "
                                      f"not {method!r}")
        included = _names(nested(filters, "included"), f"{where}: the included tools")
        excluded = _names(nested(filters, "excluded"), f"{where}: the excluded tools")
        server = await asyncio.to_thread(self._server, data, where)
        if method == "tools/list":
            return await self._list(server, included, excluded)
        if not isinstance(name, str) or not name:
            field = "toolOperation.params.name" if mode == "aiAgentTool" else "operation.toolName"
            raise ConnectorInputError(f"{where}: tools/call needs the tool's name (data.connectorMode.{field})")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            raise ConnectorInputError(f"{where}: the arguments of tool '{name}' must be a context, not "
                                      f"{type(arguments).__name__}")
        return await self._call(server, name, dict(arguments), included, excluded, agent=mode == "aiAgentTool")

    def _server(self, data: Any, where: str) -> McpServer:
        """The registered server the element names (a registry read: run on a thread)."""
        registry = self.tools.registry.mcp
        if not self.remote:
            name = nested(data, "client", "clientId")
            if not isinstance(name, str) or not name.strip():
                raise ConnectorInputError(f"{where}: data.client.clientId must name a registered MCP server")
            try:
                return registry.get(name.strip())
            except RegistryNotFound:
                raise ConnectorInputError(f"{where}: no MCP server named '{name.strip()}' is registered; register "
                                          f"it with `agenthub mcp-server add {name.strip()} ...`") from None
        transport = nested(data, "transport", "type") or "http"
        if transport != "http":
            raise ConnectorInputError(f"{where}: data.transport.type {transport!r} is not supported; use http "
                                      "(streamable HTTP)")
        url = nested(data, "transport", "http", "url")
        if not isinstance(url, str) or not url.strip():
            raise ConnectorInputError(f"{where}: data.transport.http.url must be the MCP server's URL")
        routed, at = self.routes.routed(url.strip().rstrip("/"))
        wanted = routed.rstrip("/")
        for server in registry.all():
            if server.transport == "http" and (server.url or "").rstrip("/") == wanted:
                return server
        raise ConnectorInputError(
            f"{where}: the MCP server at {at} is not registered, and only registered servers (whose tools "
            "are pinned and approved) are called; register it with `agenthub mcp-server add NAME --url URL`")

    async def _other(self, job: Job, data: Any, method: str, where: str) -> dict[str, Any]:
        """A resource or prompt operation (standalone only), on a session of its own."""
        kind = method.split("/", 1)[0]
        filters = nested(data, "connectorMode", "standaloneModeFilters", kind)
        included = _names(nested(filters, "included"), f"{where}: the included {kind}")
        excluded = _names(nested(filters, "excluded"), f"{where}: the excluded {kind}")
        operation = nested(data, "connectorMode", "operation")
        params: dict[str, Any] = {}
        if method == "resources/read":
            params["uri"] = nested(operation, "resourceUri")
            if not isinstance(params["uri"], str) or not params["uri"]:
                raise ConnectorInputError(f"{where}: resources/read needs data.connectorMode.operation.resourceUri")
            if not passes(params["uri"], included, excluded):
                raise ConnectorInputError(f"{where}: reading resource '{params['uri']}' is not allowed by the "
                                          "element's resource filters")
        elif method == "prompts/get":
            params["name"] = nested(operation, "promptName")
            arguments = nested(operation, "promptArguments") or {}
            if not isinstance(params["name"], str) or not params["name"]:
                raise ConnectorInputError(f"{where}: prompts/get needs data.connectorMode.operation.promptName")
            if not isinstance(arguments, Mapping):
                raise ConnectorInputError(f"{where}: the prompt's arguments must be a context")
            if not passes(params["name"], included, excluded):
                raise ConnectorInputError(f"{where}: getting prompt '{params['name']}' is not allowed by the "
                                          "element's prompt filters")
            params["arguments"] = {str(k): v if isinstance(v, str) else str(v) for k, v in arguments.items()}
        server = await asyncio.to_thread(self._server, data, where)
        async with (
            deadline(float(self.tools.default_timeout_s or server.timeout_s), f"{method} on MCP server "
                     f"'{server.name}'"),
            connect(server, egress=self.tools.egress) as session,
        ):
            result = await session.request(method, **params)
        return shaped(method, result, included, excluded)

    async def _list(self, server: McpServer, included: list[str], excluded: list[str]) -> dict[str, Any]:
        async with (
            deadline(float(self.tools.default_timeout_s or server.timeout_s), f"listing the tools of MCP server "
                     f"'{server.name}'"),
            self.tools.pool.session(server) as session,
        ):
            listed = await session.list_tools()
        allowed = await asyncio.to_thread(self.tools.callable_listed, server.name, listed)
        return {"toolDefinitions": [
            {"name": t["name"], "description": t.get("description"), "inputSchema": t.get("inputSchema") or {
                "type": "object", "properties": {}}}
            for t in allowed if passes(t["name"], included, excluded)]}

    async def _call(self, server: McpServer, name: str, arguments: dict[str, Any], included: list[str],
                    excluded: list[str], *, agent: bool) -> dict[str, Any]:
        if not passes(name, included, excluded):
            reason = f"tool '{name}' of MCP server '{server.name}' is filtered out by this element's tool filters"
            if agent:
                return _refused(name, reason)
            raise ConnectorInputError(reason)
        async with (
            deadline(float(self.tools.default_timeout_s or server.timeout_s), f"tool '{name}' of MCP server "
                     f"'{server.name}'"),
            self.tools.pool.session(server) as session,
        ):
            listed = await session.list_tools()
            try:
                await asyncio.to_thread(self.tools.checked_tool, server.name, name, listed)
            except (ToolBlocked, RegistryNotFound) as exc:
                if agent:  # the model is told; an admin's approval lets a later call through
                    return _refused(name, str(exc))
                raise
            outcome = await session.call_tool(name, arguments)
        content = list(outcome.content)
        if outcome.structured_content is not None and not content:
            content = [{"type": "object", "content": outcome.structured_content}]
        return {"name": name, "content": content, "isError": outcome.is_error}


def _refused(name: str, reason: str) -> dict[str, Any]:
    return {"name": name, "content": [{"type": "text", "text": reason}], "isError": True}
