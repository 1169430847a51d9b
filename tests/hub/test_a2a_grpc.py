"""The A2A gRPC binding (``serve --a2a-grpc-port``): the a2a-sdk's gRPC client runs a hub process over gRPC.

The client reads the card over HTTP, picks its ``GRPC`` interface (the hub's gRPC port, the agent named by the
interface's ``tenant``) and sends its API token in the ``authorization`` metadata, as any gRPC client of a
bearer-protected service does. The same gate as HTTP: no token, a token without the ``start`` scope, an agent
that is not exposed are refused with their gRPC status, and nothing runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
import httpx
import pytest
from a2a.client import Client, ClientCallContext, ClientConfig, ClientFactory
from a2a.client.errors import A2AClientError
from a2a.types import GetTaskRequest, SendMessageRequest, TaskState, a2a_pb2, a2a_pb2_grpc
from a2a.utils.constants import TransportProtocol

from engine.scheduler import WorkerRegistry
from tests.hub.harness import LiveHub, echo, serve_hub
from tests.ports import free_port
from tests.protocols.a2a.harness import artifact_data, message

pytestmark = pytest.mark.anyio
GRPC = TransportProtocol.GRPC.value


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def grpc_hub(tmp_path: Path) -> Iterator[tuple[LiveHub, int]]:
    workers = WorkerRegistry()
    workers.register("echo", echo)
    port = free_port()
    with serve_hub(tmp_path, workers, a2a_grpc_port=port) as live:
        live.deploy("straight.bpmn")
        yield live, port


def _bearer(token: str) -> ClientCallContext:
    return ClientCallContext(service_parameters={"authorization": f"Bearer {token}"})


@asynccontextmanager
async def agent(hub: LiveHub, process_id: str, token: str) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[GRPC],
                              grpc_channel_factory=grpc.aio.insecure_channel)
        client = await ClientFactory(config).create_from_url(f"{hub.url}/a2a/{process_id}")
        async with client:
            yield client


async def test_an_agent_runs_an_exposed_process_over_grpc_and_reads_its_task_back(
    grpc_hub: tuple[LiveHub, int],
) -> None:
    hub, port = grpc_hub
    async with httpx.AsyncClient() as http:  # the public card names the gRPC endpoint and the agent's tenant
        card = (await http.get(f"{hub.url}/a2a/straight/.well-known/agent-card.json")).json()
        card_03 = (await http.get(f"{hub.url}/a2a/straight/.well-known/agent.json")).json()
    [interface] = [i for i in card["supportedInterfaces"] if i["protocolBinding"] == GRPC]
    assert interface == {"url": f"127.0.0.1:{port}", "protocolBinding": GRPC, "tenant": "straight",
                         "protocolVersion": "1.0"}
    assert "GRPC" not in str(card_03)  # 0.3 has no tenants: its card offers the HTTP bindings only

    token = hub.token("start", "read")
    async with agent(hub, "straight", token) as client:
        events = [e async for e in client.send_message(SendMessageRequest(message=message(data={"amount": 3})),
                                                       context=_bearer(token))]
        task = events[-1].task
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert artifact_data(task)["doubled"] == 6
        again = await client.get_task(GetTaskRequest(id=task.id), context=_bearer(token))
    assert again.id == task.id and again.status.state == TaskState.TASK_STATE_COMPLETED
    with hub.client() as rest:  # the same instance the HTTP bindings and REST see
        [instance] = rest.get("/api/v1/process-instances").json()["items"]
    assert (instance["process"], instance["state"]) == ("straight", "completed"), instance


async def test_grpc_calls_need_a_valid_token_the_start_scope_and_an_exposed_agent(
    grpc_hub: tuple[LiveHub, int],
) -> None:
    hub, port = grpc_hub
    reader, starter = hub.token("read"), hub.token("start", "read")
    send = a2a_pb2.SendMessageRequest(message=message(text="hi"), tenant="straight")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)
        for metadata, code, said in (
            ((), grpc.StatusCode.UNAUTHENTICATED, "needs an API token"),
            ((("authorization", "Bearer not-a-token"),), grpc.StatusCode.UNAUTHENTICATED, "not valid"),
            ((("authorization", f"Bearer {reader}"),), grpc.StatusCode.PERMISSION_DENIED, "'start' scope"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.SendMessage(send, metadata=metadata)
            assert refused.value.code() == code and said in (refused.value.details() or "")
        hidden = a2a_pb2.SendMessageRequest(message=message(text="hi"), tenant="no-such-process")
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.SendMessage(hidden, metadata=(("authorization", f"Bearer {starter}"),))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        assert "no agent 'no-such-process'" in (missing.value.details() or "")
        # a task that is not the caller's is not found, with A2A's error reason
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.GetTask(a2a_pb2.GetTaskRequest(id="nope", tenant="straight"),
                               metadata=(("authorization", f"Bearer {reader}"),))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with hub.client() as rest:
        assert rest.get("/api/v1/process-instances").json()["items"] == []  # nothing refused ran


async def test_the_sdk_client_reports_a_refused_grpc_call(grpc_hub: tuple[LiveHub, int]) -> None:
    hub, _ = grpc_hub
    reader = hub.token("read")
    async with agent(hub, "straight", reader) as client:
        with pytest.raises(A2AClientError):
            async for _ in client.send_message(SendMessageRequest(message=message(text="hi")),
                                               context=_bearer(reader)):
                pass
