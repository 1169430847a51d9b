"""The session's test HTTP server (see ``server.py``), on 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.protocols.http.server import EchoServer, serve


@pytest.fixture(scope="session")
def http_server() -> Iterator[EchoServer]:
    with serve() as server:
        yield server
