"""Registering an MCP server or an A2A agent obeys the egress allow-list (``AGENTHUB_HTTP_ALLOW``), as calls do.

Registration is the first time the hub contacts a URL (it lists the server's
tools, it fetches the agent's card), so it is checked there on the addresses
the host resolves to, before any connection. Every test runs under a guard
that records each outbound connection attempt and refuses any that is not to
loopback: no test ever sends a packet past 127.0.0.1, and a refused
registration is seen to have attempted nothing. Requirements covered: A3/A8
(private and metadata addresses refused unless allow-listed) for the hub as a
client at registration time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient
from typer.testing import CliRunner

from engine import Engine, WorkerRegistry
from engine.ports import ManualClock
from hub.api import admin, mcp_servers
from hub.api.common import Hub, problem_handlers
from hub.commands.agents import app as agents_cli
from hub.commands.mcp_servers import app as mcp_cli
from hub.settings import HubSettings
from registry import Principal, Registry
from tests.data.a2a.client.remote_agent import serve_agent
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.upstream import HttpUpstream, default_tools
from tests.hub.harness import AsPrincipal

_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream

REFUSED = ["169.254.169.254", "10.0.0.1"]


class Outbound:
    """Every TCP connection attempted while a test runs: (host, port); only loopback ones go ahead."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    def check(self, host: Any, port: Any) -> None:
        self.attempts.append((str(host), int(port or 0)))
        try:
            loopback = ipaddress.ip_address(str(host).strip("[]")).is_loopback
        except ValueError:
            loopback = str(host) == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"test guard: no connection leaves loopback (tried {host}:{port})")

    def to(self, port: int) -> list[tuple[str, int]]:
        return [a for a in self.attempts if a[1] == port]


@pytest.fixture(autouse=True)
def outbound(monkeypatch: pytest.MonkeyPatch) -> Outbound:
    guard = Outbound()
    create_connection = asyncio.BaseEventLoop.create_connection
    sock_connect = asyncio.BaseEventLoop.sock_connect
    connect = socket.socket.connect

    async def guarded_create(self: Any, factory: Any, host: Any = None, port: Any = None, *a: Any, **k: Any) -> Any:
        if host is not None:
            guard.check(host, port)
        return await create_connection(self, factory, host, port, *a, **k)

    async def guarded_sock_connect(self: Any, sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address[0], address[1])
        await sock_connect(self, sock, address)

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address[0], address[1])
        connect(sock, address)

    monkeypatch.setattr(asyncio.BaseEventLoop, "create_connection", guarded_create)
    monkeypatch.setattr(asyncio.BaseEventLoop, "sock_connect", guarded_sock_connect)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return guard


class Api:
    """The registration routes (MCP servers, agents) over one database, with ``http_allow`` as the allow-list."""

    def __init__(self, root: Path) -> None:
        self.url = f"sqlite:///{root / 'agenthub.db'}"
        self.engine = Engine.open(self.url, clock=ManualClock())
        self.registry = Registry.open(self.url)

    def client(self, http_allow: str | None) -> TestClient:
        app = Starlette(
            routes=[*mcp_servers.routes, *admin.routes],
            exception_handlers=problem_handlers,
            middleware=[Middleware(AsPrincipal, principal=Principal("tester", frozenset({"admin", "read"})))],
        )
        settings = HubSettings(http_allow=http_allow)
        app.state.hub = Hub(engine=self.engine, registry=self.registry, workers=WorkerRegistry(), settings=settings)
        return TestClient(app)

    def close(self) -> None:
        self.engine.close()
        self.registry.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    opened = Api(tmp_path)
    yield opened
    opened.close()


def _refusal(answer: Any, address: str) -> str:
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail: str = answer.json()["detail"]
    assert address in detail and "AGENTHUB_HTTP_ALLOW" in detail
    return detail


@pytest.mark.parametrize("address", REFUSED)
def test_an_mcp_server_at_a_metadata_or_private_address_is_refused_at_registration_before_any_connection(
    api: Api, outbound: Outbound, address: str
) -> None:
    with api.client(None) as client:
        answer = client.post("/api/v1/mcp-servers", json={"name": "metadata", "url": f"http://{address}/mcp"})
        _refusal(answer, address)
        assert client.get("/api/v1/mcp-servers").json()["items"] == []
    assert outbound.attempts == []


@pytest.mark.parametrize("address", REFUSED)
def test_an_a2a_agent_at_a_metadata_or_private_address_is_refused_at_registration_before_any_connection(
    api: Api, outbound: Outbound, address: str
) -> None:
    with api.client(None) as client:
        answer = client.post("/api/v1/agents", json={"name": "metadata", "url": f"http://{address}"})
        _refusal(answer, address)
        assert client.get("/api/v1/agents").json()["items"] == []
    assert outbound.attempts == []


def test_the_cli_refuses_to_register_what_the_allow_list_does_not_admit_with_exit_status_2(
    tmp_path: Path, outbound: Outbound
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"AGENTHUB_HTTP_ALLOW": "127.0.0.1"}
    runner = CliRunner()
    server = runner.invoke(mcp_cli, ["add", "metadata", "--url", "http://169.254.169.254/mcp", "--db", db], env=env)
    agent = runner.invoke(agents_cli, ["add", "http://10.0.0.1:8080", "--name", "private", "--db", db], env=env)
    for result, address in [(server, "169.254.169.254"), (agent, "10.0.0.1")]:
        assert result.exit_code == 2, result.output
        assert address in result.output and "AGENTHUB_HTTP_ALLOW" in result.output
    assert outbound.attempts == []
    registry = Registry.open(db)
    try:
        assert registry.mcp.all() == [] and registry.agents.all() == []
    finally:
        registry.close()


def test_a_loopback_upstream_is_refused_unless_the_allow_list_admits_it_and_then_registers(
    api: Api, outbound: Outbound, http_upstream: HttpUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(http_upstream.url.split(":")[2].split("/")[0])
    with serve_agent() as remote:
        with api.client(None) as public_only:  # the default allow-list, 'public', admits no loopback address
            _refusal(
                public_only.post("/api/v1/mcp-servers", json={"name": "up", "url": http_upstream.url}), "127.0.0.1"
            )
            _refusal(public_only.post("/api/v1/agents", json={"name": "helper", "url": remote.url}), "127.0.0.1")
        assert outbound.to(port) == [] and outbound.to(remote.port) == []
        assert http_upstream.upstream.events("request") == []

        with api.client("127.0.0.1") as allowed:
            server = allowed.post("/api/v1/mcp-servers", json={"name": "up", "url": http_upstream.url})
            assert server.status_code == 201, server.text
            assert {t["name"] for t in server.json()["tools"]} == set(default_tools())
            agent = allowed.post("/api/v1/agents", json={"name": "helper", "url": remote.url})
            assert agent.status_code == 201, agent.text
        assert outbound.to(port) and outbound.to(remote.port)

        monkeypatch.setenv("AGENTHUB_HTTP_ALLOW", "127.0.0.1")
        added = CliRunner().invoke(agents_cli, ["add", remote.url, "--name", "again", "--db", api.url])
        assert added.exit_code == 0, added.output
    assert {a.name for a in api.registry.agents.all()} == {"helper", "again"}
    assert [s.name for s in api.registry.mcp.all()] == ["up"]
