"""Two hubs on 127.0.0.1 where hub A calls hub B's process tools over MCP: B registered on A as the server ``b``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from protocols.gateway import GatewaySettings
from tests.hub.harness import LiveHub, serve_hub

__all__ = ["hub_calling"]


@contextmanager
def hub_calling(b: LiveHub, folder: Path, token_env: str, **settings: Any) -> Iterator[LiveHub]:
    """Hub A (more ``serve_hub`` settings in ``settings``), federating ``b``'s tools on its gateway, with B's admin
    token read from ``token_env`` and the sweep for withdrawn jobs every 0.5 s (30 s by default)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(token_env, b.admin)
        env.setattr("protocols.mcp.tool_task.SWEEP_S", 0.5)
        with serve_hub(folder, http_allow="127.0.0.1", gateway=GatewaySettings(servers=("b",), listing_ttl_s=0),
                       **settings) as a:
            with a.client() as rest:
                added = rest.post("/api/v1/mcp-servers", json={"name": "b", "transport": "http",
                                                               "url": f"{b.url}/mcp", "bearerEnv": token_env})
                assert added.status_code == 201, added.text
            yield a
