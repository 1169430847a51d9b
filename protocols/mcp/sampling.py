"""MCP sampling: an agent's model steps answered by the calling assistant's own model (``model="mcp:sampling"``).

An agent whose ``model`` is ``mcp:sampling`` (optionally
``mcp:sampling?hint=NAME``, repeatable, sent as ``modelPreferences.hints``)
asks the client whose tool call started its instance: each model step becomes
a ``sampling/createMessage`` request on that call's session, sent while the
call waits for the instance (``_process_tools``), as elicitation does. The
step is an ordinary model step otherwise: the engine counts it against the
agent's ``maxModelCalls``, checks its answer and applies every policy before
anything acts on it.

Two halves meet here. ``SamplingCallers`` is the table of tool calls now
waiting, by the instance each started; the MCP handler opens an entry before
the start (so a model step claimed right after the start commits waits for
the entry instead of missing it) and closes it when the call answers.
``SamplingModel`` is the ``ChatModel`` the model resolver builds for
``mcp:``; it runs on a worker thread and hands the request to the event loop
of the caller's session.

A process called (call activity) by one that a waiting tool call started
asks that call's client too, through any depth of calls. Refused, at once
and without retries (``ModelUnavailable``, an incident that says why): an
instance that neither a waiting tool call of this hub process nor one of the
instances calling it started (started over REST or A2A, a call that has
already answered, or its session gone), and a client that did not declare the
``sampling`` capability. Never a hang: the request waits at most until the
tool call's own time budget ends.

On the 2026-07-28 protocol, which carries no server requests, the request
travels in the call's result instead (multi-round-trip requests, SEP-2322):
the model step posts its request here (``SamplingCallers.post``) and waits;
the tool call, which watches for that, answers ``InputRequiredResult`` with
one ``sampling/createMessage`` input request and a ``requestState``; the
client calls the tool again with its model's answer and that state, and the
hub hands the answer to the waiting step (``SamplingCallers.answer``), which
goes on. The step waits ``RESULT_WAIT_S`` at most for that second call (it
holds its worker meanwhile, as a server request does); then it fails as a
model call that got no answer.

The table is not only the model's: an ``mcp:roots`` task (``roots``) finds
its caller and asks in results through it the same way (``ask_now``,
``ask_in_result``), so a call's result carries every step's request at once.

Deliberately not known here: the conversation's format (``_sampling_format``),
budgets and policies (the engine's), and sessions of other hub processes:
a model step claimed by another process fails as "no waiting call".
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs

from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
    ListRootsRequest,
    ListRootsResult,
    RequestId,
)
from pydantic import ValidationError

from engine.agent.turn import AgentTurn
from protocols.llm import ChatModel, ModelCallFailed, ModelReply, UnknownModel
from protocols.llm.exceptions import ModelUnavailable
from protocols.llm.reply import make_usage
from protocols.mcp._context import Context
from protocols.mcp._sampling_format import answer_of, sampling_request

__all__ = [
    "CALLERS",
    "DEFAULT_MAX_TOKENS",
    "RESULT_WAIT_S",
    "SAMPLING_PREFIX",
    "ClientAnswer",
    "ClientRequest",
    "PendingCaller",
    "PendingRequest",
    "SamplingCaller",
    "SamplingCallers",
    "SamplingModel",
    "caller_of",
    "sampling_model",
]

SAMPLING_PREFIX = "mcp:"
"""The model kind registered with the resolver; ``mcp:sampling`` is its one model."""

DEFAULT_MAX_TOKENS = 4096
"""``maxTokens`` of a request when the agent has no token budget (``maxTokens`` on ``<agenthub:agent>``)."""

TOOLS_VERSION = "2025-11-25"
"""The protocol version that defines ``sampling.tools``; on others a step asks for text only."""

ClientRequest = CreateMessageRequest | ListRootsRequest
"""What an instance's step asks its caller's client: its model (sampling) or its roots (``protocols.mcp.roots``)."""
ClientAnswer = CreateMessageResult | CreateMessageResultWithTools | ListRootsResult
_Answer = TypeVar("_Answer", bound=ClientAnswer)

Ancestors = Callable[[int], Iterable[int]]
"""``ancestors(instance)``: the instances that called ``instance`` through call activities, nearest first."""
_START_WAIT_S = 10.0  # the longest a model step waits for a tool call's start to register its instance
RESULT_WAIT_S = 300.0
"""How long a model step asked in a result (2026-07-28) waits for the client's call with the answer."""


