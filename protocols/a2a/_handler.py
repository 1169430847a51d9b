"""The A2A methods on top of the engine: a ``RequestHandler`` whose tasks are process instances.

Why not the SDK's ``DefaultRequestHandler`` with an ``AgentExecutor`` and a
``TaskStore``: that handler keeps each running task in an in-memory
``ActiveTask`` that the executor feeds with events, and writes the store
from those events. Here the engine already is the durable task store and
the instance moves on its own (workers, timers, people), so every method
reads the instance instead: a restarted hub answers exactly as before, and
no task state lives only in memory.

Who may see what: a task is visible only to the principal that started it
(the instance's ``started_by``, which the engine records at start and no
variable can change; not the ``caller`` variable) and only through its process's agent
(or the hub-level endpoint). Anything else gets the same "task not found"
as an id that names nothing (RELIABILITY.md A2). Sending, cancelling and
setting push configs need the ``start`` scope; the HTTP layer refuses those
with 403 before they get here, and this class checks again. The push-config
methods come from ``push_configs.PushConfigMethods``.

A message sent again (the same ``messageId`` from the same principal, within
``registry.a2a_messages.RETENTION_MS``) is answered with the task the first
one started or continued, and nothing starts or completes again: a client that
resends after a crash or a lost answer does not double the work. The ids are
kept in the registry, so this holds across a hub restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from a2a.auth.user import User
from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue import Event
from a2a.server.request_handlers.request_handler import RequestHandler, validate_request_params
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetExtendedAgentCardRequest,
    GetTaskRequest,
    InvalidParamsError,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    Role,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskState,
    TaskStatusUpdateEvent,
    UnsupportedOperationError,
)
from a2a.utils.errors import InvalidRequestError
from a2a.utils.task import HistoryLengthConfig, apply_history_length, validate_history_length
from google.protobuf.json_format import MessageToDict, ParseDict  # type: ignore[import-untyped]

from engine import Channel, Conflict, Engine, InstanceView, InvalidInput, NotFound
from engine.arguments import ArgumentError, check_arguments
from engine.canonical import canonical_hash
from engine.exposure import ToolSpec
from protocols import tracecontext
from protocols.a2a._convert import (
    CALLER_VARIABLE,
    CONTEXT_VARIABLE,
    INTERRUPTED,
    MESSAGE_ID_VARIABLE,
    TERMINAL,
    Snapshot,
    load_snapshot,
    message_variables,
    read_snapshot,
    reply_message,
    status,
    task_artifacts,
    to_task,
)
from protocols.a2a._listing import list_tasks
from protocols.a2a._virtual import VirtualAgents, virtual_of, within
from protocols.a2a.push_configs import PushConfigMethods, PushConfigs
from protocols.actors import actor_of
from protocols.instances import follow
from protocols.task_access import TaskRefused, check_complete
from registry import MessageIds, Principal, TaskHistory

T = TypeVar("T")
CardSource = Callable[[ServerCallContext], Awaitable[AgentCard]]

PRINCIPAL = "principal"
"""``ServerCallContext.state`` key of the verified ``registry.Principal``."""

AGENT = "processId"
"""``ServerCallContext.state`` key of the agent addressed (a process id), absent at the hub-level endpoint."""

MAX_TASK_KEY = 2**63 - 1
MAX_HISTORY = 100
"""The most messages a task's history shows (its last ones); ``historyLength`` asks for fewer."""


