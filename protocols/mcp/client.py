"""Calling tools on registered upstream MCP servers, over streamable HTTP or a stdio command.

Owns: connecting to one ``registry.McpServer`` entry, listing its tools and
calling one; the credentials it sends (its own headers and bearer secret,
read from the environment at call time, never anything of the hub's caller);
deadlines (a call past its deadline is cancelled upstream and raises
``McpTimeout``); and what comes back (capped and cleaned, see
``client_output``).

Does not know: whether a tool may be called. Checking its pin
(``registry.mcp.callable_tool``) is the caller's job: ``tool_task`` does it
before every call, the hub's commands when an admin registers a server. Nor
how long a session lives: ``connect`` opens one for a block; keeping one open
between jobs is ``client_pool``'s.

    tools = await list_tools(server)
    outcome = await call_tool(server, "add", {"a": 1, "b": 2}, timeout_s=10)

Errors (no message ever holds a header value, a secret or the URL's query)::

    McpClientError          base: the call did not happen or did not finish
    ├── McpConfigError      the entry needs an environment variable that is not set
    ├── McpConnectError     the server could not be reached or started, or closed the connection
    ├── McpTimeout          no answer within the deadline; the request was cancelled upstream
    └── McpProtocolError    the server answered with a protocol error or something malformed
        └── McpOutputTooLarge  one message was larger than ``MAX_MESSAGE_BYTES``
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ListenNotSupportedError, Subscription
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CONNECTION_CLOSED,
    INVALID_PARAMS,
    CallToolResult,
    Implementation,
    InputRequiredResult,
    InputResponses,
    RequestParamsMeta,
)

from protocols import tracecontext
from protocols.http import ConnectionFailed, EgressDenied, EgressPolicy, Resolver, system_resolver
from protocols.mcp import client_input, tasks_client
from protocols.mcp.client_egress import checked_transport
from protocols.mcp.client_input import HubClient
from protocols.mcp.client_output import MAX_TEXT_CHARS, ToolOutcome, clean_json, clean_text, limit_outcome
from protocols.mcp.client_stdio import MissingVariable, StdioTransport, scrubbed_environment
from protocols.mcp.tasks_client import AskingTask, CreatedTask, DetailedTask, TasksExtension
from registry import McpServer

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_TEXT_CHARS",
    "McpClientError",
    "McpConfigError",
    "McpConnectError",
    "McpOutputTooLarge",
    "McpProtocolError",
    "McpTimeout",
    "ToolOutcome",
    "UpstreamSession",
    "call_tool",
    "connect",
    "deadline",
    "display_target",
    "list_tools",
    "outcome_of",
    "resolve_headers",
    "stdio_environment",
]

MAX_MESSAGE_BYTES = 16 << 20  # one HTTP response, SSE event or stdio line; beyond it the connection is dropped
TOOL_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
_MAX_PAGES = 100
_REQUESTS = ("resources/list", "resources/templates/list", "resources/read", "prompts/list", "prompts/get")
_CLIENT_INFO = Implementation(name="agenthub", version="0.1.0")


class McpClientError(Exception):
    """Base of the client's errors; the message says which server and what to do."""


class McpConfigError(McpClientError):
    pass


class McpConnectError(McpClientError):
    pass


class McpTimeout(McpClientError):
    pass


class McpProtocolError(McpClientError):
    pass


class McpOutputTooLarge(McpProtocolError):
    pass


