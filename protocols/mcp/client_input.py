"""Who answers when an upstream MCP server asks the hub's client for input during a call.

The hub declares ``elicitation`` to every server it calls (``HubClient``), so a server may ask a question before
it answers a ``tools/call``: on 2026-07-28, by answering with an ``InputRequiredResult`` (its ``inputRequests``,
keyed, and an opaque ``requestState``), to be sent again with the answers; before, by an ``elicitation/create``
request of its own during the call. The hub has no user of its own, so what happens depends on whom the call is
for, set around the call by its caller:

- ``answering(asker)`` (the gateway, for an assistant that can be asked by a server request on its session): each
  elicitation is put to ``asker``, and the SDK sends the call again with the answers (``Client``'s own loop, at
  most ``input_required_max_rounds`` rounds). The Tasks extension's questions go the same way (``tasks_client``).
- ``handing_input_back()`` (an ``mcp`` job, which asks a person of its process and sends the answer at a later
  attempt: ``tool_input``; the gateway, for a 2026-07-28 assistant, which gets the questions in its own result):
  the ``InputRequiredResult`` is raised out of the call as ``InputAsked``; the caller sends the call again itself,
  with the answers and the upstream's ``requestState`` (``UpstreamSession.call``'s ``responses`` and ``state``).
- anything else: nobody is asked, and the call fails at once with ``Unasked``, naming the question.

A 2025-era server's question during a call arrives on the session's own task, which no call owns (a pooled
session serves many calls at once, and the SDK does not say which request a server request belongs to): it is
refused with an error to the server naming the question, which the server makes of what it will. Rejected:
routing it to the only call in flight on the session, which would send a question to the wrong caller the first
time two calls overlap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.types import INVALID_REQUEST, ElicitRequestParams, ElicitResult, ErrorData, InputRequiredResult

__all__ = ["Asker", "HubClient", "InputAsked", "Unasked", "answering", "asker", "elicited", "handing_input_back",
           "input_back", "question"]

Asker = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]
"""Puts an ``elicitation/create`` request's params to whoever the call is for; their ``ElicitResult`` as JSON, or
None when they could not be asked (no capability, refused, out of time)."""

_ASKER: ContextVar[Asker | None] = ContextVar("agenthub_mcp_asker", default=None)
_HAND_BACK: ContextVar[bool] = ContextVar("agenthub_mcp_input_hand_back", default=False)
_IN_CALL: ContextVar[bool] = ContextVar("agenthub_mcp_input_in_call", default=False)
_R = TypeVar("_R")


class InputAsked(Exception):
    """Raised out of a call inside ``handing_input_back()``: the upstream asks for input before it answers."""

    def __init__(self, asked: InputRequiredResult) -> None:
        methods = sorted({r.method for r in (asked.input_requests or {}).values()})
        super().__init__(f"the server asks for input ({', '.join(methods) or 'none yet'})")
        self.asked = asked


class Unasked(Exception):
    """A question the server asked before its answer that nobody answered: the call fails with it."""

    def __init__(self, question: str, why: str) -> None:
        super().__init__(f"asked {question!r} before answering, which nobody here answered: {why}")


@contextmanager
def answering(asker: Asker | None) -> Iterator[None]:
    """Calls in the block put the upstream's questions (elicitation only) to ``asker`` and pass the answers on;
    None: nobody is asked, as outside the block."""
    token = _ASKER.set(asker)
    try:
        yield
    finally:
        _ASKER.reset(token)


@contextmanager
def handing_input_back() -> Iterator[None]:
    """Calls in the block that the server answers with an ``InputRequiredResult`` raise ``InputAsked`` with it."""
    token = _HAND_BACK.set(True)
    try:
        yield
    finally:
        _HAND_BACK.reset(token)


def input_back() -> bool:
    """Whether the call running now hands questions back (``handing_input_back``)."""
    return _HAND_BACK.get()


def asker() -> Asker | None:
    """The asker of the call running now (``answering``), if any."""
    return _ASKER.get()


def question(params: dict[str, Any]) -> str:
    """An elicitation's params as a person would read the question (its message, or that it opens a URL)."""
    message = str(params.get("message") or "a question")[:500]
    return f"{message} (opens {params.get('url')})" if params.get("mode") == "url" else message


@dataclass
class HubClient(Client):
    """The SDK's client, with the hub's answers to a server's input requests (see the module's text).

    It overrides the SDK's private ``Client._drive_input_required``, the one place a result asking for input
    passes through in the caller's task, before the SDK's loop answers it: ``mcp`` is locked by hash, and
    ``tests/protocols/mcp/test_client_input.py`` fails if an upgrade moves that place."""

    async def _drive_input_required(
        self, first: _R | InputRequiredResult,
        retry: Callable[[Any, str | None], Awaitable[_R | InputRequiredResult]],
    ) -> _R:
        if not isinstance(first, InputRequiredResult):
            return first
        if _HAND_BACK.get():
            raise InputAsked(first)
        token = _IN_CALL.set(True)  # the SDK's loop runs in the caller's task: its questions belong to this call
        try:
            return await super()._drive_input_required(first, retry)
        finally:
            _IN_CALL.reset(token)


async def elicited(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
    """The ``elicitation_callback`` of every upstream session: the call's asker's answer; ``Unasked`` (out of the
    call) when nobody could answer; an error to the server for a question sent during a call (2025-era)."""
    asked = params.model_dump(by_alias=True, mode="json", exclude_none=True)
    if not _IN_CALL.get():
        return ErrorData(code=INVALID_REQUEST, message=(
            f"the hub cannot answer {question(asked)!r}: it came as a request of its own during a call (a 2025-era "
            "session), and the hub cannot tell which of its calls to this server it belongs to"))
    ask = _ASKER.get()
    answer = await ask(asked) if ask is not None else None
    if answer is not None:
        return ElicitResult.model_validate(answer)
    raise Unasked(question(asked), "the call's caller takes no questions" if ask is None
                  else "the caller's user did not answer it")