@dataclass(frozen=True, slots=True)
class SamplingCaller:
    """One waiting tool call: the session to ask, and what its client declared."""

    session: ServerSession
    request_id: RequestId | None
    loop: asyncio.AbstractEventLoop
    can_sample: bool  # declared ``sampling`` on a connection that can carry a server request
    tools: bool  # declared ``sampling.tools`` on 2025-11-25
    deadline: float  # time.monotonic() at which the call answers whatever the instance is doing
    in_result: bool = False  # 2026-07-28 (no server requests), and declared ``sampling`` or ``roots``: asked in results
    asked: asyncio.Event | None = None  # set (on ``loop``) when a step posts a request for this call's result
    declared: frozenset[str] = frozenset()  # of ``sampling`` and ``roots``, what the client declared


def caller_of(ctx: Context, deadline: float) -> SamplingCaller:
    """The caller of a tool call being handled now, on this event loop."""
    capabilities = ctx.session.client_capabilities
    sampling = capabilities.sampling if capabilities is not None else None
    can = sampling is not None and ctx.session.can_send_request
    tools = (
        can and sampling is not None and sampling.tools is not None and ctx.session.protocol_version == TOOLS_VERSION
    )
    declared = frozenset(name for name in ("sampling", "roots")
                         if capabilities is not None and getattr(capabilities, name) is not None)
    in_result = bool(declared) and not ctx.session.can_send_request
    return SamplingCaller(
        session=ctx.session,
        request_id=ctx.request_id,
        loop=asyncio.get_running_loop(),
        can_sample=can,
        tools=tools,
        deadline=deadline,
        in_result=in_result,
        asked=asyncio.Event() if in_result else None,
        declared=declared,
    )


class PendingRequest:
    """A step's request (a model step's sampling, a roots task's roots) waiting for the client's answer in its next
    call (2026-07-28)."""

    def __init__(self, key: str, request: ClientRequest) -> None:
        self.key = key  # the input request's key in the result, and in the answer
        self.request = request
        self.answer: ClientAnswer | None = None
        self.done = threading.Event()

    def fits(self, answer: ClientAnswer) -> bool:
        """``answer`` is of the kind the request asks for."""
        if isinstance(self.request, ListRootsRequest):
            return isinstance(answer, ListRootsResult)
        return isinstance(answer, CreateMessageResult | CreateMessageResultWithTools)

    def parse(self, raw: object) -> ClientAnswer | None:
        """A client's JSON answer read as the kind the request asks for; None when it is none."""
        kinds: tuple[type[ClientAnswer], ...] = (
            (ListRootsResult,) if isinstance(self.request, ListRootsRequest)
            else (CreateMessageResult, CreateMessageResultWithTools))
        for kind in kinds:
            try:
                return kind.model_validate(raw)
            except ValidationError:
                continue
        return None


class PendingCaller:
    """A tool call about to start an instance: ``bind`` it to the instance once started."""

    def __init__(self, table: SamplingCallers) -> None:
        self._table = table
        self.instance: int | None = None
        self.parked = False

    def bind(self, instance: int, caller: SamplingCaller) -> None:
        self._table._bind(self, instance, caller)

    def park(self) -> None:
        """The call answers with input requests (2026-07-28) and its client is to call again: until then (at most
        ``RESULT_WAIT_S``), model steps of the instance post their requests for that next call."""
        self.parked = True


