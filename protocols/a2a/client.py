"""Calling a registered remote A2A agent: send one message, follow the task it starts to its end.

Owns: turning a pinned card into an a2a-sdk client bound to one interface
(JSON-RPC, HTTP+JSON or gRPC, the first the card lists), over connections the
egress policy admits (``_egress``, ``_grpc_channel``), with ``Authorization:
Bearer <token>`` (a header, or gRPC metadata) read from the agent's environment
variable when the session opens; sending a message;
following a task to a terminal state, by streaming (SubscribeToTask) when the
card says the agent streams, else by polling GetTask with exponential backoff;
and handing back the finished task as plain JSON (``TaskOutcome``, in
``client_outcome``).

Does not know: the engine, jobs, BPMN errors or what is recorded for a retry
(``protocols.a2a.call_task`` does); whether the agent may be called (the
registry decided that before handing over a ``RemoteAgent``).

Errors: ``client_errors`` (re-exported here); the SDK's and the egress
policy's pass through unchanged.

    async with connect(agent, policy) as session:
        outcome = await session.send(message, started=remember)  # or: await session.follow(task_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from a2a.client import Client, ClientCallContext, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
)
from a2a.utils.constants import TransportProtocol
from a2a.utils.errors import A2AError, TaskNotFoundError
from google.protobuf.json_format import ParseError  # type: ignore[import-untyped]

from protocols import tracecontext
from protocols.a2a._egress import checked_client
from protocols.a2a._grpc_channel import checked_channel, grpc_target
from protocols.a2a.client_errors import A2ACallError, AgentUnusable, RemoteTaskLost, ResultTooLarge
from protocols.a2a.client_outcome import TaskOutcome, message_text, state_name
from protocols.http import EgressPolicy, Resolver, system_resolver
from registry import RemoteAgent

__all__ = [
    "INTERRUPTED",
    "TERMINAL",
    "A2ACallError",
    "AgentSession",
    "AgentUnusable",
    "RemoteTaskLost",
    "ResultTooLarge",
    "TaskOutcome",
    "WaitSettings",
    "connect",
    "state_name",
]

log = logging.getLogger("agenthub.a2a.client")

TERMINAL = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_REJECTED,
    }
)
INTERRUPTED = frozenset({TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED})
_GRPC = TransportProtocol.GRPC.value
_BINDINGS = (TransportProtocol.JSONRPC.value, TransportProtocol.HTTP_JSON.value, _GRPC)


@dataclass(frozen=True, slots=True)
class WaitSettings:
    """How the client waits. Polling starts at ``poll_initial_s`` and doubles up to ``poll_max_s``."""

    poll_initial_s: float = 0.5
    poll_max_s: float = 30.0
    request_timeout_s: float = 30.0  # one non-streaming request
    stream_idle_s: float = 120.0  # a stream silent this long is dropped and the task read again


def _event_task(event: StreamResponse) -> tuple[str, str, TaskState | None]:
    """The task id, context id and state (None when the event does not say) of a stream event."""
    kind = event.WhichOneof("payload")
    if kind == "task":
        return event.task.id, event.task.context_id, event.task.status.state
    if kind == "status_update":
        return event.status_update.task_id, event.status_update.context_id, event.status_update.status.state
    if kind == "artifact_update":
        return event.artifact_update.task_id, event.artifact_update.context_id, None
    return "", "", None


def pinned_card(agent: RemoteAgent) -> AgentCard:
    """The agent's pinned card as the SDK's type, reduced to the one interface this client will use.

    That interface is the first the card lists with a binding this client
    speaks and a URL it can use: JSON-RPC or HTTP+JSON at an http(s) URL,
    gRPC at one of the forms ``_grpc_channel`` reads (``host:port``,
    ``https://host``...). The card's own order is the agent's preference.
    Whether its host may be reached is decided at connection time, by the
    egress policy.
    """
    try:
        card = parse_agent_card(copy.deepcopy(agent.card))
    except (ParseError, ValueError, TypeError) as exc:
        raise AgentUnusable(f"agent '{agent.name}': its pinned card is not a valid agent card: {exc}") from None
    offered: list[str] = []
    for interface in card.supported_interfaces:
        offered.append(f"{interface.protocol_binding or '?'} {interface.url}")
        if interface.protocol_binding not in _BINDINGS:
            continue
        if _usable(interface.protocol_binding, interface.url):
            chosen = copy.deepcopy(interface)
            del card.supported_interfaces[:]
            card.supported_interfaces.append(chosen)
            return card
    raise AgentUnusable(
        f"agent '{agent.name}' offers no interface this hub can call (it needs JSONRPC or HTTP+JSON over http(s), "
        "or GRPC at host:port or an http(s) URL); "
        f"its card lists: {'; '.join(offered) or 'none'}"
    )


def _usable(binding: str, url: str) -> bool:
    if binding == _GRPC:
        return grpc_target(url) is not None
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


def bearer_headers(agent: RemoteAgent, environ: Mapping[str, str]) -> dict[str, str]:
    """The Authorization header for the agent, read from its environment variable now (never stored)."""
    if not agent.token_env:
        return {}
    secret = environ.get(agent.token_env)
    if not secret:
        raise AgentUnusable(
            f"environment variable {agent.token_env} is not set; it holds agent '{agent.name}''s bearer token "
            "(set it in the hub's environment, or register the agent again with another --token-env)"
        )
    return {"Authorization": f"Bearer {secret}"}


@asynccontextmanager
async def connect(
    agent: RemoteAgent,
    egress: EgressPolicy,
    *,
    settings: WaitSettings | None = None,
    environ: Mapping[str, str] | None = None,
    resolve: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[AgentSession]:
    """A session with ``agent``: one HTTP client, closed when the block ends.

    ``ssl_context``: one to share between sessions (building one reads the CA bundle: tens of ms each time).
    """
    settings = settings or WaitSettings()
    card = pinned_card(agent)
    headers = bearer_headers(agent, os.environ if environ is None else environ)
    streaming = card.capabilities.streaming
    interface = card.supported_interfaces[0]
    binding = interface.protocol_binding
    async with contextlib.AsyncExitStack() as stack:
        config = ClientConfig(streaming=streaming, supported_protocol_bindings=[binding])
        if binding == _GRPC:  # a channel, no HTTP client (building one reads the CA bundle)
            target = grpc_target(interface.url)
            assert target is not None  # pinned_card chose it for that
            channel = await checked_channel(egress, target, headers=headers, resolve=resolve)
            config.grpc_channel_factory = lambda _url: channel  # closed with the client
        else:
            config.httpx_client = await stack.enter_async_context(checked_client(
                egress, headers=headers, timeout_s=settings.request_timeout_s, resolve=resolve,
                ssl_context=ssl_context))
        async with ClientFactory(config).create(card) as client:
            yield AgentSession(agent.name, client, streaming=streaming, settings=settings,
                               pushes=card.capabilities.push_notifications)


Started = Callable[[str, str], Awaitable[None]]
"""``started(task_id, context_id)``: called once, as soon as the agent names the task, before any waiting."""


class AgentSession:
    """Sends to and follows tasks of one agent. Not shared between jobs: a session is one call's."""

    def __init__(self, name: str, client: Client, *, streaming: bool, settings: WaitSettings,
                 pushes: bool = False) -> None:
        self.name = name
        self.streaming = streaming
        self.pushes = pushes  # the card says the agent sends push notifications
        self.settings = settings
        self._client = client
        self._stream = ClientCallContext(timeout=settings.stream_idle_s)
        # a deadline for one request (gRPC has none by itself; the HTTP client has the same as its default)
        self._unary = ClientCallContext(timeout=settings.request_timeout_s)
        self._seen: dict[str, TaskState] = {}

    async def send(
        self, message: Message, *, started: Started, push: TaskPushNotificationConfig | None = None
    ) -> TaskOutcome:
        """Send ``message`` and wait for the task it starts to end; a direct answer ends the call at once.

        The message's metadata carries the current trace context (``protocols.tracecontext``); ``push``: where
        the agent notifies the task's updates (a wait without a worker is woken by them)."""
        attributes = {"rpc.system": "a2a", "rpc.method": "SendMessage", "agenthub.a2a.agent": self.name}
        with tracecontext.client_span(f"SendMessage {self.name}", attributes) as (span, carrier):
            if carrier:
                message.metadata.update(carrier)
            outcome = await self._send(message, started, push)
            span.set_attribute("agenthub.a2a.task_state", outcome.state)
            return outcome

    async def _send(self, message: Message, started: Started, push: TaskPushNotificationConfig | None) -> TaskOutcome:
        request = SendMessageRequest(message=message)
        if push is not None:
            request.configuration.task_push_notification_config.CopyFrom(push)
        if not self.streaming:
            request.configuration.return_immediately = True  # the task at once, then polled
        task_id = ""
        try:
            # The stream's (longer) timeout for a plain send too: an agent that ignores returnImmediately answers
            # when the task ends, and giving up before that would make the next attempt send again.
            async for event in self._client.send_message(request, context=self._stream):
                if event.WhichOneof("payload") == "message" and not task_id:
                    return TaskOutcome.of_message(event.message)
                found, context_id, state = _event_task(event)
                if found and not task_id:
                    task_id = found
                    await started(task_id, context_id)
                if state in TERMINAL or state == TaskState.TASK_STATE_INPUT_REQUIRED:
                    if event.WhichOneof("payload") == "task":
                        return TaskOutcome.of_task(event.task)
                    break
                if state is not None:
                    self._note(task_id, state, event)
        except A2AError as exc:
            if not task_id:
                raise
            log.debug("agent '%s': the stream of task %s broke (%s); reading the task", self.name, task_id, exc)
        if not task_id:
            raise A2ACallError(f"agent '{self.name}' answered the message with neither a task nor a message")
        return await self.follow(task_id)

    async def submit(self, message: Message, *, push: TaskPushNotificationConfig | None = None) -> TaskOutcome:
        """Send ``message`` and return at once with the task as the agent first describes it (or its direct
        answer), as Camunda's A2A client does in its polling and notification modes; ``push``: where the agent
        sends the task's updates. Nothing here follows the task."""
        request = SendMessageRequest(message=message)
        request.configuration.return_immediately = True
        if push is not None:
            request.configuration.task_push_notification_config.CopyFrom(push)
        async for event in self._client.send_message(request, context=self._stream):
            kind = event.WhichOneof("payload")
            if kind == "message":
                return TaskOutcome.of_message(event.message)
            if kind == "task":
                return TaskOutcome.of_task(event.task)
            task_id, _, _ = _event_task(event)
            if task_id:
                return TaskOutcome.of_task(await self.get(task_id))
        raise A2ACallError(f"agent '{self.name}' answered the message with neither a task nor a message")

    async def follow(self, task_id: str) -> TaskOutcome:
        """Wait for task ``task_id`` to end, or to ask for input (``input-required``); its outcome then."""
        settings = self.settings
        delay = settings.poll_initial_s
        while True:
            task = await self.get(task_id)
            if task.status.state in TERMINAL or task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
                return TaskOutcome.of_task(task)  # input-required: the process asks one of its people
            self._note(task_id, task.status.state, task)
            if self.streaming and task.status.state not in INTERRUPTED:
                began = time.monotonic()
                if await self._stream_until_end(task_id):
                    continue  # it ended: read it
                if time.monotonic() - began >= settings.poll_max_s:
                    delay = settings.poll_initial_s  # a long stream closed by the server: subscribe again at once
                    continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.poll_max_s)

    async def get(self, task_id: str, *, history_length: int | None = None) -> Task:
        """The task as the agent has it now; ``history_length``: at most that many of its last messages (A2A's
        ``historyLength``; None: as the agent likes)."""
        request = GetTaskRequest(id=task_id)
        if history_length is not None:
            request.history_length = history_length
        try:
            return await self._client.get_task(request, context=self._unary)
        except TaskNotFoundError:
            raise RemoteTaskLost(
                f"agent '{self.name}' no longer knows task {task_id}, which it started for this call; nothing is "
                "sent again by itself (see docs/A2A.md, 'Calling remote agents', for starting over)"
            ) from None

    async def cancel(self, task_id: str) -> None:
        await self._client.cancel_task(CancelTaskRequest(id=task_id), context=self._unary)

    async def _stream_until_end(self, task_id: str) -> bool:
        """Follow the task's stream; True once it says the task ended, False when it stops before that."""
        try:
            async for event in self._client.subscribe(SubscribeToTaskRequest(id=task_id), context=self._stream):
                _, _, state = _event_task(event)
                if state in TERMINAL:
                    return True
                if state is not None:
                    self._note(task_id, state, event)
                    if state in INTERRUPTED:
                        return False  # waits for someone: polled from now on
        except (A2AError, NotImplementedError) as exc:  # a broken stream, or a task that ended meanwhile
            log.debug("agent '%s': subscribing to task %s stopped: %s", self.name, task_id, exc)
        return False

    def _note(self, task_id: str, state: TaskState, source: Task | StreamResponse) -> None:
        """Log a change of state: info for a task that waits on someone, debug otherwise."""
        if self._seen.get(task_id) == state:
            return
        self._seen[task_id] = state
        if state in INTERRUPTED:
            status = _status(source)
            said = message_text(status.message.parts) if status is not None and status.HasField("message") else None
            log.info(
                "agent '%s': task %s is %s%s; still waiting (authentication is given at the agent)",
                self.name,
                task_id,
                state_name(state),
                f" ({said[:200]})" if said else "",
            )
        else:
            log.debug("agent '%s': task %s is %s", self.name, task_id, state_name(state))


def _status(source: Task | StreamResponse) -> TaskStatus | None:
    if isinstance(source, Task):
        return source.status
    kind = source.WhichOneof("payload")
    if kind == "task":
        return source.task.status
    if kind == "status_update":
        return source.status_update.status
    return None
