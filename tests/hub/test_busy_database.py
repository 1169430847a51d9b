"""D4 through the hub: a database held by another process's writer is a 503 to retry, or a retryable tool error.

Before, "database is locked" reached REST callers as a 500 and MCP callers as
the driver's own message.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from engine import Engine
from engine.store import SqlStore
from hub.app import create_app
from hub.settings import HubSettings
from registry import generate_token
from tests.servers import serve_app

LIMITS = Path(__file__).resolve().parents[1] / "data" / "limits"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    db = tmp_path / "hub.db"
    admin = generate_token()
    engine = Engine(SqlStore(f"sqlite:///{db}", synchronous="NORMAL", busy_timeout_ms=300))
    # the registry keeps its default 30 s busy timeout: its reads must not need the write lock at all
    engine.deploy([("cycle.bpmn", (LIMITS / "cycle.bpmn").read_bytes())], expose=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = HubSettings(db=f"sqlite:///{db}", port=port, admin_token=admin, worker=False)
    with serve_app(create_app(settings, engine=engine), sock, what="the hub"):
        yield f"http://127.0.0.1:{port}", admin, db


@asynccontextmanager
async def _locked(db: Path) -> AsyncIterator[None]:
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_start_while_another_process_holds_the_database_is_a_503_with_retry_after(
    hub: tuple[str, str, Path],
) -> None:
    url, admin, db = hub
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as c:
        async with _locked(db):
            busy = await c.post("/api/v1/process-instances", json={"processId": "cycle", "variables": {"done": True}})
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.headers["content-type"].startswith("application/problem+json")
        assert "retry" in busy.json()["detail"] and "locked" not in busy.text.lower()
        again = await c.post("/api/v1/process-instances", json={"processId": "cycle", "variables": {"done": True}})
        assert again.status_code in (200, 201)


async def test_an_mcp_tool_call_while_the_database_is_held_is_a_retryable_tool_error(
    hub: tuple[str, str, Path],
) -> None:
    url, admin, db = hub
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy") as client,
    ):
        async with _locked(db):
            result = await client.call_tool("cycle", {})
        assert result.is_error
        error: Any = (result.structured_content or {}).get("error")
        assert error["type"] == "busy" and error["retryable"] is True
        assert "sqlite" not in str(result).lower() and "locked" not in str(result).lower()


async def test_reads_and_token_checks_do_not_wait_for_another_process_s_writer(hub: tuple[str, str, Path]) -> None:
    """Every request's token check read the registry under SQLite's write lock, on the event loop's thread:
    a writer elsewhere held every request, /health included, for the whole busy timeout (30 s by default)."""
    url, admin, db = hub
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=5) as c:
        async with _locked(db):
            listed = await c.get("/api/v1/process-instances")
            live = await c.get("/health/live")
        assert listed.status_code == 200 and live.status_code == 200