class SamplingCallers:
    """The tool calls now waiting on the instances they started, in this hub process, and the requests their
    instances' steps (model steps, roots tasks) wait to have answered in those calls' results."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._by_instance: dict[int, SamplingCaller] = {}
        self._parked: dict[int, tuple[SamplingCaller, float]] = {}  # calls whose client is to call again, until when
        self._opening = 0
        # by the instance whose tool call is to ask in its result, then by the request's key
        self._samples: dict[int, dict[str, PendingRequest]] = {}
        self._posted = 0

    @contextmanager
    def opening(self) -> Iterator[PendingCaller]:
        """Around a tool call's start and wait: the instance it binds can be asked until the block ends."""
        entry = PendingCaller(self)
        with self._changed:
            self._opening += 1
        try:
            yield entry
        finally:
            with self._changed:
                if entry.instance is None:
                    self._opening -= 1
                else:
                    caller = self._by_instance.pop(entry.instance, None)
                    if entry.parked and caller is not None and caller.in_result:
                        now = time.monotonic()
                        for gone in [k for k, (_, until) in self._parked.items() if until < now]:
                            del self._parked[gone]  # clients that never came back
                        self._parked[entry.instance] = caller, now + RESULT_WAIT_S
                self._changed.notify_all()

    def _bind(self, entry: PendingCaller, instance: int, caller: SamplingCaller) -> None:
        with self._changed:
            if entry.instance is not None:
                raise RuntimeError("a tool call starts one instance")
            entry.instance = instance
            self._opening -= 1
            self._by_instance[instance] = caller
            self._parked.pop(instance, None)
            self._changed.notify_all()

    def find(self, instance: int, wait_s: float = _START_WAIT_S) -> SamplingCaller | None:
        """The waiting call that started ``instance`` (or the parked one whose client is to call again); waits
        while tool calls are between start and bind."""
        with self._changed:
            self._changed.wait_for(lambda: instance in self._by_instance or instance in self._parked
                                   or self._opening == 0, timeout=wait_s)
            found = self._by_instance.get(instance)
            if found is not None:
                return found
            parked = self._parked.get(instance)
            if parked is not None and parked[1] < time.monotonic():
                del self._parked[instance]  # its client never came back
                return None
            return parked[0] if parked is not None else None

    def post(self, instance: int, caller: SamplingCaller, request: ClientRequest) -> PendingRequest:
        """A step's request for the result of ``caller`` (the call waiting on ``instance``): kept until answered or
        withdrawn, and the call told (``caller.asked``). Parallel steps each post one."""
        with self._changed:
            self._posted += 1
            kind = "roots" if isinstance(request, ListRootsRequest) else "sampling"
            pending = PendingRequest(f"{kind}-{self._posted}", request)
            self._samples.setdefault(instance, {})[pending.key] = pending
        if caller.asked is not None:
            with contextlib.suppress(RuntimeError):  # that call's loop has stopped: nobody is told, it times out
                caller.loop.call_soon_threadsafe(caller.asked.set)
        return pending

    def questions(self, instance: int) -> list[PendingRequest]:
        """The requests waiting for an answer in a result of the call on ``instance``, oldest first."""
        with self._changed:
            return list(self._samples.get(instance, {}).values())

    def answer(self, instance: int, key: str, result: ClientAnswer) -> bool:
        """Hand the client's answer to the step waiting on request ``key``; False when none waits for it, or it
        asked for another kind of answer (left waiting)."""
        with self._changed:
            pending = self._samples.get(instance, {}).get(key)
            if pending is None or not pending.fits(result):
                return False
            del self._samples[instance][key]
            if not self._samples[instance]:
                del self._samples[instance]
            pending.answer = result
            pending.done.set()
            return True

    def withdraw(self, instance: int, pending: PendingRequest) -> None:
        with self._changed:
            waiting = self._samples.get(instance, {})
            if waiting.get(pending.key) is pending:
                del waiting[pending.key]
                if not waiting:
                    del self._samples[instance]

    def find_for(self, instance: int, ancestors: Ancestors | None) -> tuple[SamplingCaller, int] | None:
        """The waiting call that started ``instance``, else the one that started the nearest instance calling it
        (a call activity's process asks the client whose tool call started its caller), with the instance that
        call waits on."""
        caller = self.find(instance)
        if caller is not None:
            return caller, instance
        for ancestor in ancestors(instance) if ancestors is not None else ():
            caller = self.find(ancestor, wait_s=0)
            if caller is not None:
                return caller, ancestor
        return None

    def ask_in_result(self, instance: int, caller: SamplingCaller, request: ClientRequest) -> ClientAnswer | None:
        """Ask in the result of the call waiting on ``instance`` (2026-07-28) and wait (blocking) for its next call
        with the answer, ``RESULT_WAIT_S`` at most; None when none came (or the hub stopped meanwhile)."""
        pending = self.post(instance, caller, request)
        if not pending.done.wait(RESULT_WAIT_S):
            self.withdraw(instance, pending)
        return pending.answer

    def release_all(self) -> None:
        """End every step's wait for an answer now, unanswered (the hub is stopping: its worker loop must not
        wait for clients that may never call again)."""
        with self._changed:
            waiting = [pending for by_key in self._samples.values() for pending in by_key.values()]
            self._samples, self._parked = {}, {}
        for pending in waiting:
            pending.done.set()


CALLERS = SamplingCallers()
"""The hub process's table: the MCP endpoint fills it, the ``mcp:`` models read it (both in this process)."""


def ask_now(caller: SamplingCaller, request: ClientRequest, kind: type[_Answer]) -> _Answer:
    """Send ``request`` to the caller's client as a server request on its tool call's stream and wait (blocking,
    from a worker thread) until the call's deadline for the answer. Raises ``TimeoutError`` (no answer in time, or
    the call's time is up), ``MCPError`` (the client refused), ``ValidationError`` (not a ``kind``), and whatever
    the transport raises when the session is gone."""
    metadata = ServerMessageMetadata(related_request_id=caller.request_id)
    left = caller.deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the MCP tool call has run out of time and answers now")
    sent = caller.session.send_request(request, kind, metadata=metadata)
    future = asyncio.run_coroutine_threadsafe(sent, caller.loop)
    try:
        return future.result(timeout=left)
    except TimeoutError:
        future.cancel()
        raise