def display_target(server: McpServer) -> str:
    """For messages: the URL without user info, query or fragment, or the program without its arguments.

    Any of those may carry a credential; the full argv is shown where an admin
    reviews the entry (``agenthub mcp-server add``, the REST answers), not in
    every error that ends up in an incident or a log.
    """
    if server.transport == "http" and server.url:
        parts = urlsplit(server.url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return server.command[0] if server.command else "?"


def resolve_headers(server: McpServer, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The entry's headers with ``env:VAR`` values (and the bearer secret) read from the environment now."""
    environ = os.environ if environ is None else environ
    headers: dict[str, str] = {}
    for name, value in server.headers.items():
        if value.startswith("env:"):
            headers[name] = _variable(server, value[4:], f"header '{name}'", environ)
        else:
            headers[name] = value
    if server.bearer_env:
        headers["Authorization"] = f"Bearer {_variable(server, server.bearer_env, 'the bearer token', environ)}"
    return headers


def stdio_environment(server: McpServer, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a stdio server is started with (``client_stdio.scrubbed_environment``), read now."""
    try:
        return scrubbed_environment(server.env, os.environ if environ is None else environ)
    except MissingVariable as exc:
        raise McpConfigError(f"MCP server '{server.name}': {exc}; it is listed in the entry's --env") from None


def _variable(server: McpServer, name: str, purpose: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name)
    if not value:
        raise McpConfigError(
            f"MCP server '{server.name}': {purpose} comes from environment variable {name}, which is not set "
            "in the hub's environment; set it and restart the hub (or the worker)"
        )
    return value


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, owner: _CappedTransport) -> None:
        self.inner = inner
        self.owner = owner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.inner:
            seen += len(chunk)
            if seen > self.owner.limit:
                self.owner.overflowed = True  # the SDK may report only "connection closed" to the request's caller
                raise McpOutputTooLarge(f"an HTTP response was larger than {self.owner.limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CappedTransport(httpx2.AsyncBaseTransport):
    """Every response body counted as it streams in, and cut off past ``limit``."""

    def __init__(self, limit: int, inner: httpx2.AsyncHTTPTransport | None = None) -> None:
        # trust_env off: no proxy, .netrc or certificate from the environment; only the entry's own credentials go out.
        self.inner = inner or httpx2.AsyncHTTPTransport(trust_env=False)
        self.limit = limit
        self.overflowed = False

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _CappedStream(response.stream, self)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class UpstreamSession:
    """One open connection to an upstream server."""

    def __init__(
        self,
        server: McpServer,
        client: HubClient,
        stdio: StdioTransport | None = None,
        http: _CappedTransport | None = None,
    ) -> None:
        self.server = server
        self._client = client
        self._stdio = stdio
        self._http = http

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool the server lists (all pages), as JSON by alias, with the pinned fields only."""
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            with self._translated():
                page = await self._client.list_tools(cursor=cursor, cache_mode="refresh")
            for tool in page.tools:
                data = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
                tools.append({k: data[k] for k in TOOL_FIELDS if k in data})
            cursor = page.next_cursor
            if cursor is None:
                return tools
        raise McpProtocolError(f"MCP server '{self.server.name}' listed more than {_MAX_PAGES} pages of tools")

    async def call_tool(self, tool: str, arguments: Mapping[str, Any]) -> ToolOutcome:
        """Call ``tool`` (``call``), following a task to its end: put a deadline around the call."""
        found = await self.call(tool, arguments)
        if not isinstance(found, ToolOutcome):  # nothing is handed back here
            raise McpProtocolError(f"MCP server '{self.server.name}' left tools/call '{tool}' unanswered")
        return found

    async def call(
        self, tool: str, arguments: Mapping[str, Any], *, tasks_back: bool = False, input_back: bool = False,
        responses: InputResponses | None = None, state: str | None = None,
    ) -> ToolOutcome | CreatedTask | InputRequiredResult | AskingTask:
        """Call ``tool``; the request's ``_meta`` carries the current trace context (``protocols.tracecontext``).

        A server that answers with a task (the MCP Tasks extension, 2026-07-28) is followed to the task's end
        (``tasks_client.TasksExtension``; put a deadline around the call), or, with ``tasks_back``, the task is
        returned at once, for the caller to follow with ``task``. A server that first asks for input
        (``InputRequiredResult``) has it answered by whoever the call is for (``client_input``), or, with
        ``input_back``, the result is returned: the caller sends the call again with the answers (``responses``)
        and the result's ``requestState`` (``state``); and so is a followed task's question (``AskingTask``): the
        caller passes the answers on with ``follow_task``.
        """
        attributes = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool",
                      "gen_ai.tool.name": tool, "agenthub.mcp.server": self.server.name}
        with tracecontext.client_span(f"tools/call {tool}", attributes) as (span, carrier):
            meta = cast(RequestParamsMeta, carrier) if carrier else None
            with _handing(tasks_back=tasks_back, input_back=input_back), self._translated():
                try:
                    result = await self._client.call_tool(tool, dict(arguments), meta=meta,
                                                          input_responses=responses, request_state=state)
                except tasks_client.TaskStarted as started:
                    return started.task
                except client_input.InputAsked as asked:
                    return asked.asked
                except tasks_client.TaskAsks as asks:
                    return asks.asking
            if result.is_error:
                tracecontext.failed(span, f"the tool '{tool}' answered with an error")
        return outcome_of(result)

    async def follow_task(
        self, task_id: str, responses: dict[str, Any], *, input_back: bool = False
    ) -> ToolOutcome | AskingTask:
        """Answer the questions of the upstream's task ``task_id`` (``tasks/update``, by their keys), then follow it
        as ``call`` does (``input_back``: a further question is returned)."""
        with _handing(input_back=input_back), self._translated():
            await tasks_client.update(self._client.session, task_id, responses)
            try:
                result = await tasks_client.follow(self._client.session, task_id, tasks_client.MIN_POLL_S,
                                                   frozenset(responses))
            except tasks_client.TaskAsks as asks:
                return asks.asking
        return outcome_of(result)

    async def task(self, task_id: str) -> DetailedTask | None:
        """The upstream's task ``task_id`` as it stands now (``tasks/get``); None when the server does not know it
        (any more: expired, or the server lost it)."""
        with self._translated():
            try:
                return await tasks_client.get(self._client.session, task_id)
            except MCPError as exc:
                if exc.code == INVALID_PARAMS:
                    return None
                raise

    async def update_task(self, task_id: str, responses: dict[str, Any]) -> None:
        """Answer input requests of the upstream's task ``task_id`` (``tasks/update``), by their keys."""
        with self._translated():
            await tasks_client.update(self._client.session, task_id, responses)

    async def cancel_task(self, task_id: str) -> None:
        """Ask the upstream to cancel its task ``task_id`` (``tasks/cancel``)."""
        with self._translated():
            await tasks_client.cancel(self._client.session, task_id)

    @asynccontextmanager
    async def tool_changes(self) -> AsyncIterator[Subscription | None]:
        """The server's ``notifications/tools/list_changed``, subscribed to (``subscriptions/listen``, 2026-07-28);
        None when it does not advertise ``tools.listChanged`` or this session's protocol cannot subscribe."""
        tools = self._client.server_capabilities.tools
        if tools is None or not tools.list_changed:
            yield None
            return
        async with AsyncExitStack() as stack:
            try:
                subscription = await stack.enter_async_context(self._client.listen(tools_list_changed=True))
            except ListenNotSupportedError:
                subscription = None
            honored = subscription.honored if subscription is not None else None
            yield subscription if honored is not None and honored.tools_list_changed else None

    async def request(self, method: str, **params: Any) -> dict[str, Any]:
        """A resource or prompt request, its result as cleaned JSON by alias (a listing: its first page).

        ``method``: ``resources/list``, ``resources/templates/list``, ``resources/read`` (``uri``),
        ``prompts/list``, ``prompts/get`` (``name``, ``arguments``). Nothing of these is pinned: they are not tools.
        """
        if method not in _REQUESTS:
            raise ValueError(f"not a resource or prompt request: {method!r}")
        client = self._client
        result: Any
        with self._translated():
            if method == "resources/list":
                result = await client.list_resources(cache_mode="refresh")
            elif method == "resources/templates/list":
                result = await client.list_resource_templates(cache_mode="refresh")
            elif method == "resources/read":
                result = await client.read_resource(str(params["uri"]), cache_mode="refresh")
            elif method == "prompts/list":
                result = await client.list_prompts(cache_mode="refresh")
            else:
                result = await client.get_prompt(str(params["name"]), params.get("arguments"))
        found: dict[str, Any] = clean_json(result.model_dump(by_alias=True, mode="json", exclude_none=True))
        return found

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except (McpClientError, anyio.get_cancelled_exc_class()):
            raise
        except Exception as exc:
            raise _translate(self.server, _leaves(exc), self._stdio, self._http) from None


@contextmanager
def _handing(*, tasks_back: bool = False, input_back: bool = False) -> Iterator[None]:
    """Calls in the block hand back a task (``tasks_back``) and a question (``input_back``) instead of following
    or answering them (``tasks_client.handing_back``, ``client_input.handing_input_back``)."""
    with ExitStack() as handing:
        if tasks_back:
            handing.enter_context(tasks_client.handing_back())
        if input_back:
            handing.enter_context(client_input.handing_input_back())
        yield


def outcome_of(result: CallToolResult) -> ToolOutcome:
    """A tool result as the hub keeps it: content blocks as JSON, output cleaned and capped (``client_output``)."""
    content = [block.model_dump(by_alias=True, mode="json", exclude_none=True) for block in result.content]
    return limit_outcome(content, result.structured_content, result.is_error)


@asynccontextmanager
async def connect(
    server: McpServer, *, environ: Mapping[str, str] | None = None, egress: EgressPolicy | None = None,
    resolve: Resolver = system_resolver,
) -> AsyncIterator[UpstreamSession]:
    """An open session with ``server``; errors come out as ``McpClientError`` naming the server.

    ``egress``: every connection goes only to addresses it admits, the name resolved at each connection
    (``client_egress.checked_transport``); refused, it is ``McpConfigError`` naming the address and the
    setting. None: no check (the caller checked, or runs where the allow-list does not apply).
    Put a deadline around it (``deadline``): nothing here waits for less than the transport's own timeouts.
    """
    environ = os.environ if environ is None else environ
    stdio: StdioTransport | None = None
    capped: _CappedTransport | None = None
    raised: list[BaseException] = []  # by the caller's block: passed through as they are
    try:
        async with AsyncExitStack() as stack:
            if server.transport == "stdio":
                stdio = StdioTransport(
                    server.command, stdio_environment(server, environ), max_line_bytes=MAX_MESSAGE_BYTES
                )
                transport: Any = stdio.open()
            else:
                assert server.url is not None
                checked = checked_transport(egress, resolve) if egress is not None else None
                capped = _CappedTransport(MAX_MESSAGE_BYTES, checked)
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=resolve_headers(server, environ),
                        timeout=httpx2.Timeout(30.0, read=300.0),
                        transport=capped,
                        trust_env=False,
                    )
                )
                transport = streamable_http_client(server.url, http_client=http, max_sse_event_size=MAX_MESSAGE_BYTES)
            client = cast(HubClient, await stack.enter_async_context(
                HubClient(transport, cache=None, client_info=_CLIENT_INFO, extensions=[TasksExtension()],
                          elicitation_callback=client_input.elicited)))
            try:
                yield UpstreamSession(server, client, stdio, capped)
            except BaseException as exc:
                raised.append(exc)
                raise
    except (McpClientError, anyio.get_cancelled_exc_class()):
        raise
    except BaseException as exc:  # the SDK's task groups wrap failures in exception groups
        leaves = _leaves(exc)
        for own in raised:
            if own in leaves:
                raise own from None
        raise _translate(server, leaves, stdio, capped) from None


