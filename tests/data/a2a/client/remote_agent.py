"""A remote A2A agent for the client's tests, built with the a2a-sdk: its own AgentExecutor, uvicorn, 127.0.0.1.

What it does with a new message is chosen by the message's data part
(``{"mode": ...}``, default ``complete``), or, for a client that sends text only, by a
text ``mode:<mode>``:

- ``complete``: completes at once with the artifact ``answer``: a data part
  ``{"echo": <the data received>, "text": <the text received>, "skill": <metadata.skillId>}``
  and a text part ``done``;
- ``fail`` / ``reject``: ends ``failed`` / ``rejected`` with the status text ``the agent could not do it``;
- ``wait``: works until the test calls ``release(outcome)``, then completes (or fails) as above;
- ``input``: asks for input (``input-required``); a follow-up message on the task completes it;
- ``reply``: answers with a message, no task.

Every message that arrives is kept in ``received`` (message id, task id,
and whether the bearer token was right), and a request without the right
token is refused with 401 (gRPC: ``UNAUTHENTICATED``) before the SDK sees it,
as a real agent would. With ``binding="GRPC"`` the agent is served over the
a2a-sdk's gRPC handler on a port of its own, its card (over HTTP, as always)
listing only that interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
import httpx
from a2a.helpers.proto_helpers import get_data_parts, get_text_parts, new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler, GrpcHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import (
    BasePushNotificationSender,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
    TaskUpdater,
)
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Part,
    Role,
    SendMessageRequest,
    TaskState,
    a2a_pb2_grpc,
)
from google.protobuf import message as protobuf_message
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Value  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.servers import serve_app

TOKEN = "remote-agent-secret-7f3a9c"  # the bearer token the agent expects; tests put it in an env variable
FAILURE_TEXT = "the agent could not do it"
INPUT_REQUIRED = TaskState.TASK_STATE_INPUT_REQUIRED


@dataclass
class Received:
    message_id: str
    task_id: str
    push: dict[str, Any] | None = None  # the message's taskPushNotificationConfig (where and with which token)


@dataclass
class AgentState:
    received: list[Received] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)  # set once a ``wait`` task works
    release_as: str | None = None  # set by ``release``: how waiting tasks end
    _waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def wait_for_release(self) -> str:
        event = asyncio.Event()
        with self._lock:
            if self.release_as is None:
                self._waiting.append((asyncio.get_running_loop(), event))
        if self.release_as is None:
            await event.wait()
        assert self.release_as is not None
        return self.release_as

    def release(self, outcome: str) -> None:
        with self._lock:
            self.release_as = outcome
            waiting, self._waiting = self._waiting, []
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that server has stopped
                loop.call_soon_threadsafe(event.set)


def _reply(text: str) -> Message:
    return Message(message_id=f"reply-{time.monotonic_ns()}", role=Role.ROLE_AGENT, parts=[Part(text=text)])


class Executor(AgentExecutor):
    def __init__(self, state: AgentState) -> None:
        self.state = state

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        data = get_data_parts(list(context.message.parts))
        text = "\n".join(get_text_parts(list(context.message.parts)))
        first = data[0] if data and isinstance(data[0], dict) else {}
        by_text = text.removeprefix("mode:") if not data and text.startswith("mode:") else None  # text-only clients
        mode = by_text or str(first.get("mode", "complete"))
        skill_value = context.message.metadata.fields.get("skillId")
        skill = skill_value.string_value if skill_value is not None else None
        if mode == "reply" and context.current_task is None:
            await event_queue.enqueue_event(_reply(f"hello {text}".strip()))
            return
        task = context.current_task
        if task is None:
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        answered = context.current_task is not None and context.current_task.status.state == INPUT_REQUIRED
        if answered:
            await self._finish(updater, "complete", {"answer": data[0] if data else text}, text, skill)
            return
        if mode == "input":
            await updater.requires_input(_reply("which colour?"))
            return
        await updater.start_work()
        if mode == "wait":
            self.state.started.set()
            mode = await self.state.wait_for_release()
        await self._finish(updater, mode, first, text, skill)

    async def _finish(self, updater: TaskUpdater, mode: str, data: Any, text: str, skill: str | None) -> None:
        if mode in ("fail", "reject"):
            message = _reply(FAILURE_TEXT)
            await (updater.failed(message) if mode == "fail" else updater.reject(message))
            return
        echo = Value()
        echo.struct_value.update({"echo": data, "text": text, "skill": skill})
        await updater.add_artifact([Part(data=echo), Part(text="done")], name="answer")
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id is not None and context.context_id is not None
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


class _Recorder:
    """Keeps every message that arrives, and refuses requests without the right token (cards are public)."""

    def __init__(self, app: ASGIApp, state: AgentState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith("agent-card.json"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
            return
        body = await request.body()
        sent = _sent(scope["path"], body)
        if sent is not None:
            message, push = sent
            self.state.received.append(Received(str(message.get("messageId", "")), str(message.get("taskId", "")),
                                                push))

        replayed = False

        async def replay() -> Any:  # the body once, then what the client does (a disconnect, for a stream)
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class _GrpcRecorder(GrpcHandler):
    """``_Recorder`` for the gRPC binding: the token in the ``authorization`` metadata, each message kept."""

    def __init__(self, handler: DefaultRequestHandler, state: AgentState) -> None:
        super().__init__(handler)
        self.state = state

    async def _check(self, request: protobuf_message.Message, context: grpc.aio.ServicerContext) -> None:
        metadata = {str(k).lower(): v for k, v in (context.invocation_metadata() or ())}
        if metadata.get("authorization") != f"Bearer {TOKEN}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unauthorized")
        if isinstance(request, SendMessageRequest):
            push = MessageToDict(request.configuration).get("taskPushNotificationConfig")
            self.state.received.append(Received(request.message.message_id, request.message.task_id, push))

    async def _handle_unary(self, request: protobuf_message.Message, context: grpc.aio.ServicerContext,
                            handler_func: Callable[[ServerCallContext], Awaitable[Any]], default_response: Any) -> Any:
        await self._check(request, context)
        return await super()._handle_unary(request, context, handler_func, default_response)

    async def _handle_stream(self, request: protobuf_message.Message, context: grpc.aio.ServicerContext,
                             handler_func: Callable[[ServerCallContext], AsyncIterable[Any]]) -> AsyncIterable[Any]:
        await self._check(request, context)
        async for item in super()._handle_stream(request, context, handler_func):
            yield item


def _sent(path: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The message a SendMessage or SendStreamingMessage request carries (JSON-RPC or HTTP+JSON), with its push
    notification config if it names one; None for any other request."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if path.startswith("/message:"):
        params = payload
    elif payload.get("method") in ("SendMessage", "SendStreamingMessage"):
        params = payload.get("params") or {}
    else:
        return None
    message = params.get("message")
    push = (params.get("configuration") or {}).get("taskPushNotificationConfig")
    return (message, push if isinstance(push, dict) else None) if isinstance(message, dict) else None


def card(base: str, *, streaming: bool, binding: str, push: bool = False) -> AgentCard:
    return AgentCard(
        name="Remote helper",
        description="Answers, fails or waits, as its message asks.",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=base, protocol_binding=binding, protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=streaming, push_notifications=push),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain", "application/json"],
        skills=[AgentSkill(id="answer", name="Answer", description="Answers a message.", tags=["test"])],
    )


@dataclass
class RemoteAgent:
    url: str
    port: int
    state: AgentState
    grpc_port: int | None = None  # where it serves A2A over gRPC (``binding="GRPC"``)

    @property
    def received(self) -> list[Received]:
        return self.state.received

    def release(self, outcome: str = "complete") -> None:
        """Let the ``wait`` tasks finish, completed (or ``fail``)."""
        self.state.release(outcome)


@contextmanager
def serve_agent(
    *, streaming: bool = True, binding: str = "JSONRPC", push: bool = False, push_silent: bool = False
) -> Iterator[RemoteAgent]:
    """The agent on 127.0.0.1 (a free port), stopped when the block ends; ``push``: its card says so and it sends
    push notifications (each event of a task, as the a2a-sdk does, to the URL a message's configuration names);
    ``push_silent``: its card says so, it keeps the configs (``received``), and the test sends them itself."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    grpc_port = _free_port() if binding == "GRPC" else None
    state = AgentState()
    agent_card = card(f"127.0.0.1:{grpc_port}" if grpc_port else base, streaming=streaming, binding=binding,
                      push=push or push_silent)
    configs = InMemoryPushNotificationConfigStore() if push or push_silent else None
    # no kept-alive connections: nothing is left open when the server stops without closing this client
    pusher = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) if push else None
    handler = DefaultRequestHandler(
        agent_executor=Executor(state), task_store=InMemoryTaskStore(), agent_card=agent_card,
        push_config_store=configs,
        push_sender=BasePushNotificationSender(pusher, configs) if pusher and configs else None,
    )
    routes = [*create_agent_card_routes(agent_card), *create_jsonrpc_routes(handler, "/"), *create_rest_routes(handler)]
    lifespan = None
    if grpc_port is not None:
        routes = create_agent_card_routes(agent_card)  # the card over HTTP; the agent over gRPC only
        lifespan = _grpc_lifespan(_GrpcRecorder(handler, state), grpc_port)
    app = _Recorder(Starlette(routes=routes, lifespan=lifespan), state)
    try:
        with serve_app(app, sock, what="the remote A2A agent", lifespan="on" if lifespan else "off"):
            try:
                yield RemoteAgent(url=base, port=port, state=state, grpc_port=grpc_port)
            finally:
                state.release("complete")  # a task still waiting ends, so that the server can stop
    finally:
        sock.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _grpc_lifespan(handler: GrpcHandler, port: int) -> Callable[[Starlette], Any]:
    """A lifespan serving ``handler`` over gRPC on 127.0.0.1:``port`` in the HTTP server's own event loop."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        server = grpc.aio.server()
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(handler, server)  # type: ignore[no-untyped-call]
        if not server.add_insecure_port(f"127.0.0.1:{port}"):
            raise RuntimeError(f"the remote A2A agent cannot listen for gRPC on 127.0.0.1:{port}")
        await server.start()
        try:
            yield
        finally:
            await server.stop(0.5)

    return lifespan
