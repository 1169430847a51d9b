"""``subscriptions/listen`` on 2026-07-28 (SEP-2575): an instance's changes and a task's status reach the client on
the listen request's own stream, through a live hub over real HTTP on 127.0.0.1 (``protocols.mcp._listen``)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from mcp.shared.subscriptions import ResourceUpdated

from tests.hub.harness import LiveHub, assistant, one_user_task, serve_hub

pytestmark = pytest.mark.anyio
TASKS = "io.modelcontextprotocol/tasks"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("listen")) as live:
        with live.client() as rest:
            model = one_user_task("sign_off", "Sign off", "managers")
            rest.post("/api/v1/deployments", files=[("files", ("sign_off.bpmn", model, "application/xml"))]
                      ).raise_for_status()
        yield live


def _start(hub: LiveHub) -> int:
    with hub.client() as rest:
        answer = rest.post("/api/v1/process-instances", json={"processId": "sign_off"})
        answer.raise_for_status()
        return int(answer.json()["instance"])


def _complete_its_task(hub: LiveHub, instance: int) -> None:
    with hub.client() as rest:
        [task] = rest.get("/api/v1/user-tasks", params={"instance": instance}).json()["items"]
        rest.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {}}).raise_for_status()


class Stream:
    """A raw ``subscriptions/listen`` request whose SSE frames a task reads into ``frames`` (JSON-RPC messages)."""

    def __init__(self, hub: LiveHub, notifications: dict[str, Any], *, tasks: bool = True,
                 token: str | None = None) -> None:
        capabilities = {"extensions": {TASKS: {}}} if tasks else {}
        self.body = {"jsonrpc": "2.0", "id": 41, "method": "subscriptions/listen", "params": {
            "notifications": notifications,
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
                      "io.modelcontextprotocol/clientCapabilities": capabilities}}}
        self.hub = hub
        self.token = token or hub.admin
        self.send, self.frames = anyio.create_memory_object_stream[dict[str, Any]](100)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Stream]:
        """Reading while the block runs; leaving it drops the connection (the hub's handler ends)."""
        try:
            async with anyio.create_task_group() as reading:
                reading.start_soon(self._read)
                yield self
                reading.cancel_scope.cancel()
        finally:
            self.send.close()
            self.frames.close()

    async def _read(self) -> None:
        headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen",
                   "Accept": "application/json, text/event-stream", "Authorization": f"Bearer {self.token}"}
        async with (
            httpx.AsyncClient(base_url=self.hub.url, timeout=30) as http,
            http.stream("POST", "/mcp", json=self.body, headers=headers) as answer,
        ):
            if not answer.headers.get("content-type", "").startswith("text/event-stream"):
                await self.send.send(json.loads(await answer.aread()))
                return
            async for line in answer.aiter_lines():
                if line.startswith("data:") and line[5:].strip():
                    await self.send.send(json.loads(line[5:]))

    async def next(self, method: str, timeout_s: float = 15.0) -> dict[str, Any]:
        """The next frame with ``method`` (skipping others; ``error``: an error answer)."""
        with anyio.fail_after(timeout_s):
            async for frame in self.frames:
                if frame.get("method") == method or (method == "error" and "error" in frame):
                    return frame
        raise AssertionError("the stream ended")


async def test_a_listened_task_is_sent_as_it_stands_and_again_when_it_completes(hub: LiveHub) -> None:
    instance = _start(hub)
    async with Stream(hub, {"taskIds": [str(instance), "999999"]}).open() as stream:
        ack = await stream.next("notifications/subscriptions/acknowledged")
        assert ack["params"]["notifications"] == {"taskIds": [str(instance)]}  # the unknown one is not honoured
        assert ack["params"]["_meta"][SUBSCRIPTION_ID] == 41
        now = (await stream.next("notifications/tasks"))["params"]
        assert (now["taskId"], now["status"]) == (str(instance), "working")
        assert "Sign off" in now["statusMessage"] and now["_meta"][SUBSCRIPTION_ID] == 41
        await anyio.to_thread.run_sync(_complete_its_task, hub, instance)
        done = (await stream.next("notifications/tasks"))["params"]
        assert (done["taskId"], done["status"]) == (str(instance), "completed")
        assert done["result"]["_meta"]["agenthub/state"] == "completed"  # what tasks/get answers: the result too


async def test_a_listened_instance_sends_resource_updates_and_the_sdk_client_reads_them(hub: LiveHub) -> None:
    instance = _start(hub)
    uri = f"agenthub://instances/{instance}"
    async with (
        assistant(hub, hub.admin, "2026-07-28") as client,
        client.listen(resource_subscriptions=[uri, "agenthub://instances/999999"]) as subscription,
    ):
        await anyio.to_thread.run_sync(_complete_its_task, hub, instance)
        with anyio.fail_after(15):
            events = [await subscription.__anext__()]
        honored = subscription.honored
    assert honored.resource_subscriptions == [uri]  # what resources/read would not answer is left out
    assert events == [ResourceUpdated(uri=uri)]


async def test_task_notifications_need_the_tasks_extension_and_capabilities_promise_no_list_changes(
    hub: LiveHub,
) -> None:
    async with Stream(hub, {"taskIds": [str(_start(hub))]}, tasks=False).open() as stream:
        refused = await stream.next("error")
    assert refused["error"]["code"] == -32021
    assert refused["error"]["data"]["requiredCapabilities"] == {"extensions": {TASKS: {}}}
    async with Stream(hub, {"taskIds": "1"}).open() as stream:
        malformed = await stream.next("error")
    assert malformed["error"]["code"] == -32602 and "taskIds must be a list" in malformed["error"]["message"]

    discover = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}}}
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "server/discover",
               "Accept": "application/json, text/event-stream"}
    with hub.client() as rest:
        found = rest.post("/mcp", json=discover, headers=headers).json()["result"]["capabilities"]
    assert found["resources"] == {"subscribe": True, "listChanged": False}  # updates on listen streams only
    assert found["tools"] == {"listChanged": False} and found["prompts"] == {"listChanged": False}


async def test_a_caller_holds_at_most_sixteen_listen_streams_and_a_closed_one_frees_its_place(hub: LiveHub) -> None:
    token = hub.token("read")
    async with contextlib.AsyncExitStack() as held:
        streams = [await held.enter_async_context(Stream(hub, {}, token=token).open()) for _ in range(16)]
        for stream in streams:
            await stream.next("notifications/subscriptions/acknowledged")
        async with Stream(hub, {}, token=token).open() as one_more:
            refused = await one_more.next("error")
        assert refused["error"]["code"] == -32600 and "too many listen streams" in refused["error"]["message"]
        async with Stream(hub, {}).open() as another_callers:  # the admin's own count: not full
            await another_callers.next("notifications/subscriptions/acknowledged")
    with anyio.fail_after(10):
        while True:  # the sixteen went with their connections: the caller may listen again
            async with Stream(hub, {}, token=token).open() as again:
                frame = await _first(again)
            if frame.get("method") == "notifications/subscriptions/acknowledged":
                break
            await anyio.sleep(0.1)


async def _first(stream: Stream) -> dict[str, Any]:
    with anyio.fail_after(5):
        async for frame in stream.frames:
            return frame
    raise AssertionError("the stream ended")