class PrincipalUser(User):
    """The principal as the SDK's ``User`` (``ServerCallContext.user``), for every binding's context builder."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def user_name(self) -> str:
        return self.principal.name


def principal_of(context: ServerCallContext) -> Principal:
    found = context.state.get(PRINCIPAL)
    if not isinstance(found, Principal):  # the hub's guard sets it; fail closed if it did not
        raise InvalidRequestError(message="this request carries no verified identity: send a bearer token")
    return found


def agent_of(context: ServerCallContext) -> str | None:
    found = context.state.get(AGENT)
    return found if isinstance(found, str) else None


# The sends in progress per message ledger (one per hub), by (caller, message id): a lock and how many hold or wait.
_SENDING: weakref.WeakKeyDictionary[MessageIds, dict[tuple[str, str], list[Any]]] = weakref.WeakKeyDictionary()


class ProcessTaskHandler(PushConfigMethods, RequestHandler):
    """Every A2A method, answered from the engine's instances; push configs only when ``push`` is given."""

    def __init__(
        self,
        engine: Engine,
        *,
        call_timeout_s: float,
        stream_timeout_s: float,
        extended_card: CardSource,
        push: PushConfigs | None = None,
        messages: MessageIds | None = None,
        history: TaskHistory | None = None,
    ) -> None:
        self.engine = engine
        self.history = history  # the messages of each task (None: tasks show no history)
        self.call_timeout_s = call_timeout_s
        self.stream_timeout_s = stream_timeout_s
        self.extended_card = extended_card
        self.push = push
        self.messages = messages
        self.virtual: VirtualAgents | None = None  # set by the endpoint: audits calls through virtual agents

    async def _io(self, work: Callable[[], T]) -> T:
        return await asyncio.to_thread(work)

    def _may_start(self, context: ServerCallContext, action: str) -> None:
        _require(principal_of(context), "start", action)

    # --- reading tasks ------------------------------------------------------------------------

    async def owned(self, task_id: str, context: ServerCallContext) -> Snapshot:
        """The caller's own task through this agent, or ``TaskNotFoundError`` exactly as for an unknown id."""
        principal = principal_of(context)
        missing = TaskNotFoundError(message=f"task '{task_id}' not found")
        key = _task_key(task_id)
        if key is None:
            raise missing
        try:
            snapshot = await self._io(lambda: load_snapshot(self.engine, key))
        except NotFound:
            raise missing from None
        agent = agent_of(context)
        elsewhere = ((agent is not None and snapshot.view.process_id != agent)
                     or not within(context, snapshot.view.process_id))  # a virtual agent: only its set's tasks
        if snapshot.caller != principal.name or elsewhere:
            raise missing
        return snapshot

    @validate_request_params
    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task | None:
        validate_history_length(params)
        return await self._task(await self.owned(params.id, context), params)

    async def _task(self, snapshot: Snapshot, config: HistoryLengthConfig | None) -> Task:
        """The task with its history: every message kept (up to ``MAX_HISTORY``), or the last ``historyLength``."""
        task = to_task(snapshot)
        if self.history is None:
            return task
        count = config.history_length if config is not None and config.HasField("history_length") else MAX_HISTORY
        task.history.extend(await self._io(lambda: self._history_of(task.id, min(count, MAX_HISTORY))))
        return apply_history_length(task, config)

    def _history_of(self, task_id: str, count: int) -> list[Message]:
        if self.history is None or count <= 0:
            return []
        return [ParseDict(kept, Message(), ignore_unknown_fields=True) for kept in self.history.last(task_id, count)]

    async def _keep(self, task_id: str, *messages: Message) -> None:
        """Add ``messages`` to the task's history, a caller's with the digest of its parts."""
        if self.history is None:
            return
        history = self.history
        kept = [(MessageToDict(m), _digest(m) if m.role == Role.ROLE_USER else None) for m in messages]
        await self._io(lambda: history.append(task_id, kept))

    @validate_request_params
    async def on_list_tasks(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        principal = principal_of(context)
        validate_history_length(params)
        server = virtual_of(context)  # a virtual agent lists its set's tasks only
        within = server.processes if server is not None else None
        return await self._io(lambda: list_tasks(self.engine, params, principal.name, agent_of(context), within,
                                                 history=self._history_of))

    # --- sending messages ---------------------------------------------------------------------

    @validate_request_params
    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Task | Message:
        validate_history_length(params.configuration)
        snapshot = await self._accept(params, context)
        if not params.configuration.return_immediately and snapshot.state not in TERMINAL | INTERRUPTED:
            view = await follow(self.engine, snapshot.key, self.call_timeout_s, first=snapshot.view, until_outside=True)
            snapshot = await self._io(lambda: read_snapshot(self.engine, view))
        return reply_message(snapshot) or await self._task(snapshot, params.configuration)

    @validate_request_params
    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event, None]:
        validate_history_length(params.configuration)
        snapshot = await self._accept(params, context)
        reply = reply_message(snapshot)
        if reply is not None:  # the process answered at once with a message: no task to stream
            yield reply
            return
        async for event in self._stream(snapshot, first=True):
            yield event

    @validate_request_params
    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event, None]:
        snapshot = await self.owned(params.id, context)
        if snapshot.state in TERMINAL:
            raise UnsupportedOperationError(
                message=f"task {params.id} is {_state_name(snapshot.state)}: there is nothing more to stream"
            )
        async for event in self._stream(snapshot, first=False):
            yield event

    async def _accept(self, params: SendMessageRequest, context: ServerCallContext) -> Snapshot:
        """Start an instance for the message, or complete the caller's user task with it (a message with a taskId).

        It continues the trace the message's metadata carries (``protocols.tracecontext``)."""
        attributes = {"rpc.system": "a2a", "rpc.method": "SendMessage", "agenthub.a2a.agent": agent_of(context)}
        with tracecontext.server_span("SendMessage", tracecontext.a2a_carrier(params.message), attributes) as span:
            snapshot = await self._accept_traced(params, context)
            span.set_attribute("agenthub.instance.key", snapshot.key)
            return snapshot

    async def _accept_traced(self, params: SendMessageRequest, context: ServerCallContext) -> Snapshot:
        principal = principal_of(context)
        _require(principal, "start", "sending a message")
        message = params.message
        push = params.configuration.task_push_notification_config
        wants_push = params.configuration.HasField("task_push_notification_config")
        if wants_push:  # checked before anything starts: a refused webhook starts no task
            self._configs().check(push)
        async with self._one_at_a_time(principal.name, message.message_id):
            snapshot = await self._accepted_before(message, context)
            if snapshot is None:
                snapshot = await self._start_or_continue(params, context)
                await self._remember(principal, message, snapshot)
        if wants_push:
            await self.attach(snapshot, push)
        return snapshot

    async def _start_or_continue(self, params: SendMessageRequest, context: ServerCallContext) -> Snapshot:
        """A new message's work: complete the caller's user task (a message with a taskId) or start an instance."""
        principal = principal_of(context)
        message = params.message
        if message.task_id:
            snapshot = await self.owned(message.task_id, context)
            if message.context_id and message.context_id != snapshot.context_id:
                raise InvalidParamsError(
                    message=f"context '{message.context_id}' is not the context '{snapshot.context_id}' "
                    f"of task {message.task_id}"
                )
            snapshot = await self._continue(snapshot, message, principal)
        else:
            spec = await self._skill(params, context)
            variables = _checked(spec.input_schema(), message_variables(message, spec), spec.process_id)
            variables[CALLER_VARIABLE] = principal.name
            variables[MESSAGE_ID_VARIABLE] = message.message_id
            if message.context_id:
                variables[CONTEXT_VARIABLE] = message.context_id
            try:
                by = actor_of(principal, Channel.A2A)
                view = await self._io(lambda: self.engine.start(spec.process_id, variables, owner=principal.name,
                                                                by=by, start_element=spec.start_element))
            except (InvalidInput, NotFound) as exc:
                raise InvalidParamsError(message=f"cannot start '{spec.process_id}': {exc}") from None
            hidden = (CALLER_VARIABLE, MESSAGE_ID_VARIABLE, CONTEXT_VARIABLE)
            sent = {k: v for k, v in variables.items() if k not in hidden}
            await self._audit_virtual(context, spec.process_id, "ok", instance=view.key, argumentsHash=sent)
            snapshot = await self._io(lambda: read_snapshot(self.engine, view))
            await self._keep(str(snapshot.key), _on_task(message, snapshot))
        return snapshot

    @asynccontextmanager
    async def _one_at_a_time(self, caller: str, message_id: str) -> AsyncIterator[None]:
        """Sends of one message id by one caller, taken one after the other in this hub process.

        Two sends of the same message that arrive together (a client retrying on a short timeout) would both
        find the id new and both start work; taken in turn, the second finds the first's task. Across hub
        processes the ledger's unique key still lets only one record win.
        """
        if self.messages is None or not message_id:
            yield
            return
        held = _SENDING.setdefault(self.messages, {})
        key = (caller, message_id)
        entry = held.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                held.pop(key, None)

    async def _accepted_before(self, message: Message, context: ServerCallContext) -> Snapshot | None:
        """The caller's task this very message (same ``messageId``) went to already, or None for a new message."""
        ledger = self.messages
        if ledger is None or not message.message_id:
            return None
        caller = principal_of(context).name
        task_id = await self._io(lambda: ledger.task_of(caller, message.message_id))
        if task_id is None or (message.task_id and message.task_id != task_id):
            return None  # new, or the same id for another task: not the same message
        try:
            snapshot = await self.owned(task_id, context)
        except TaskNotFoundError:  # gone since, or sent to another agent: not the same message's work
            return None
        # A message that started a task is the same message only while that task runs: once it ended, the id starts
        # new work (the A2A TCK sends one id per scenario in a session, for a new task each time). A resend after a
        # crash finds its task still running in the cases that matter: a task that already ended is done again.
        if not message.task_id and snapshot.state in TERMINAL:
            return None
        if message.task_id and self.history is not None:
            # The same id with other parts is a new message (the A2A TCK sends each follow-up with the id of the
            # message that started the task); a task with no message of that id kept is judged by the id alone.
            history = self.history
            seen = await self._io(lambda: history.digests(task_id, message.message_id))
            if seen and _digest(message) not in seen:
                return None
        return snapshot

    async def _remember(self, principal: Principal, message: Message, snapshot: Snapshot) -> None:
        ledger = self.messages
        if ledger is not None and message.message_id:
            await self._io(lambda: ledger.record(principal.name, message.message_id, str(snapshot.key)))

    async def _continue(self, snapshot: Snapshot, message: Message, principal: Principal) -> Snapshot:
        state = snapshot.state
        if state in TERMINAL:
            raise UnsupportedOperationError(
                message=f"task {snapshot.key} is {_state_name(state)} and takes no more messages; "
                "send a message without a taskId to start a new task"
            )
        mine = snapshot.caller_task()
        if mine is None:
            raise UnsupportedOperationError(
                message=f"task {snapshot.key} is working and does not wait for your input now; "
                "get or subscribe to the task to see what it waits for"
            )
        variables = _checked({"type": "object"}, message_variables(message, None), "the user task")
        variables[MESSAGE_ID_VARIABLE] = message.message_id
        asked = status(snapshot)  # the question this message answers: history once answered
        key = int(mine["task"])
        try:  # the caller's own task; an approval assigned to it still follows the approval rule (task_access)
            done = check_complete(principal, await self._io(lambda: self.engine.user_task(key)))
            by = actor_of(principal, Channel.A2A, override=done.override)
            await self._io(lambda: self.engine.complete_user_task(key, variables, by=by))
        except TaskRefused as exc:
            raise UnsupportedOperationError(message=str(exc)) from None
        except (NotFound, Conflict):
            raise UnsupportedOperationError(
                message=f"the user task {mine['task']} of task {snapshot.key} was completed meanwhile"
            ) from None
        except InvalidInput as exc:
            raise InvalidParamsError(message=f"cannot complete user task {mine['task']}: {exc}") from None
        answer = _on_task(message, snapshot)
        await self._keep(str(snapshot.key), *((asked.message, answer) if asked.HasField("message") else (answer,)))
        return await self._io(lambda: load_snapshot(self.engine, snapshot.key))

    async def _skill(self, params: SendMessageRequest, context: ServerCallContext) -> ToolSpec:
        """The process a new message starts: the agent's own, or at the hub endpoint the one in ``metadata.skillId``."""
        skill_id = agent_of(context)
        if skill_id is None:
            found = params.message.metadata.fields.get("skillId") or params.metadata.fields.get("skillId")
            skill_id = found.string_value if found is not None else ""
        try:
            if within(context, skill_id):
                return await self._io(lambda: self.engine.tool(skill_id))
        except NotFound:
            pass
        await self._audit_virtual(context, skill_id, "denied", reason="not a skill of this virtual agent")
        offered = ", ".join(sorted(s.process_id for s in await self._io(self.engine.tools)
                                   if within(context, s.process_id))) or "none"
        if not skill_id:
            raise InvalidParamsError(message=f"name the skill in the message's metadata.skillId; skills: {offered}")
        raise InvalidParamsError(message=f"unknown skill '{skill_id}'; skills: {offered}")

    async def _audit_virtual(self, context: ServerCallContext, skill_id: str, outcome: str, **details: Any) -> None:
        """The gateway's audit row of a call through a virtual agent (``_virtual``); nothing at other endpoints."""
        server = virtual_of(context)
        if server is not None and self.virtual is not None:
            began = context.state.get("began", time.monotonic())
            audit = self.virtual.audit
            await self._io(lambda: audit(principal_of(context), server, skill_id, outcome, began, **details))

    # --- streaming ----------------------------------------------------------------------------

    async def _stream(self, snapshot: Snapshot, *, first: bool) -> AsyncGenerator[Event, None]:
        """The task, then an event for each change, until it ends or (after the first event) waits for the caller."""
        yield to_task(snapshot)
        if snapshot.state in TERMINAL or (first and snapshot.state in INTERRUPTED):
            return
        views: asyncio.Queue[InstanceView | None] = asyncio.Queue()

        async def watch() -> None:
            try:
                last = await follow(
                    self.engine, snapshot.key, self.stream_timeout_s, on_change=views.put, first=snapshot.view
                )
                await views.put(last)
            finally:
                await views.put(None)

        watcher = asyncio.create_task(watch())
        try:
            seen = status(snapshot)
            while (view := await views.get()) is not None:
                current = await self._io(functools.partial(read_snapshot, self.engine, view))
                now = status(current)
                if now.state == seen.state and now.message == seen.message:
                    continue
                seen = now
                if current.view.state == "completed":
                    for artifact in task_artifacts(current):
                        yield TaskArtifactUpdateEvent(
                            task_id=str(current.key), context_id=current.context_id, artifact=artifact, last_chunk=True
                        )
                yield TaskStatusUpdateEvent(task_id=str(current.key), context_id=current.context_id, status=now)
                if now.state in TERMINAL | INTERRUPTED:
                    return
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    # --- cancelling ---------------------------------------------------------------------------

    @validate_request_params
    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task | None:
        snapshot = await self.owned(params.id, context)
        who = principal_of(context)
        _require(who, "start", "cancelling a task")
        if snapshot.view.state in ("completed", "terminated"):
            raise TaskNotCancelableError(
                message=f"task {params.id} is {_state_name(snapshot.state)} and cannot be canceled"
            )
        try:
            view = await self._io(lambda: self.engine.cancel(snapshot.key, by=actor_of(who, Channel.A2A)))
        except (Conflict, NotFound) as exc:
            raise TaskNotCancelableError(message=f"task {params.id} cannot be canceled: {exc}") from None
        return to_task(await self._io(lambda: read_snapshot(self.engine, view)))

    # --- cards --------------------------------------------------------------------------------

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        principal_of(context)
        return await self.extended_card(context)


