"""Two hubs on 127.0.0.1 where hub A calls hub B's process tools over MCP: B registered on A as the server ``b``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from protocols.gateway import GatewaySettings
from protocols.mcp.limits import McpLimits
from tests.hub.harness import LiveHub, serve_hub

__all__ = ["get_json", "hub_calling", "hubs_deployed"]


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


@contextmanager
def hubs_deployed(
    folders: pytest.TempPathFactory, token_env: str, on_b: tuple[str, bytes], on_a: tuple[str, bytes]
) -> Iterator[tuple[LiveHub, LiveHub]]:
    """Hub B (no rate limit) serving the model ``on_b`` (file name, BPMN) as a process tool, and hub A calling it
    (``hub_calling``) with the model ``on_a`` deployed; ``(a, b)``. B's model is deployed before A registers B, so
    its tool is approved there as listed."""
    with serve_hub(folders.mktemp("hub-b"), mcp=McpLimits(rate_per_minute=0)) as b:
        with b.client() as rest:
            rest.post("/api/v1/deployments", files=[("files", (*on_b, "application/xml"))],
                      params={"expose": "true"}).raise_for_status()
        with hub_calling(b, folders.mktemp("hub-a"), token_env) as a:
            with a.client() as rest:
                rest.post("/api/v1/deployments", files=[("files", (*on_a, "application/xml"))]).raise_for_status()
            yield a, b


def get_json(hub: LiveHub, path: str, **params: Any) -> Any:
    """``GET path`` on the hub's REST API as its admin: the answer's JSON (an error status fails the test)."""
    with hub.client() as rest:
        answer = rest.get(path, params=params)
        answer.raise_for_status()
        return answer.json()
