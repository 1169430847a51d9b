"""Test harness: an A2A endpoint served by uvicorn on 127.0.0.1 (a free port), with the routes the hub mounts.

In front of it sits a stand-in for the hub's guard: ``Authorization: Bearer
<name>`` makes the principal ``<name>`` from ``PRINCIPALS`` (no real tokens);
any other request reaches the endpoint without a principal. The engine runs
on a SQLite file with the processes under ``tests/data/a2a`` deployed (all
but ``internal`` declare ``<agenthub:tool>`` and so are agents).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, Task
from a2a.utils.constants import TransportProtocol
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette
from starlette.middleware import Middleware

from engine import Engine
from protocols.a2a.server import A2AEndpoint
from tests.protocols.fake_guard import FakeGuard
from tests.servers import serve_app

DATA = Path(__file__).resolve().parents[2] / "data" / "a2a"

PRINCIPALS = {
    "admin": frozenset({"admin"}),
    "agent": frozenset({"start", "read", "tasks"}),
    "other": frozenset({"start", "read"}),
    "reader": frozenset({"read"}),
}


@dataclass
class A2AHub:
    base: str
    engine: Engine
    endpoint: A2AEndpoint

    def agent_url(self, process_id: str | None) -> str:
        return self.base + "/a2a" + (f"/{process_id}" if process_id else "")

    @asynccontextmanager
    async def client(
        self,
        process_id: str | None,
        token: str | None = "agent",
        *,
        streaming: bool = False,
        binding: str = TransportProtocol.JSONRPC.value,
    ) -> AsyncIterator[Client]:
        """The SDK's client for an agent, made from its card (``process_id`` None: the hub's card)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            config = ClientConfig(httpx_client=http, streaming=streaming, supported_protocol_bindings=[binding])
            client = await ClientFactory(config).create_from_url(
                self.base if process_id is None else self.agent_url(process_id)
            )
            async with client:
                yield client

    def http(self, token: str | None = "agent") -> httpx.AsyncClient:
        """A raw HTTP client for wire-level checks."""
        headers = {"A2A-Version": "1.0"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=30)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def open_engine(path: Path) -> Engine:
    engine = Engine.open("sqlite:///" + str(path))
    for bpmn in sorted(DATA.glob("*.bpmn")):
        engine.deploy([(bpmn.name, bpmn.read_bytes())])
    return engine


@contextmanager
def serve_endpoint(engine: Engine, **options: Any) -> Iterator[A2AHub]:
    sock = _free_socket()
    port = int(sock.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    endpoint = A2AEndpoint(engine, base_url=lambda: base, **options)
    app = Starlette(
        routes=endpoint.routes,
        middleware=[Middleware(FakeGuard, principals=PRINCIPALS)],
        lifespan=lambda _app: endpoint.lifespan(),
    )
    try:
        with serve_app(app, sock, what="the test A2A server"):
            yield A2AHub(base=base, engine=engine, endpoint=endpoint)
    finally:
        sock.close()


# --- messages -------------------------------------------------------------------------------------

BINDINGS = [TransportProtocol.JSONRPC.value, TransportProtocol.HTTP_JSON.value]


def message(*, text: str | None = None, data: dict[str, Any] | None = None, **fields: Any) -> Message:
    """A user message with a text part and/or a data part (a JSON object)."""
    parts = []
    if text is not None:
        parts.append(Part(text=text))
    if data is not None:
        part = Part()
        part.data.struct_value.update(data)
        parts.append(part)
    return Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=parts, **fields)


async def send(client: Client, msg: Message, **config: Any) -> Task:
    """A non-streaming SendMessage; the task it answers with."""
    request = SendMessageRequest(message=msg)
    for key, value in config.items():
        setattr(request.configuration, key, value)
    responses = [r async for r in client.send_message(request)]
    assert len(responses) == 1 and responses[0].HasField("task")
    return responses[0].task


def artifact_data(task: Task) -> dict[str, Any]:
    """The data of the task's one artifact, the instance's output."""
    assert [a.name for a in task.artifacts] == ["result"]
    data: dict[str, Any] = MessageToDict(task.artifacts[0].parts[0].data)
    return data