def _digest(message: Message) -> str:
    """What tells one message's content from another's: the hash of its parts (ids aside)."""
    return canonical_hash(MessageToDict(message).get("parts", []))


def _on_task(message: Message, snapshot: Snapshot) -> Message:
    """``message`` as the task's history shows it: with the task's id and context id."""
    copy = Message()
    copy.CopyFrom(message)
    copy.task_id = str(snapshot.key)
    copy.context_id = copy.context_id or snapshot.context_id
    return copy


def _require(principal: Principal, scope: str, action: str) -> None:
    if not principal.has(scope):
        raise InvalidRequestError(message=f"permission denied: {action} needs the '{scope}' scope")


def _checked(schema: dict[str, Any], variables: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        return check_arguments(schema, variables)
    except ArgumentError as exc:
        raise InvalidParamsError(message=f"invalid input for {what}: {exc}", data={"problems": exc.problems}) from None


def _task_key(task_id: str) -> int | None:
    if not task_id.isascii() or not task_id.isdigit() or len(task_id) > 19:
        return None
    key = int(task_id)
    return key if 0 < key <= MAX_TASK_KEY else None


def _state_name(state: TaskState) -> str:
    return str(TaskState.Name(state)).removeprefix("TASK_STATE_").lower().replace("_", "-")
