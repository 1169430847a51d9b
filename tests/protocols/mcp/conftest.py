"""An MCP endpoint served by uvicorn on 127.0.0.1 (a free port), mounted as the hub mounts it.

In front of it sits a stand-in for the hub's guard: ``Authorization: Bearer
<name>`` makes the principal ``<name>`` from ``PRINCIPALS`` (no real tokens);
any other request reaches the endpoint without a principal. The engine runs
on a SQLite file with the processes under ``tests/data/mcp`` deployed
(``echo`` with ``expose=True``; ``internal`` not exposed).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from engine import Engine
from protocols.mcp import McpEndpoint
from tests.protocols.fake_guard import FakeGuard
from tests.servers import serve_app

DATA = Path(__file__).resolve().parents[2] / "data" / "mcp"

PRINCIPALS = {
    "admin": frozenset({"admin"}),
    "agent": frozenset({"start", "read", "tasks"}),
    "starter": frozenset({"start"}),
    "reader": frozenset({"read"}),
    "clerk": frozenset({"tasks"}),
    "worker": frozenset({"jobs"}),
}


def deploy_test_processes(engine: Engine) -> None:
    for path in sorted(DATA.glob("*.bpmn")):
        engine.deploy([(path.name, path.read_bytes())], expose=path.stem == "echo")


@dataclass
class McpHub:
    url: str
    engine: Engine
    endpoint: McpEndpoint

    @asynccontextmanager
    async def client(
        self, token: str | None = "agent", *, mode: str = "legacy", path: str = "/mcp", **options: Any
    ) -> AsyncIterator[Client]:
        """An official ``mcp.Client`` over Streamable HTTP; ``mode`` is "legacy" (2025-11-25) or "2026-07-28";
        ``options`` are more ``Client`` fields (``logging_callback``, ``message_handler`` ...)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            transport = streamable_http_client(self.url.removesuffix("/mcp") + path, http_client=http)
            async with Client(transport, mode=mode, **options) as client:
                yield client

    def http(self, token: str | None = "agent") -> httpx2.AsyncClient:
        """A raw HTTP client for wire-level checks."""
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx2.AsyncClient(headers=headers, timeout=30)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mcp_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.open("sqlite:///" + str(tmp_path / "hub.db"))
    deploy_test_processes(engine)
    yield engine
    engine.close()


@contextmanager
def serve_endpoint(engine: Engine, **options: Any) -> Iterator[McpHub]:
    endpoint = McpEndpoint(engine, **options)
    app = Starlette(
        routes=[Route("/mcp", endpoint.asgi), Mount("/mcp", app=endpoint.asgi)],  # both /mcp and /mcp/
        middleware=[Middleware(FakeGuard, principals=PRINCIPALS)],
        lifespan=lambda _app: endpoint.lifespan(),
    )
    sock = _free_socket()
    port = int(sock.getsockname()[1])
    try:
        with serve_app(app, sock, what="the test MCP server"):
            yield McpHub(url=f"http://127.0.0.1:{port}/mcp", engine=engine, endpoint=endpoint)
    finally:
        sock.close()


@pytest.fixture
def serve_mcp(mcp_engine: Engine) -> Iterator[Callable[..., McpHub]]:
    """Start an endpoint over ``mcp_engine`` with the given ``McpEndpoint`` options; stopped after the test."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(serve_endpoint(mcp_engine, **options))


@pytest.fixture
def mcp_hub(serve_mcp: Callable[..., McpHub]) -> McpHub:
    return serve_mcp(call_timeout_s=5.0)
