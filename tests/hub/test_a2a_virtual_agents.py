"""Virtual A2A agents over real HTTP: ``/a2a/{name}`` serves a virtual server's processes as skills to its principals.

The a2a-sdk client talks to a served hub. The virtual server ``sales`` offers
the process ``straight`` (not ``review``) to the group ``sales`` and is marked
``a2a``; Alice is in ``sales``, Mallory in ``ops``. Every call through it
leaves the gateway's audit row, with the channel ``a2a`` and the server's name.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import GetTaskRequest, ListTasksRequest, Message, SendMessageRequest, TaskState
from a2a.utils.constants import TransportProtocol
from typer.testing import CliRunner

from engine.canonical import canonical_hash
from hub.cli import app as cli
from tests.hub.harness import LiveHub, serve_hub
from tests.hub.test_mcp_virtual_servers import user_token
from tests.protocols.a2a.harness import artifact_data, message, send

pytestmark = pytest.mark.anyio

SALES = {"description": "What the sales agents may run", "processes": ["straight"], "allowGroups": ["sales"],
         "a2a": True}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("a2a-virtual")


@pytest.fixture(scope="module")
def hub(folder: Path) -> Iterator[LiveHub]:
    with serve_hub(folder) as live:
        live.deploy("straight.bpmn", "review.bpmn", expose=True)
        with live.client() as c:
            c.post("/api/v1/users", json={"id": "alice", "groups": ["sales"]}).raise_for_status()
            c.post("/api/v1/users", json={"id": "mallory", "groups": ["ops"]}).raise_for_status()
            c.put("/api/v1/mcp-servers/virtual/sales", json=SALES).raise_for_status()
        yield live


@asynccontextmanager
async def agent(hub: LiveHub, token: str, binding: str = TransportProtocol.JSONRPC.value) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[binding])
        client = await ClientFactory(config).create_from_url(f"{hub.url}/a2a/sales")
        async with client:
            yield client


def to_skill(skill: str, data: dict[str, Any]) -> Message:
    sent = message(data=data)
    sent.metadata.update({"skillId": skill})
    return sent


def audit(hub: LiveHub, subject: str) -> list[dict[str, Any]]:
    with hub.client() as c:
        body = c.get("/api/v1/audit", params={"subject": subject}).json()
    return list(body["items"] if isinstance(body, dict) else body)


@pytest.mark.parametrize("binding", [TransportProtocol.JSONRPC.value, TransportProtocol.HTTP_JSON.value])
async def test_a_permitted_principal_runs_a_skill_of_the_set_and_the_call_is_audited(
    hub: LiveHub, binding: str
) -> None:
    async with httpx.AsyncClient() as http:  # the card is public, as every card is
        card = (await http.get(f"{hub.url}/a2a/sales/.well-known/agent-card.json")).json()
    assert [s["id"] for s in card["skills"]] == ["straight"]
    assert card["supportedInterfaces"][0]["url"].endswith("/a2a/sales")
    before = len(audit(hub, "gateway:straight"))
    async with agent(hub, user_token(hub, "alice"), binding) as client:
        task = await send(client, to_skill("straight", {"amount": 3}))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_data(task)["doubled"] == 6
    rows = audit(hub, "gateway:straight")
    assert len(rows) == before + 1
    row = rows[0]
    assert (row["kind"], row["actor"], row["data"]["outcome"], row["data"]["virtual"]) == (
        "gateway.call", "alice", "ok", "sales")
    assert row["data"]["by"]["channel"] == "a2a" and row["data"]["instance"] == int(task.id)
    assert row["data"]["argumentsHash"] == canonical_hash({"amount": 3})


async def test_a_principal_the_agent_does_not_admit_is_refused_with_403_before_anything_runs(hub: LiveHub) -> None:
    body = {"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": {"message": {
        "messageId": "m-1", "role": "ROLE_USER", "parts": [{"data": {"amount": 1}}],
        "metadata": {"skillId": "straight"},
    }}}
    headers = {"Authorization": f"Bearer {user_token(hub, 'mallory')}", "A2A-Version": "1.0"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers) as http:
        refused = await http.post("/a2a/sales", json=body)
        rest = await http.post("/a2a/sales/message:send", json={"message": body["params"]["message"]})
    assert refused.status_code == 403 and rest.status_code == 403
    assert "may not use the virtual agent 'sales'" in refused.json()["error"]["message"]
    assert rest.json()["error"]["status"] == "PERMISSION_DENIED"
    with hub.client() as c:
        started = c.get("/api/v1/process-instances").json()["items"]
    assert all(i.get("startedBy") != "mallory" for i in started)
    row = audit(hub, "gateway:-")[0]
    assert (row["actor"], row["data"]["outcome"], row["data"]["virtual"]) == ("mallory", "denied", "sales")


async def test_a_skill_outside_the_set_is_refused_as_unknown_and_audited(hub: LiveHub) -> None:
    async with agent(hub, user_token(hub, "alice")) as client:
        with pytest.raises(Exception, match="unknown skill 'review'; skills: straight"):
            [_ async for _ in client.send_message(SendMessageRequest(message=to_skill("review", {"text": "x"})))]
    row = audit(hub, "gateway:review")[0]
    assert (row["actor"], row["data"]["outcome"], row["data"]["virtual"]) == ("alice", "denied", "sales")
    async with httpx.AsyncClient() as http:
        process = await http.get(f"{hub.url}/a2a/review/.well-known/agent-card.json")
    assert process.status_code == 200  # the process agent itself is untouched


async def test_tasks_of_processes_outside_the_set_are_neither_listed_nor_found_through_the_agent(
    hub: LiveHub
) -> None:
    token = user_token(hub, "alice")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[TransportProtocol.JSONRPC.value],
                              streaming=False)  # the task waits for a person: no stream to follow
        direct = await ClientFactory(config).create_from_url(f"{hub.url}/a2a/review")
        async with direct:
            other = await send(direct, message(text="please"), return_immediately=True)
    async with agent(hub, token) as client:
        mine = await send(client, to_skill("straight", {"amount": 1}))
        listed = await client.list_tasks(ListTasksRequest())
        with pytest.raises(Exception, match="not found"):
            await client.get_task(GetTaskRequest(id=other.id))
    ids = [t.id for t in listed.tasks]
    assert mine.id in ids and other.id not in ids


def test_the_cli_marks_a_virtual_server_as_an_a2a_agent_and_shows_its_path(folder: Path, hub: LiveHub) -> None:
    db = f"sqlite:///{folder / 'hub.db'}"
    added = CliRunner().invoke(cli, ["mcp-server", "virtual", "add", "ops", "--process", "review", "--a2a",
                                     "--allow-group", "ops", "--db", db])
    assert added.exit_code == 0, added.output
    assert "A2A agent at /a2a/ops" in added.output
    shown = CliRunner().invoke(cli, ["mcp-server", "virtual", "show", "ops", "--json", "--db", db])
    assert shown.exit_code == 0, shown.output
    assert (json.loads(shown.output)["a2a"], json.loads(shown.output)["a2aPath"]) == (True, "/a2a/ops")
    with hub.client() as c:
        card = c.get("/a2a/ops/.well-known/agent-card.json").json()
    assert [s["id"] for s in card["skills"]] == ["review"]