@asynccontextmanager
async def deadline(seconds: float, what: str) -> AsyncIterator[None]:
    """Cancel the block after ``seconds`` (requests in flight are cancelled upstream), raising ``McpTimeout``."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise McpTimeout(f"{what} did not finish within {seconds:g} s; the request was cancelled upstream") from None


async def list_tools(
    server: McpServer, *, timeout_s: float | None = None, egress: EgressPolicy | None = None
) -> list[dict[str, Any]]:
    """The server's tools as JSON dicts (name, title, description, inputSchema, outputSchema, annotations)."""
    what = f"listing the tools of MCP server '{server.name}'"
    async with deadline(timeout_s or server.timeout_s, what), connect(server, egress=egress) as session:
        return await session.list_tools()


async def call_tool(
    server: McpServer, tool: str, arguments: Mapping[str, Any], *, timeout_s: float | None = None,
    egress: EgressPolicy | None = None,
) -> ToolOutcome:
    """Call ``tool`` without checking its pin (the caller does that); see ``tool_task`` for the checked path."""
    what = f"tool '{tool}' of MCP server '{server.name}'"
    async with deadline(timeout_s or server.timeout_s, what), connect(server, egress=egress) as session:
        return await session.call_tool(tool, arguments)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _translate(
    server: McpServer,
    leaves: list[BaseException],
    stdio: StdioTransport | None,
    http: _CappedTransport | None = None,
) -> BaseException:
    """One ``McpClientError`` for whatever the SDK or the transport raised."""
    leaves = [e for e in leaves if not isinstance(e, anyio.get_cancelled_exc_class())] or leaves
    where = f"MCP server '{server.name}' ({display_target(server)})"
    for leaf in leaves:
        if isinstance(leaf, McpClientError):
            return type(leaf)(f"{where}: {leaf}")
        if isinstance(leaf, EgressDenied):
            return McpConfigError(f"{where}: {leaf}")
        if isinstance(leaf, client_input.Unasked):
            return McpProtocolError(f"{where} {leaf}")
        if isinstance(leaf, ConnectionFailed):  # from the checked connection: the same words as an unchecked one's
            return McpConnectError(f"{where} cannot be reached: {leaf}")
    if stdio is not None and stdio.overflowed:
        return McpOutputTooLarge(f"{where} sent a message larger than {MAX_MESSAGE_BYTES} bytes; the call was dropped")
    if http is not None and http.overflowed:
        return McpOutputTooLarge(f"{where}: an HTTP response was larger than {MAX_MESSAGE_BYTES} bytes")
    leaf = leaves[0]
    if isinstance(leaf, (KeyboardInterrupt, SystemExit)):
        return leaf
    if isinstance(leaf, MCPError) and leaf.code == CONNECTION_CLOSED:
        return McpConnectError(f"{where} closed the connection before answering (did it exit or crash?)")
    if isinstance(leaf, MCPError):
        return McpProtocolError(f"{where} answered with error {leaf.code}: {clean_text(leaf.message)[:500]}")
    if isinstance(leaf, FileNotFoundError) and stdio is not None:
        return McpConnectError(
            f"{where}: cannot start '{server.command[0]}': no such program (check PATH or use a full path)"
        )
    if isinstance(leaf, httpx2.TransportError | OSError):
        return McpConnectError(f"{where} cannot be reached: {type(leaf).__name__}: {clean_text(str(leaf))[:300]}")
    return McpProtocolError(f"{where}: {type(leaf).__name__}: {clean_text(str(leaf))[:500]}")
