"""Another agent runs a hub process over A2A, with a real token, through the hub's guard (the a2a-sdk client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import TaskState
from a2a.utils.constants import TransportProtocol

from tests.hub.harness import LiveHub
from tests.protocols.a2a.harness import artifact_data, message, send

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def agent(hub: LiveHub, process_id: str, token: str, binding: str) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[binding])
        client = await ClientFactory(config).create_from_url(f"{hub.url}/a2a/{process_id}")
        async with client:
            yield client


@pytest.mark.parametrize("binding", [TransportProtocol.JSONRPC.value, TransportProtocol.HTTP_JSON.value])
async def test_an_agent_runs_an_exposed_process_and_gets_its_output_as_an_artifact(
    live_hub: LiveHub, binding: str
) -> None:
    live_hub.deploy("straight.bpmn")
    async with httpx.AsyncClient() as http:  # the public card needs no token
        card = (await http.get(f"{live_hub.url}/a2a/straight/.well-known/agent-card.json")).json()
        hub_card = (await http.get(f"{live_hub.url}/.well-known/agent-card.json")).json()
    assert card["skills"][0]["id"] == "straight"
    assert [s["id"] for s in hub_card["skills"]] == ["straight"]
    token = live_hub.token("start", "read")
    async with agent(live_hub, "straight", token, binding) as client:
        task = await send(client, message(data={"amount": 3}))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_data(task)["doubled"] == 6


async def test_a2a_calls_need_a_valid_token_and_the_start_scope(live_hub: LiveHub) -> None:
    live_hub.deploy("straight.bpmn")
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}}
    async with httpx.AsyncClient(base_url=live_hub.url, headers={"A2A-Version": "1.0"}) as http:
        assert (await http.post("/a2a/straight", json=body)).status_code == 401
        reader = {"Authorization": f"Bearer {live_hub.token('read')}"}
        assert (await http.post("/a2a/straight", json=body, headers=reader)).status_code == 403
    with live_hub.client() as rest:
        assert rest.get("/api/v1/process-instances").json()["items"] == []
