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
``sampling`` capability or whose connection cannot carry a server request
(the 2026-07-28 protocol). Never a hang: the request waits at most until the
tool call's own time budget ends.

Deliberately not known here: the conversation's format (``_sampling_format``),
budgets and policies (the engine's), and sessions of other hub processes:
a model step claimed by another process fails as "no waiting call".
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs

from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
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
    "SAMPLING_PREFIX",
    "PendingCaller",
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

Ancestors = Callable[[int], Iterable[int]]
"""``ancestors(instance)``: the instances that called ``instance`` through call activities, nearest first."""
_START_WAIT_S = 10.0  # the longest a model step waits for a tool call's start to register its instance


@dataclass(frozen=True, slots=True)
class SamplingCaller:
    """One waiting tool call: the session to ask, and what its client declared."""

    session: ServerSession
    request_id: RequestId | None
    loop: asyncio.AbstractEventLoop
    can_sample: bool  # declared ``sampling`` on a connection that can carry a server request
    tools: bool  # declared ``sampling.tools`` on 2025-11-25
    deadline: float  # time.monotonic() at which the call answers whatever the instance is doing


def caller_of(ctx: Context, deadline: float) -> SamplingCaller:
    """The caller of a tool call being handled now, on this event loop."""
    capabilities = ctx.session.client_capabilities
    sampling = capabilities.sampling if capabilities is not None else None
    can = sampling is not None and ctx.session.can_send_request
    tools = (
        can and sampling is not None and sampling.tools is not None and ctx.session.protocol_version == TOOLS_VERSION
    )
    return SamplingCaller(
        session=ctx.session,
        request_id=ctx.request_id,
        loop=asyncio.get_running_loop(),
        can_sample=can,
        tools=tools,
        deadline=deadline,
    )


class PendingCaller:
    """A tool call about to start an instance: ``bind`` it to the instance once started."""

    def __init__(self, table: SamplingCallers) -> None:
        self._table = table
        self.instance: int | None = None

    def bind(self, instance: int, caller: SamplingCaller) -> None:
        self._table._bind(self, instance, caller)


class SamplingCallers:
    """The tool calls now waiting on the instances they started, in this hub process."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._by_instance: dict[int, SamplingCaller] = {}
        self._opening = 0

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
                    self._by_instance.pop(entry.instance, None)
                self._changed.notify_all()

    def _bind(self, entry: PendingCaller, instance: int, caller: SamplingCaller) -> None:
        with self._changed:
            if entry.instance is not None:
                raise RuntimeError("a tool call starts one instance")
            entry.instance = instance
            self._opening -= 1
            self._by_instance[instance] = caller
            self._changed.notify_all()

    def find(self, instance: int, wait_s: float = _START_WAIT_S) -> SamplingCaller | None:
        """The waiting call that started ``instance``; waits while tool calls are between start and bind."""
        with self._changed:
            self._changed.wait_for(lambda: instance in self._by_instance or self._opening == 0, timeout=wait_s)
            return self._by_instance.get(instance)


CALLERS = SamplingCallers()
"""The hub process's table: the MCP endpoint fills it, the ``mcp:`` models read it (both in this process)."""


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
        caller = self._caller(turn.instance)
        if caller is None:
            raise ModelUnavailable(
                f"model {self.name}: no MCP tool call of this hub is waiting on instance {turn.instance} or an "
                "instance that called it, so there is no caller's model to ask: the caller's MCP session is gone "
                "(or its call has answered), or the instance was not started by an MCP tool call (REST, A2A). "
                "Start the agent's process (or one that calls it) as an MCP tool and keep the call open, or give "
                "the agent another model"
            )
        if not caller.can_sample:
            raise ModelUnavailable(
                f"model {self.name}: the calling MCP client did not declare the 'sampling' capability (or its "
                "protocol version cannot carry a server request), so instance "
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
        result = self._ask(caller, params)
        latency = int((time.monotonic() - began) * 1000)
        usage = make_usage(result.model or self.name, 0, 0, 0.0, latency)  # the client reports no tokens or cost
        if result.stop_reason:
            usage["stopReason"] = result.stop_reason
        return ModelReply(answer=answer_of(result), usage=usage)

    def _caller(self, instance: int) -> SamplingCaller | None:
        """The waiting call that started ``instance``, else the one that started the nearest instance calling it
        (a call activity's process runs on the model of the assistant whose tool call started the caller)."""
        caller = self.callers.find(instance)
        if caller is not None or self.ancestors is None:
            return caller
        for ancestor in self.ancestors(instance):
            caller = self.callers.find(ancestor, wait_s=0)
            if caller is not None:
                return caller
        return None

    def _ask(
        self, caller: SamplingCaller, params: CreateMessageRequestParams
    ) -> CreateMessageResult | CreateMessageResultWithTools:
        metadata = ServerMessageMetadata(related_request_id=caller.request_id)
        kind: type[CreateMessageResult | CreateMessageResultWithTools] = (
            CreateMessageResultWithTools if params.tools else CreateMessageResult
        )
        request = caller.session.send_request(CreateMessageRequest(params=params), kind, metadata=metadata)
        left = caller.deadline - time.monotonic()
        if left <= 0:
            request.close()
            raise ModelUnavailable(f"model {self.name}: the MCP tool call has run out of time and answers now")
        future = asyncio.run_coroutine_threadsafe(request, caller.loop)
        try:
            return future.result(timeout=left)
        except TimeoutError:
            future.cancel()
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
