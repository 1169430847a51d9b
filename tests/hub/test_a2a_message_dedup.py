"""A2A ``messageId`` deduplication: a message sent again by the same caller does not start the work again.

Our own A2A client sends a message again with the same ``messageId`` after a
crash, trusting the server to recognise it; the hub, as a server, must keep
that promise. Each test drives a live hub on 127.0.0.1 with the a2a-sdk
client over real HTTP, and one restarts the hub on the same database between
the two sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import Message, SendMessageRequest, Task
from a2a.utils.constants import TransportProtocol

from hub.settings import HubSettings
from registry import generate_token
from tests.hub.harness import LiveHub, start_hub
from tests.ports import free_port
from tests.protocols.a2a.harness import message, send

pytestmark = pytest.mark.anyio
WAITING = {"order": "o-1"}  # confirm.bpmn asks its caller to confirm: the task stays open, input-required
CONFIRM = Path(__file__).resolve().parents[1] / "data" / "a2a" / "confirm.bpmn"


def deploy_confirm(hub: LiveHub) -> None:
    with hub.client() as rest:
        files = [("files", ("confirm.bpmn", CONFIRM.read_bytes(), "application/xml"))]
        rest.post("/api/v1/deployments", files=files).raise_for_status()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def hub_on(db: Path, admin: str) -> Iterator[LiveHub]:
    """A live hub over the database at ``db``; a second one on the same file is the first restarted."""
    port = free_port()
    server, thread = start_hub(HubSettings(db=f"sqlite:///{db}", port=port, admin_token=admin))
    try:
        yield LiveHub(url=f"http://127.0.0.1:{port}", port=port, admin=admin, app=server.config.app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@asynccontextmanager
async def agent(
    hub: LiveHub, token: str, *, streaming: bool = False, process: str = "confirm",
    binding: str = TransportProtocol.JSONRPC.value,
) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[binding], streaming=streaming)
        client = await ClientFactory(config).create_from_url(f"{hub.url}/a2a/{process}")
        async with client:
            yield client


async def streamed(client: Client, msg: Message) -> str:
    """A streaming SendMessage; the id of the task its events are about."""
    ids = set()
    async for response in client.send_message(SendMessageRequest(message=msg)):
        if response.HasField("task"):
            ids.add(response.task.id)
        elif response.HasField("status_update"):
            ids.add(response.status_update.task_id)
    assert len(ids) == 1, ids
    return ids.pop()


def named_token(hub: LiveHub, name: str) -> str:
    """A token of its own caller: tasks belong to the token's name."""
    with hub.client() as rest:
        answer = rest.post("/api/v1/tokens", json={"name": name, "scopes": ["start", "read"]})
        answer.raise_for_status()
        return str(answer.json()["token"])


def instances(hub: LiveHub) -> list[int]:
    with hub.client() as rest:
        return [i["instance"] for i in rest.get("/api/v1/process-instances").json()["items"]]


async def test_a_message_id_sent_again_by_the_same_caller_returns_the_first_task_and_starts_nothing(
    tmp_path: Path,
) -> None:
    with hub_on(tmp_path / "hub.db", generate_token()) as hub:
        deploy_confirm(hub)
        first_msg = message(data=WAITING)
        token = hub.token("start", "read")
        async with agent(hub, token) as client:
            first = await send(client, first_msg)
            again = await send(client, first_msg)
        async with agent(hub, token, streaming=True) as client:
            streamed_id = await streamed(client, first_msg)
        assert again.id == first.id and streamed_id == first.id
        assert len(instances(hub)) == 1


async def test_the_same_message_id_from_another_caller_is_independent(tmp_path: Path) -> None:
    with hub_on(tmp_path / "hub.db", generate_token()) as hub:
        deploy_confirm(hub)
        shared = message(data=WAITING)
        async with agent(hub, named_token(hub, "alice")) as alice:
            mine: Task = await send(alice, shared)
        async with agent(hub, named_token(hub, "bob")) as bob:
            theirs: Task = await send(bob, shared)
        assert mine.id != theirs.id
        assert len(instances(hub)) == 2


async def test_a_message_id_sent_again_after_a_hub_restart_still_returns_the_first_task(tmp_path: Path) -> None:
    db, admin = tmp_path / "hub.db", generate_token()
    resent = message(data=WAITING)
    with hub_on(db, admin) as hub:
        deploy_confirm(hub)
        token = hub.token("start", "read")
        async with agent(hub, token) as client:
            first = await send(client, resent)
    with hub_on(db, admin) as restarted:
        async with agent(restarted, token) as client:
            again = await send(client, resent)
        assert again.id == first.id
        assert len(instances(restarted)) == 1


async def test_a_message_id_whose_first_task_has_ended_starts_new_work(tmp_path: Path) -> None:
    """The A2A TCK sends one id per scenario and session, for a new task each time: an ended task frees the id."""
    with hub_on(tmp_path / "hub.db", generate_token()) as hub:
        hub.deploy("straight.bpmn")
        reused = message(data={"amount": 3})
        token = hub.token("start", "read")
        async with agent(hub, token, process="straight") as client:
            first = await send(client, reused)
            second = await send(client, reused)
        assert first.id != second.id
        assert len(instances(hub)) == 2


async def test_the_same_message_sent_several_times_at_once_starts_one_task(tmp_path: Path) -> None:
    """A client retrying on a short timeout sends one message while the first send is still being worked on."""
    with hub_on(tmp_path / "hub.db", generate_token()) as hub:
        deploy_confirm(hub)
        msg = message(data=WAITING)
        token = hub.token("start", "read")
        async with agent(hub, token) as client:
            tasks = await asyncio.gather(*(send(client, msg) for _ in range(8)))
        assert len({t.id for t in tasks}) == 1
        assert len(instances(hub)) == 1
