"""Fixtures of the hub's tests: ``live_hub``, a hub served on 127.0.0.1 (see ``harness``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.scheduler import WorkerRegistry
from hub.settings import HubSettings
from registry import generate_token
from tests.hub.harness import LiveHub, echo, start_hub
from tests.oidc_issuer import Issuer, serve_issuer
from tests.ports import free_port


@pytest.fixture
def live_hub(tmp_path: Path) -> Iterator[LiveHub]:
    port = free_port()
    admin = generate_token()
    settings = HubSettings(db=f"sqlite:///{tmp_path / 'hub.db'}", port=port, admin_token=admin)
    workers = WorkerRegistry()
    workers.register("echo", echo)
    server, thread = start_hub(settings, workers)
    try:
        yield LiveHub(url=f"http://127.0.0.1:{port}", port=port, admin=admin, app=server.config.app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    """An OpenID Connect issuer on 127.0.0.1 (tests/oidc_issuer.py): discovery, JWKS, signed tokens."""
    with serve_issuer() as served:
        yield served
