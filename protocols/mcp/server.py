"""The hub's MCP server: exposed processes as tools, plus the hub's own tools and resources.

One ``McpEndpoint`` serves both transports from one low-level SDK ``Server``:

- Streamable HTTP (``asgi``), stateful: the 2025-11-25 (and older) handshake
  with ``Mcp-Session-Id`` sessions, and the 2026-07-28 stateless requests,
  which the SDK routes by their ``MCP-Protocol-Version`` header;
- stdio (``run_stdio``) for desktop assistants, in whichever era the client
  opens with.

Owns: mapping MCP requests onto the engine (``_process_tools``,
``_decision_tools``, ``_builtin_tools``, ``_resources``, ``_tasks``, ``_prompts``, ``_logging``,
``_subscriptions``) and the limits on them. Capabilities are advertised
where the protocol version defines them: Tasks on 2025-11-25 and as the
Tasks extension on 2026-07-28 (``_tasks_ext``), logging and resource
subscriptions up to 2025-11-25 (2026-07-28 removed both).

Does not know: tokens, Host or Origin. The hub's guard checks those in front
of every route and leaves the verified ``registry.Principal`` in
``scope["state"]["principal"]``; the SDK's own DNS-rebinding protection and
auth are switched off so there is one place that decides. A request that
reaches this app without a principal is refused (fail closed); see ``_http``
for that, the session owner and the strict JSON check in front of the SDK.
What one token may hold (``limits.McpLimits``, RELIABILITY.md M15): its open
sessions (``_sessions``, 429 past the cap) and its tool calls per tool and
minute (``_rate``, JSON-RPC ``-32029`` with ``data.retryAfterSeconds``).

``virtual_asgi`` serves the virtual servers at ``/mcp/{name}`` with the same
``Server``: ``_virtual`` admits the principal (403 before any session) and
each request sees, and may call, only that server's set (``_virtual_set``).
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

import anyio
from mcp.server.context import CallNext, HandlerResult
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.runner import serve_dual_era_loop
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    REQUEST_TIMEOUT,
    CallToolRequestParams,
    CallToolResult,
    CancelTaskRequestParams,
    GetTaskPayloadRequestParams,
    GetTaskRequestParams,
    InputRequiredResult,
    ListToolsResult,
    PaginatedRequestParams,
    ServerCapabilities,
    SetLevelRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp

from engine import Engine, InstanceView
from engine.store import DatabaseBusy
from protocols import tracecontext
from protocols.mcp._builtin_tools import BuiltinTool, BuiltinTools
from protocols.mcp._context import Context, ServerState, in_thread, principal_of, tool_error
from protocols.mcp._decision_tools import DecisionTools
from protocols.mcp._elicitation import can_elicit, can_elicit_in_result, relay
from protocols.mcp._http import McpHttpFront
from protocols.mcp._listen import Listen
from protocols.mcp._logging import LogLevels
from protocols.mcp._process_tools import BUILTIN_PREFIX, TASK_AFTER_S, TASKS_EXTENSION, ProcessTools, TaskCreated
from protocols.mcp._prompts import Prompts
from protocols.mcp._rate import RATE_LIMITED, CallRate
from protocols.mcp._resources import Resources
from protocols.mcp._sessions import TokenSessions
from protocols.mcp._subscriptions import Subscriptions
from protocols.mcp._tasks import CAPABILITY, TASK_CALL_METHOD, TASK_VERSIONS, Tasks
from protocols.mcp._tasks_ext import TasksExtension, UpdateTaskRequestParams, declares_tasks, modern, removed
from protocols.mcp._virtual import VirtualFront, processes_within, virtual_of
from protocols.mcp.limits import McpLimits
from registry import Principal, Registry, VirtualServer

if TYPE_CHECKING:
    from protocols.gateway import Gateway

log = logging.getLogger("agenthub.mcp")

MAX_BODY_BYTES = 2 << 20
"""HTTP request bodies above this get 413 before parsing; tool arguments are capped at 1 MiB inside it."""
MAX_SESSIONS = 1000
"""Open Streamable HTTP sessions of all tokens together; admin tokens pass it (each token has its own cap too)."""
REQUEST_GRACE_S = 15.0
"""Every request is stopped ``call_timeout_s`` plus this after it arrived (a tool call ends its wait sooner)."""

_INSTRUCTIONS = (
    "Each process tool starts a business process of this agenthub and returns its result, or, when the process "
    "waits for a person, a timer or a message, the instance id and what it waits for. Check on a waiting instance "
    "with agenthub_get_instance; complete user tasks with agenthub_complete_user_task."
)


class _HubServer(Server[ServerState]):
    """The SDK server, advertising the Tasks capability where the protocol has it (2025-11-25)."""

    def get_capabilities(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
        *,
        protocol_version: str | None = None,
    ) -> ServerCapabilities:
        capabilities = super().get_capabilities(
            notification_options, experimental_capabilities, extensions, protocol_version=protocol_version
        )
        if protocol_version is None or protocol_version in TASK_VERSIONS:  # None: the initialize handshake
            capabilities = capabilities.model_copy(update={"tasks": CAPABILITY})
        if protocol_version in MODERN_PROTOCOL_VERSIONS:  # logging/setLevel is gone (SEP-2577); Tasks an extension
            extended = {**(capabilities.extensions or {}), TASKS_EXTENSION: {}}
            # subscriptions/listen carries resource updates and task notifications (``_listen``), no list changes
            unchanged = {"list_changed": False}
            capabilities = capabilities.model_copy(update={
                "logging": None, "extensions": extended,
                **{name: getattr(capabilities, name).model_copy(update=unchanged)
                   for name in ("tools", "prompts", "resources") if getattr(capabilities, name) is not None},
            })
        return capabilities


class McpEndpoint:
    """The hub's MCP server over one engine.

    ``asgi`` serves Streamable HTTP wherever it is mounted (it does not look at
    the path) once ``lifespan()`` has been entered; ``run_stdio`` serves one
    client over stdin and stdout.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        call_timeout_s: float = 30.0,
        server_name: str = "agenthub",
        limits: McpLimits | None = None,
        gateway: Gateway | None = None,
        virtual_servers: Callable[[str], VirtualServer | None] | None = None,
        extra_tools: Sequence[BuiltinTool] = (),
        registry: Registry | None = None,
    ) -> None:
        if not (math.isfinite(call_timeout_s) and call_timeout_s >= 0):
            raise ValueError("call_timeout_s must be a finite number of seconds, 0 or more")
        self.engine = engine
        self.call_timeout_s = call_timeout_s
        self.limits = limits = limits or McpLimits()
        self._rate = CallRate(limits.rate_per_minute, limits.rate_burst)
        self._log_levels = LogLevels()
        self._processes = ProcessTools(engine, call_timeout_s, self._log_levels)
        self._processes.read_tools()  # the header schemas known from the first call on, not only after a listing
        self._builtins = BuiltinTools(engine, extra_tools)
        self._decisions = DecisionTools(engine, registry)  # decisions marked <agenthub:tool/>; audited in registry
        self._resources = Resources(engine)
        self._prompts = Prompts(engine)
        self._subscriptions = Subscriptions(engine, self._resources)
        self._gateway = gateway  # federated upstream tools and agents (protocols.gateway), when the hub has one
        self._tasks = Tasks(engine, self._processes, gateway, self._subscriptions)
        self._tasks_ext = TasksExtension(self._tasks, self._processes, gateway)
        self._listen = Listen(self._subscriptions, self._resources, self._tasks_ext)
        self.server = self._build_server(server_name)
        self._sessions = TokenSessions(
            self.server,
            per_token=limits.max_sessions,
            total=MAX_SESSIONS,
            idle_s=limits.session_idle_s,
            max_body=MAX_BODY_BYTES,
        )
        self.asgi: ASGIApp = McpHttpFront(self._sessions.handle_request, max_body=MAX_BODY_BYTES)
        # /mcp/{name}: ``virtual_servers(name)`` reads a definition (blocking); without it every name answers 404
        self.virtual_asgi: ASGIApp = VirtualFront(self.asgi, virtual_servers or (lambda _name: None))

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """Runs the HTTP session manager; enter it once, in the hub's lifespan, before serving ``asgi``."""
        return self._watching(self._sessions.run())

    @asynccontextmanager
    async def _watching(self, inner: AbstractAsyncContextManager[None]) -> AsyncIterator[None]:
        """``inner`` with the resource subscriptions' watcher running beside it."""
        async with inner, anyio.create_task_group() as tasks:
            tasks.start_soon(self._subscriptions.run)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()

    async def run_stdio(self, principal: Principal) -> None:
        """Serve MCP over this process's stdin and stdout as ``principal`` until the client closes stdin.

        Nothing else may write to stdout meanwhile: it carries the protocol.
        """
        async with self._watching(_nothing()), stdio_server() as (read_stream, write_stream):
            await serve_dual_era_loop(
                self.server, read_stream, write_stream, lifespan_state=ServerState(principal=principal)
            )

    # --- the SDK server --------------------------------------------------------------------

    def _build_server(self, name: str) -> _HubServer:
        server = _HubServer(
            name,
            version=_version(),
            title="agenthub",
            instructions=_INSTRUCTIONS,
            lifespan=_http_state,
            # Mcp-Param-* headers (2026-07-28) are checked against the x-mcp-header annotations of the process
            # tools that have them, as last read (every listing and call reads them), and of the federated tools
            # as last listed; a tool without any has nothing to check, which spares the SDK a tools/list round per
            # call to find that out.
            get_tool_input_schema=self._header_schema,
            on_list_tools=self._list_tools,
            # a CreateTaskResult (``resultType: "task"``, the 2026-07-28 Tasks extension) is a dict the SDK passes
            # through as the extension's own shape (``ServerRunner._serialize``); its handler type does not name it
            on_call_tool=cast(Any, self._call_tool),
            on_list_resources=self._resources.list_resources,
            on_list_resource_templates=self._resources.list_templates,
            on_read_resource=self._resources.read,
            on_subscribe_resource=self._subscriptions.subscribe,
            on_unsubscribe_resource=self._subscriptions.unsubscribe,
            on_subscriptions_listen=cast(Any, self._listen),
            on_list_prompts=self._prompts.list_prompts,
            on_get_prompt=self._prompts.get,
            on_completion=self._prompts.complete,
        )
        # registered directly: the constructor's on_set_logging_level warns that 2026-07-28 removed logging
        server.add_request_handler("logging/setLevel", SetLevelRequestParams, self._log_levels.set_level)
        server.add_request_handler(TASK_CALL_METHOD, CallToolRequestParams, self._tasks.create)
        server.add_request_handler("tasks/get", GetTaskRequestParams, self._task_get)
        server.add_request_handler("tasks/result", GetTaskPayloadRequestParams, self._task_result)
        server.add_request_handler("tasks/list", PaginatedRequestParams, self._task_list)
        server.add_request_handler("tasks/cancel", CancelTaskRequestParams, self._task_cancel)
        server.add_request_handler("tasks/update", UpdateTaskRequestParams, self._task_update)
        server.middleware.extend([_traced, self._deadline, self._rate_limit, self._virtual_set, self._tasks.route])
        return server

    def _header_schema(self, name: str) -> dict[str, Any] | None:
        found = self._processes.header_schema(name)
        if found is None and self._gateway is not None:
            found = self._gateway.header_schema(name)
        return found

    # --- tasks: 2025-11-25 (``_tasks``) or the 2026-07-28 extension (``_tasks_ext``), by the request's version ---

    async def _task_get(self, ctx: Context, params: GetTaskRequestParams) -> dict[str, Any]:
        return await (self._tasks_ext.get if modern(ctx) else self._tasks.get)(ctx, params)

    async def _task_cancel(self, ctx: Context, params: CancelTaskRequestParams) -> dict[str, Any]:
        return await (self._tasks_ext.cancel if modern(ctx) else self._tasks.cancel)(ctx, params)

    async def _task_result(self, ctx: Context, params: GetTaskPayloadRequestParams) -> dict[str, Any]:
        if modern(ctx):
            raise removed("tasks/result")
        return await self._tasks.result(ctx, params)

    async def _task_list(self, ctx: Context, params: PaginatedRequestParams) -> dict[str, Any]:
        if modern(ctx):
            raise removed("tasks/list")
        return await self._tasks.list_tasks(ctx, params)

    async def _task_update(self, ctx: Context, params: UpdateTaskRequestParams) -> dict[str, Any]:
        if not modern(ctx):
            raise MCPError(METHOD_NOT_FOUND, "tasks/update belongs to the 2026-07-28 Tasks extension: on this "
                                             "protocol version a task's questions are user tasks (complete them "
                                             "with agenthub_complete_user_task)")
        return await self._tasks_ext.update(ctx, params)

    async def _list_tools(self, ctx: Context, params: PaginatedRequestParams | None) -> ListToolsResult:
        """Process tools for callers who may start them (``start``), then the built-in tools their scopes allow."""
        principal = principal_of(ctx)
        within = virtual_of(ctx)
        tools = await self._processes.tools() if principal.has("start") else []
        decisions = await self._decisions.tools() if principal.has("start") and within is None else []
        federated = await self._gateway.tools(principal, within) if self._gateway is not None else []
        if within is not None:  # a virtual server: its processes and federated tools, none of the hub's own
            names = await self._virtual_processes(within)
            return ListToolsResult(tools=[*(t for t in tools if t.name in names), *federated])
        return ListToolsResult(tools=[*tools, *decisions, *self._builtins.tools(principal), *federated])

    async def _virtual_processes(self, within: VirtualServer) -> set[str]:
        return processes_within(await in_thread(self.engine.tools), within)

    async def _call_tool(
        self, ctx: Context, params: CallToolRequestParams
    ) -> CallToolResult | InputRequiredResult | dict[str, Any]:
        """A tool call; a busy database is a retryable tool error, and no internal error text reaches the caller."""
        principal = principal_of(ctx)
        within = virtual_of(ctx)  # on /mcp/{name}, ``_virtual_set`` let only the server's set through
        try:
            if within is None and params.name in self._builtins.by_name:
                return await self._builtins.call(principal, params.name, params.arguments)
            if self._gateway is not None and self._gateway.owns(params.name, within):
                budget = self._processes.budget(ctx)
                called = await self._gateway.call(principal, params.name, params.arguments, budget, within,
                                                  task_after_s=TASK_AFTER_S if declares_tasks(ctx) else None,
                                                  ask=relay(ctx, budget) if can_elicit(ctx) else None,
                                                  input_back=can_elicit_in_result(ctx),
                                                  responses=params.input_responses, state=params.request_state)
                if isinstance(called, InstanceView):  # waits for an approval: the client's task (2026-07-28)
                    return await self._tasks_ext.created(called)
                return called
            if params.name.startswith(BUILTIN_PREFIX):
                raise MCPError(
                    INVALID_PARAMS, f"unknown tool '{params.name}': list the tools to see what this hub offers"
                )
            decision = await self._decisions.find(params.name) if within is None else None
            if decision is not None:
                return await self._decisions.call(principal, decision, params.arguments)
            answer = await self._processes.call(ctx, principal, params.name, params.arguments, params,
                                                tasks=declares_tasks(ctx))
            if isinstance(answer, TaskCreated):  # CreateTaskResult (2026-07-28 Tasks extension)
                return await self._tasks_ext.created(answer.view)
            return answer
        except DatabaseBusy:
            return tool_error(
                "busy", "the hub is busy with other work and did nothing for this call: retry in a second",
                retryable=True, retryAfterSeconds=1,
            )
        except (MCPError, anyio.get_cancelled_exc_class()):
            raise
        except Exception as exc:
            log.exception("the tool call %r failed", params.name)
            return tool_error(
                "internal", f"the hub failed on this call ({type(exc).__name__}); its log has the details",
                retryable=False,
            )

    async def _deadline(self, ctx: Context, call_next: CallNext) -> HandlerResult:
        """Server middleware: no request runs longer than the call budget plus a grace period, but a
        ``subscriptions/listen`` stream, which lasts as long as its client listens."""
        if ctx.request_id is None or ctx.method == "subscriptions/listen":  # a notification, or a stream
            return await call_next(ctx)
        limit = self.call_timeout_s + REQUEST_GRACE_S
        with anyio.move_on_after(limit):
            return await call_next(ctx)
        raise MCPError(REQUEST_TIMEOUT, f"the request did not finish within {limit:g} seconds and was stopped")

    async def _virtual_set(self, ctx: Context, call_next: CallNext) -> HandlerResult:
        """Server middleware: on a virtual server, a ``tools/call`` (task-augmented too) outside its set is unknown."""
        within = virtual_of(ctx)
        params = ctx.params
        if within is None or ctx.method != "tools/call" or not isinstance(params, Mapping):
            return await call_next(ctx)
        name = str(params.get("name"))
        if not (self._gateway is not None and self._gateway.owns(name, within)) and \
                name not in await self._virtual_processes(within):
            raise MCPError(INVALID_PARAMS, f"unknown tool '{name[:128]}' on the virtual MCP server "
                           f"'{within.name}': list the tools to see what it offers")
        return await call_next(ctx)

    async def _rate_limit(self, ctx: Context, call_next: CallNext) -> HandlerResult:
        """Server middleware: ``tools/call`` (task-augmented too) spends from the (token, tool) bucket (M15).

        Over HTTP only: a stdio server is one local user's own process, and limiting it protects no one else.
        """
        params = ctx.params
        if ctx.method != "tools/call" or ctx.request is None or not isinstance(params, Mapping):
            return await call_next(ctx)
        principal = principal_of(ctx)
        tool = str(params.get("name"))
        wait = self._rate.take(principal.token_id or principal.name, tool)
        if wait is not None:
            raise MCPError(
                RATE_LIMITED,
                f"rate limit: this token may call '{tool[:100]}' {self.limits.rate_burst} times at once and "
                f"{self.limits.rate_per_minute:g} times a minute; retry in {wait:g} seconds",
                {"retryAfterSeconds": wait},
            )
        return await call_next(ctx)


async def _traced(ctx: Context, call_next: CallNext) -> HandlerResult:
    """Server middleware: a request continues the trace its ``_meta`` carries (``protocols.tracecontext``)."""
    if ctx.request_id is None:  # a notification
        return await call_next(ctx)
    name = ctx.params.get("name") if isinstance(ctx.params, Mapping) else None
    target = name[:128] if isinstance(name, str) else None
    attributes = {"mcp.method.name": ctx.method, "gen_ai.tool.name": target}
    with tracecontext.server_span(f"{ctx.method} {target}" if target else ctx.method, ctx.meta, attributes):
        return await call_next(ctx)


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def _http_state(server: Server[ServerState]) -> AsyncIterator[ServerState]:
    yield ServerState()  # over HTTP each request brings its own principal


def _version() -> str:
    try:
        return importlib.metadata.version("agenthub")
    except importlib.metadata.PackageNotFoundError:
        return "0"
