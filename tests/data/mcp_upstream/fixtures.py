"""Pytest fixtures for the MCP client's tests: the fake upstream over HTTP and over stdio.

A test module takes the fixtures it uses by assignment (``http_upstream = fixtures.http_upstream``).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from registry import McpServer
from tests.data.mcp_upstream.upstream import HttpUpstream, default_tools, read_ledger, serve_http, write_state

HERE = Path(__file__).parent
STDIO_SERVER = HERE / "stdio_server.py"
CANARY = "canary-7f3a9c-secret-value"  # a secret: it must never show up where it does not belong


class StdioUpstream:
    """The stdio upstream's files: change ``tools`` with ``set_tools``, read what happened with ``ledger``."""

    def __init__(self, root: Path) -> None:
        self.state = root / "upstream-state.json"
        self.ledger_path = root / "upstream-ledger.jsonl"
        self.tools = default_tools()
        self.set_tools(self.tools)

    def set_tools(self, tools: dict[str, dict[str, Any]]) -> None:
        self.tools = copy.deepcopy(tools)
        write_state(self.state, self.tools, self.ledger_path)

    def argv(self, *extra: str) -> list[str]:
        return [sys.executable, str(STDIO_SERVER), str(self.state), *extra]

    def entry(self, name: str = "upstream", **kwargs: Any) -> McpServer:
        return McpServer(name=name, transport="stdio", command=self.argv(), **kwargs)

    def ledger(self) -> list[dict[str, Any]]:
        return read_ledger(self.ledger_path)

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.ledger() if e["event"] == "call" and (tool is None or e["tool"] == tool)]


@pytest.fixture(scope="module")
def _http_server() -> Iterator[HttpUpstream]:
    with serve_http() as running:
        yield running


@pytest.fixture
def http_upstream(_http_server: HttpUpstream) -> HttpUpstream:
    """The HTTP upstream with its default tools and an empty ledger."""
    _http_server.upstream.reset()
    return _http_server


@pytest.fixture
def stdio_upstream(tmp_path: Path) -> StdioUpstream:
    return StdioUpstream(tmp_path)


def http_entry(upstream: HttpUpstream, name: str = "upstream", **kwargs: Any) -> McpServer:
    return McpServer(name=name, transport="http", url=upstream.url, **kwargs)


_EARLIER: set[int] = set()


@pytest.fixture(autouse=True)
def earlier_children() -> None:
    """Child processes that exist before the test (left by other tests) are not this test's business."""
    _EARLIER.clear()
    _EARLIER.update(p.pid for p in psutil.Process().children(recursive=True))


def new_children() -> list[psutil.Process]:
    """The child processes started since the test began (see ``earlier_children``)."""
    return [p for p in psutil.Process().children(recursive=True) if p.pid not in _EARLIER]
