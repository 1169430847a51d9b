"""A fake upstream MCP server for the MCP client's tests, built with the SDK's low-level ``Server``.

Its tools are JSON definitions a test can change between calls (a rug pull),
and it keeps a ledger of what happened to it: every call, every cancellation,
and (over HTTP) the ``Authorization`` header of every request. The same code
runs in-process behind uvicorn (``serve_http``) and as a subprocess over stdio
(``stdio_server.py``), which reads its tools from a state file and appends its
ledger to a JSON-lines file, so the test on the other side can do both.

Tools: ``echo(text)``, ``add(a, b)`` (structured), ``fail`` (isError), ``sleep``
(forever, until cancelled), ``big(size)``, ``noisy`` (ANSI, bidi and HTML),
``env`` (the names of its environment variables), ``argv`` (its argv); and, listed only where a test adds
``ASK_TOOL``, ``ask`` (asks the caller's user in an ``InputRequiredResult`` before it answers, 2026-07-28).
"""

from __future__ import annotations

import copy
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import uvicorn
from mcp.server.lowlevel import Server

_TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
_NUMBERS = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}
_NONE: dict[str, Any] = {"type": "object", "properties": {}}

TOOLS: dict[str, dict[str, Any]] = {
    "echo": {
        "name": "echo",
        "description": "Echo the text back",
        "inputSchema": _TEXT,
        "annotations": {"readOnlyHint": True},
    },
    "add": {
        "name": "add",
        "description": "Add two numbers",
        "inputSchema": _NUMBERS,
        "outputSchema": {"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]},
    },
    "fail": {"name": "fail", "description": "Always fails", "inputSchema": _NONE},
    "sleep": {"name": "sleep", "description": "Sleeps until cancelled", "inputSchema": _NONE},
    "big": {
        "name": "big",
        "description": "Returns size characters",
        "inputSchema": {"type": "object", "properties": {"size": {"type": "integer"}}},
    },
    "noisy": {"name": "noisy", "description": "Returns terminal escapes", "inputSchema": _NONE},
    "env": {"name": "env", "description": "Names its environment variables", "inputSchema": _NONE},
    "argv": {"name": "argv", "description": "Returns its argv", "inputSchema": _NONE},
}
ASK_TOOL = {"name": "ask", "description": "Asks who is calling before it answers",
            "inputSchema": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["form", "url"]}}}}
"""Not among the default tools (tests that list them all would change): a test that calls it lists it first."""
NOISY = "ok \x1b[2J\x1b[31mred\x1b[0m \u202egnp.exe\u202c \x07<script>alert(1)</script>\r\nend"


def default_tools() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(TOOLS)


def _text(value: str) -> list[types.ContentBlock]:
    return [types.TextContent(type="text", text=value)]


class Upstream:
    """Handlers over changeable tools and a ledger; ``load`` and ``record`` say where they live."""

    def __init__(self, load: Callable[[], dict[str, dict[str, Any]]], record: Callable[[dict[str, Any]], None]) -> None:
        self.load = load
        self.record = record

    def server(self) -> Server[Any]:
        return Server("upstream", on_list_tools=self._list_tools, on_call_tool=self._call_tool)

    async def _list_tools(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool.model_validate(t) for t in self.load().values()])

    async def _call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        name, args = params.name, params.arguments or {}
        self.record({"event": "call", "tool": name, "arguments": args})
        if name == "ask":
            return _ask(params)
        if name == "echo":
            return types.CallToolResult(content=_text(str(args.get("text"))))
        if name == "add":
            total = args["a"] + args["b"]
            return types.CallToolResult(content=_text(json.dumps({"sum": total})), structured_content={"sum": total})
        if name == "fail":
            return types.CallToolResult(content=_text("the disk is \x1b[31mfull\x1b[0m"), is_error=True)
        if name == "sleep":
            try:
                await anyio.sleep_forever()
            finally:
                self.record({"event": "cancelled", "tool": name})
        if name == "big":
            return types.CallToolResult(content=_text("x" * int(args.get("size", 10))))
        if name == "noisy":
            return types.CallToolResult(content=_text(NOISY))
        if name == "env":
            return types.CallToolResult(content=_text(json.dumps(sorted(os.environ))))
        if name == "argv":
            return types.CallToolResult(content=_text(json.dumps(sys.argv)))
        return types.CallToolResult(content=_text(f"unknown tool {name}"), is_error=True)


