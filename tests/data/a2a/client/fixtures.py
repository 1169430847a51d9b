"""Helpers of the A2A client's tests: a registry with the remote agent in it, an in-memory record, jobs."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, Task, TaskState

from engine import TaskView
from engine.scheduler import Job
from protocols.a2a import fetch_card
from protocols.a2a._grpc_channel import checked_channel, grpc_target
from protocols.a2a.call_task import RECORD_VARIABLE, A2ACallTask
from protocols.a2a.client import WaitSettings
from protocols.http import EgressPolicy, system_resolver
from registry import Registry
from tests.data.a2a.client.remote_agent import TOKEN, RemoteAgent

TOKEN_ENV = "REMOTE_AGENT_TOKEN"
KEY, INSTANCE, ELEMENT = 41, 7, 9
TERMINAL = {TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED,
            TaskState.TASK_STATE_REJECTED}
FAST = WaitSettings(poll_initial_s=0.05, poll_max_s=0.2, request_timeout_s=10, stream_idle_s=10)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    yield opened
    opened.close()


def register(registry: Registry, remote: RemoteAgent, name: str = "helper") -> None:
    # the card is public: no token needed to read it; the remote listens on loopback, which must be allow-listed
    card = asyncio.run(fetch_card(remote.url, egress=EgressPolicy.parse(["127.0.0.1"])))
    registry.agents.add(name, remote.url, card, token_env=TOKEN_ENV)


@dataclass
class Records:
    """The engine's part in memory: the variables written on the element instance, and whether the job is open."""

    written: list[dict[str, Any]] = field(default_factory=list)
    open: bool = True
    scopes: list[tuple[int, int | None, bool]] = field(default_factory=list)

    def set_variables(
        self, instance: int, variables: dict[str, Any], *, scope: int | None = None, local: bool = True
    ) -> None:
        self.scopes.append((instance, scope, local))
        self.written.append(variables[RECORD_VARIABLE])

    def jobs(self, instance: int) -> list[dict[str, Any]]:
        return [{"key": KEY, "type": "a2a"}] if self.open else []

    def user_tasks(self, *, instance: int | None = None) -> list[TaskView]:
        return []


def job(headers: dict[str, str], variables: dict[str, Any] | None = None) -> Job:
    return Job(
        key=KEY,
        type="a2a",
        variables=variables or {},
        headers=headers,
        retries=3,
        instance=INSTANCE,
        element_id="AskAgent",
        process_id="p",
        element_instance=ELEMENT,
    )


def handler(registry: Registry, records: Records, allow: str = "127.0.0.1", **options: Any) -> A2ACallTask:
    options.setdefault("settings", FAST)
    options.setdefault("environ", {TOKEN_ENV: TOKEN})
    return A2ACallTask(registry, records, EgressPolicy.from_env(allow), **options)


def run(task: A2ACallTask, the_job: Job) -> dict[str, Any]:
    return asyncio.run(task(the_job))


class Background:
    """A handler call on a thread of its own, as the worker loop runs it; ``result()`` waits for it."""

    def __init__(self, task: A2ACallTask, the_job: Job) -> None:
        self.value: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(task, the_job), daemon=True)
        self.thread.start()

    def _run(self, task: A2ACallTask, the_job: Job) -> None:
        try:
            self.value = run(task, the_job)
        except BaseException as exc:
            self.error = exc

    def result(self, timeout: float = 20) -> dict[str, Any]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the call did not end"
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


async def _remote(remote: RemoteAgent, work: Any) -> Any:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=bearer, timeout=10) as http:
        config = ClientConfig(httpx_client=http, streaming=False)
        if remote.grpc_port is not None:  # an agent served over gRPC only
            target = grpc_target(f"127.0.0.1:{remote.grpc_port}")
            assert target is not None
            channel = await checked_channel(EgressPolicy.parse(["127.0.0.1"]), target, headers=bearer,
                                            resolve=system_resolver)
            config.grpc_channel_factory = lambda _url: channel
            config.supported_protocol_bindings = ["GRPC"]
        client = await ClientFactory(config).create_from_url(remote.url)
        async with client:
            return await work(client)


def remote_task(remote: RemoteAgent, task_id: str) -> Task:
    """The task as the remote agent has it now."""
    task: Task = asyncio.run(_remote(remote, lambda c: c.get_task(GetTaskRequest(id=task_id))))
    return task


def release_and_wait(remote: RemoteAgent, task_id: str, timeout_s: float = 20) -> Task:
    """Let the remote ``wait`` task finish and return it once the agent says it ended: a later attempt that
    follows it for a short inline wait then sees the end however loaded the machine is."""
    remote.release()
    deadline = time.monotonic() + timeout_s
    while True:
        task = remote_task(remote, task_id)
        if task.status.state in TERMINAL:
            return task
        assert time.monotonic() < deadline, f"remote task {task_id} still {task.status.state} after {timeout_s} s"
        time.sleep(0.02)


def answer(remote: RemoteAgent, task_id: str, data: dict[str, Any]) -> None:
    """Answer a task that asks for input, as someone at the remote agent's side would."""
    part = Part()
    part.data.struct_value.update(data)
    message = Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=[part], task_id=task_id)

    async def send(client: Client) -> None:
        async for _ in client.send_message(SendMessageRequest(message=message)):
            pass

    asyncio.run(_remote(remote, send))
