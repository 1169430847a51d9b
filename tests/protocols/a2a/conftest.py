"""Fixtures: an engine with the processes under ``tests/data/a2a``, and A2A endpoints over it (see ``harness``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine import Engine
from tests.protocols.a2a.harness import A2AHub, open_engine, serve_endpoint


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def a2a_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(tmp_path / "hub.db")
    yield engine
    engine.close()


@pytest.fixture
def serve_a2a(a2a_engine: Engine) -> Iterator[Callable[..., A2AHub]]:
    """Start an endpoint over ``a2a_engine`` with the given ``A2AEndpoint`` options; stopped after the test."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(serve_endpoint(a2a_engine, **options))


@pytest.fixture
def a2a_hub(serve_a2a: Callable[..., A2AHub]) -> A2AHub:
    return serve_a2a(call_timeout_s=5.0, stream_timeout_s=10.0)