class SamplingModel:
    """A ``ChatModel`` that asks the client of the tool call that started the agent's instance."""

    def __init__(
        self, name: str, hints: tuple[str, ...] = (), callers: SamplingCallers = CALLERS,
        ancestors: Ancestors | None = None,
    ) -> None:
        self.name = name
        self.hints = hints
        self.callers = callers
        self.ancestors = ancestors

    def complete(self, turn: AgentTurn) -> ModelReply:
        found = self.callers.find_for(turn.instance, self.ancestors)
        caller, asking = found if found is not None else (None, turn.instance)
        if caller is None:
            raise ModelUnavailable(
                f"model {self.name}: no MCP tool call of this hub is waiting on instance {turn.instance} or an "
                "instance that called it, so there is no caller's model to ask: the caller's MCP session is gone "
                "(or its call has answered), or the instance was not started by an MCP tool call (REST, A2A). "
                "Start the agent's process (or one that calls it) as an MCP tool and keep the call open, or give "
                "the agent another model"
            )
        if not caller.can_sample and not (caller.in_result and "sampling" in caller.declared):
            raise ModelUnavailable(
                f"model {self.name}: the calling MCP client did not declare the 'sampling' capability, so instance "
                f"{turn.instance} cannot run on the caller's model"
            )
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # the request runs on the session's loop: waiting for it from a loop would block that loop
            raise ModelCallFailed(f"model {self.name} blocks: call it from a worker thread, not an event loop")
        params = sampling_request(turn, tools=caller.tools, hints=self.hints, default_max_tokens=DEFAULT_MAX_TOKENS)
        began = time.monotonic()
        result = self._in_result(asking, caller, params) if caller.in_result else self._ask(caller, params)
        latency = int((time.monotonic() - began) * 1000)
        usage = make_usage(result.model or self.name, 0, 0, 0.0, latency)  # the client reports no tokens or cost
        if result.stop_reason:
            usage["stopReason"] = result.stop_reason
        return ModelReply(answer=answer_of(result), usage=usage)

    def _in_result(
        self, instance: int, caller: SamplingCaller, params: CreateMessageRequestParams
    ) -> CreateMessageResult | CreateMessageResultWithTools:
        """Ask in the result of the call waiting on ``instance`` (2026-07-28) and wait for its next call."""
        answer = self.callers.ask_in_result(instance, caller, CreateMessageRequest(params=params))
        if not isinstance(answer, CreateMessageResult | CreateMessageResultWithTools):
            raise ModelCallFailed(  # not answered in time, or released as the hub stops
                f"model {self.name}: the client did not call again with its answer to sampling/createMessage "
                f"within {RESULT_WAIT_S:g} s (or the hub stopped meanwhile)"
            )
        return answer

    def _ask(
        self, caller: SamplingCaller, params: CreateMessageRequestParams
    ) -> CreateMessageResult | CreateMessageResultWithTools:
        kind: type[CreateMessageResult | CreateMessageResultWithTools] = (
            CreateMessageResultWithTools if params.tools else CreateMessageResult
        )
        if caller.deadline <= time.monotonic():
            raise ModelUnavailable(f"model {self.name}: the MCP tool call has run out of time and answers now")
        try:
            return ask_now(caller, CreateMessageRequest(params=params), kind)
        except TimeoutError:
            raise ModelCallFailed(
                f"model {self.name}: the client did not answer sampling/createMessage within the tool call's time"
            ) from None
        except MCPError as exc:
            raise ModelCallFailed(f"model {self.name}: the client refused sampling/createMessage: {exc}") from None
        except ValidationError as exc:
            raise ModelCallFailed(
                f"model {self.name}: the client's sampling answer is not a CreateMessageResult "
                f"({exc.error_count()} problems)"
            ) from None
        except Exception as exc:  # the session closed under the request: its transport's error, whatever it is
            raise ModelUnavailable(f"model {self.name}: the caller's MCP session is gone: {exc}") from None


def sampling_model(rest: str, callers: SamplingCallers = CALLERS, ancestors: Ancestors | None = None) -> ChatModel:
    """The resolver's factory for ``mcp:REST``: ``sampling``, or ``sampling?hint=NAME&hint=OTHER``.

    ``ancestors(instance)``: the instances that called it, nearest first (the hub reads them from the engine)."""
    kind, _, query = rest.partition("?")
    if kind != "sampling":
        raise UnknownModel(f"model 'mcp:{rest}': the one MCP model is 'mcp:sampling' (the calling assistant's)")
    options = parse_qs(query, keep_blank_values=True, strict_parsing=False) if query else {}
    unknown = sorted(set(options) - {"hint"})
    if unknown:
        raise UnknownModel(f"model 'mcp:{rest}': unknown option(s) {', '.join(unknown)}; 'hint=NAME' is the one")
    hints = tuple(h for h in options.get("hint", []) if h)
    return SamplingModel(f"mcp:{rest}", hints, callers, ancestors)