ASKED = "Who is calling?"
SIGN_IN = "https://upstream.invalid/sign-in"  # a URL-mode question's page: only shown, never fetched


def _ask(params: types.CallToolRequestParams) -> types.CallToolResult | types.InputRequiredResult:
    """``ask``: the question in the result, then, called again with the answer and the state, the greeting."""
    answer = (params.input_responses or {}).get("who")
    by_url = (params.arguments or {}).get("mode") == "url"  # the user signs in on a page of ours instead
    if not isinstance(answer, types.ElicitResult):
        schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        asked: types.ElicitRequestParams = (
            types.ElicitRequestURLParams(message=ASKED, url=SIGN_IN, elicitation_id="sign-in-1") if by_url
            else types.ElicitRequestFormParams(message=ASKED, requested_schema=schema))
        return types.InputRequiredResult(input_requests={"who": types.ElicitRequest(params=asked)},
                                         request_state="round-1")
    if answer.action != "accept":
        return types.CallToolResult(content=_text(f"not told ({answer.action})"), is_error=True)
    name = "whoever signed in" if by_url else (answer.content or {}).get("name")
    return types.CallToolResult(content=_text(f"hello {name} ({params.request_state})"))


class MemoryUpstream(Upstream):
    """In-process state: ``tools`` to change, ``ledger`` to read."""

    def __init__(self) -> None:
        self.tools = default_tools()
        self.ledger: list[dict[str, Any]] = []
        super().__init__(lambda: self.tools, self.ledger.append)

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.ledger if e["event"] == "call" and (tool is None or e["tool"] == tool)]

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.ledger if e["event"] == kind]

    def reset(self) -> None:
        self.tools = default_tools()
        self.ledger.clear()


class FileUpstream(Upstream):
    """State in files: ``{"tools": {...}, "ledger": "path.jsonl"}`` read on each request."""

    def __init__(self, state: Path) -> None:
        self.state = state
        super().__init__(self._load, self._record)

    def _load(self) -> dict[str, dict[str, Any]]:
        tools: dict[str, dict[str, Any]] = json.loads(self.state.read_text())["tools"]
        return tools

    def _record(self, entry: dict[str, Any]) -> None:
        ledger = Path(json.loads(self.state.read_text())["ledger"])
        with ledger.open("a") as out:
            out.write(json.dumps(entry) + "\n")


def write_state(state: Path, tools: dict[str, dict[str, Any]], ledger: Path) -> None:
    state.write_text(json.dumps({"tools": tools, "ledger": str(ledger)}))


def read_ledger(ledger: Path) -> list[dict[str, Any]]:
    if not ledger.exists():
        return []
    return [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()]


class HttpUpstream:
    """A running HTTP upstream: its URL and its in-memory state."""

    def __init__(self, url: str, upstream: MemoryUpstream) -> None:
        self.url = url
        self.upstream = upstream

    def authorizations(self) -> list[str | None]:
        return [e["authorization"] for e in self.upstream.events("request")]


@contextmanager
def serve_http() -> Iterator[HttpUpstream]:
    """The upstream over streamable HTTP at ``http://127.0.0.1:<free port>/mcp``, on a thread of its own."""
    upstream = MemoryUpstream()
    app = upstream.server().streamable_http_app()

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            upstream.record({"event": "request", "authorization": headers.get("authorization"), "headers": headers})
        await app(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(recording, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="mcp-upstream", daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        if time.monotonic() - started > 10 or not thread.is_alive():
            raise RuntimeError("the upstream MCP server did not start")
        time.sleep(0.01)
    try:
        yield HttpUpstream(f"http://127.0.0.1:{port}/mcp", upstream)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
