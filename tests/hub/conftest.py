"""Fixtures of the hub's tests: ``live_hub``, a hub served on 127.0.0.1 (see ``harness``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.scheduler import WorkerRegistry
from tests.hub.harness import LiveHub, echo, serve_hub
from tests.oidc_issuer import Issuer, serve_issuer


@pytest.fixture
def live_hub(tmp_path: Path) -> Iterator[LiveHub]:
    workers = WorkerRegistry()
    workers.register("echo", echo)
    with serve_hub(tmp_path, workers) as live:
        yield live


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    """An OpenID Connect issuer on 127.0.0.1 (tests/oidc_issuer.py): discovery, JWKS, signed tokens."""
    with serve_issuer() as served:
        yield served
