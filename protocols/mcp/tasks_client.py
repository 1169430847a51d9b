"""The MCP Tasks extension (2026-07-28, SEP-2663) on the hub's side as a client of upstream MCP servers.

The official SDK's ``Client`` (mcp 2.3) ships no Tasks extension; this adds it through the SDK's public extension
API (``ClientExtension`` and ``ResultClaim``). Declared on the hub's upstream sessions, it lets an upstream answer a
``tools/call`` with a task (``resultType: "task"``) instead of holding the request open:

- an ``mcp`` service task (``tool_task``) calls inside ``handing_back()``: the resolver hands the
  ``CreatedTask`` back (``TaskStarted``) instead of following it, so the call keeps everything else the SDK's
  ``Client.call_tool`` does (the re-listing after a header mismatch, the output-schema check of a plain result),
  and its job leaves the worker's slot and waits durably (``engine.WaitRemote``), reading the task with
  ``tasks/get`` (``get``) at each later attempt until it ends;
- any other call (a federated call through the gateway) is finished here, by ``TasksExtension``'s resolver: it
  polls ``tasks/get`` at the task's ``pollIntervalMs`` (bounded) until the task completes (its inlined
  ``CallToolResult``), fails (the JSON-RPC error it carries, raised as ``MCPError``) or is cancelled, within the
  caller's own deadline. A task that asks for input has its questions put to whoever the call is for, when the
  caller can ask them (``client_input.answering``: the gateway passes an assistant's elicitation on), and the
  answers sent (``tasks/update``); otherwise it is cancelled and the call fails at once, naming what it asked
  (the question is the client's, so nobody else would answer it; waiting would only run into the deadline). An
  ``mcp`` job asks a person of its process instead and passes the answer on (``update``, ``tool_input``).

``Mcp-Name`` is set to the task id on the task methods, as the extension requires (``name_param``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

import anyio
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict

from protocols.mcp import client_input

__all__ = [
    "ELICIT",
    "TASKS",
    "Ack",
    "AskingTask",
    "CancelTask",
    "CreatedTask",
    "DetailedTask",
    "GetTask",
    "TaskAsks",
    "TaskIdParams",
    "TaskStarted",
    "TasksExtension",
    "UpdateParams",
    "UpdateTask",
    "cancel",
    "follow",
    "get",
    "handing_back",
    "not_elicitations",
    "outcome",
    "poll_after",
    "update",
]

TASKS: Final = "io.modelcontextprotocol/tasks"
ELICIT: Final = "elicitation/create"  # the input request a person (or the caller's user) can answer
CANCEL_S: Final = 5.0  # the most a call waits for the cancel of a task it gives up on
MIN_POLL_S: Final = 0.05
MAX_POLL_S: Final = 30.0
_DEFAULT_POLL_S: Final = 0.5
_HAND_BACK: ContextVar[bool] = ContextVar("agenthub_mcp_task_hand_back", default=False)


class TaskIdParams(RequestParams):
    task_id: str


class UpdateParams(TaskIdParams):
    input_responses: dict[str, Any]


class GetTask(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param: ClassVar[str | None] = "taskId"


class UpdateTask(Request[UpdateParams, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    name_param: ClassVar[str | None] = "taskId"


class CancelTask(Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param: ClassVar[str | None] = "taskId"


class _Task(Result):
    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None
    poll_interval_ms: int | None = None


class CreatedTask(_Task):
    """``CreateTaskResult``: the task a call answered with."""

    result_type: Literal["task"] = "task"


class DetailedTask(_Task):
    """``tasks/get``'s answer: the task, with its result, error or input requests."""

    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = None


class Ack(Result):
    model_config = ConfigDict(extra="allow")


async def get(session: Any, task_id: str) -> DetailedTask:
    """``tasks/get`` on ``session`` (a ``ClientSession``)."""
    found: DetailedTask = await session.send_request(GetTask(params=TaskIdParams(task_id=task_id)), DetailedTask)
    return found


async def update(session: Any, task_id: str, responses: dict[str, Any]) -> Ack:
    """``tasks/update`` on ``session``: answers to some of the task's ``inputRequests``, by their keys."""
    request = UpdateTask(params=UpdateParams(task_id=task_id, input_responses=responses))
    acked: Ack = await session.send_request(request, Ack)
    return acked


async def cancel(session: Any, task_id: str) -> Ack:
    """``tasks/cancel`` on ``session``: a wish the server acknowledges (an ended task stays as it ended)."""
    acked: Ack = await session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), Ack)
    return acked


def poll_after(task: _Task, default_s: float = _DEFAULT_POLL_S) -> float:
    """Seconds until the task is worth reading again: its ``pollIntervalMs``, bounded, else ``default_s``."""
    if task.poll_interval_ms is None:
        return default_s
    return min(max(task.poll_interval_ms / 1000.0, MIN_POLL_S), MAX_POLL_S)


def outcome(task: DetailedTask) -> CallToolResult | MCPError | None:
    """An ended task's answer: its ``CallToolResult`` (completed), or the error to raise (failed, cancelled, or
    completed without a result); None while it runs or waits for input."""
    if task.status == "completed":
        if task.result is None:
            return MCPError(INTERNAL_ERROR, f"task {task.task_id} completed without a result")
        return CallToolResult.model_validate(task.result)
    if task.status == "failed":
        error = task.error or {}
        return MCPError(int(error.get("code", INTERNAL_ERROR)), str(error.get("message") or task.status_message
                                                            or f"task {task.task_id} failed"), error.get("data"))
    if task.status == "cancelled":
        return MCPError(INTERNAL_ERROR, f"task {task.task_id} was cancelled" + (
            f": {task.status_message}" if task.status_message else ""))
    return None


def _question(request: Any) -> str:
    """One input request, as a person would read it: its method and, for an elicitation, its message."""
    if not isinstance(request, dict):
        return "an input request"
    params = request.get("params")
    message = params.get("message") if isinstance(params, dict) else None
    return f"{request.get('method')}: {message}" if isinstance(message, str) else str(request.get("method"))


class TaskStarted(Exception):
    """Raised out of ``Client.call_tool`` inside ``handing_back()``: the server answered with ``task``."""

    def __init__(self, task: CreatedTask) -> None:
        super().__init__(f"the server answered with task {task.task_id}")
        self.task = task


@contextmanager
def handing_back() -> Iterator[None]:
    """Calls in the block that the server answers with a task raise ``TaskStarted`` with it, unfollowed."""
    token = _HAND_BACK.set(True)
    try:
        yield
    finally:
        _HAND_BACK.reset(token)


class TasksExtension(ClientExtension):
    """Declares the extension and finishes a task-shaped answer by polling it (the caller's deadline bounds it)."""

    identifier = TASKS

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self._resolve)]

    async def _resolve(self, created: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        if _HAND_BACK.get():
            raise TaskStarted(created)
        return await follow(ctx.session, created.task_id, poll_after(created))


async def follow(session: Any, task_id: str, delay: float, answered: frozenset[str] = frozenset()) -> CallToolResult:
    """Poll task ``task_id`` on ``session`` (a ``ClientSession``) until it ends: its result, or its error raised as
    ``MCPError``. A question (``input_required``) not among ``answered`` is put to the call's asker
    (``client_input.answering``) and the answer sent; without one, in ``client_input.handing_input_back()``, it is
    raised as ``TaskAsks`` (elicitations only), for the caller to send the answers with ``update`` and follow the
    task again; else the task is cancelled and the call fails at once, naming what it asked."""
    done = set(answered)
    while True:
        await anyio.sleep(delay)
        task = await get(session, task_id)
        ended = outcome(task)
        if isinstance(ended, MCPError):
            raise ended
        if ended is not None:
            return ended
        asked = {k: r for k, r in (task.input_requests or {}).items() if k not in done}
        if task.status == "input_required" and asked:
            if not await _relay(session, task.task_id, asked):
                if client_input.input_back() and all(_elicitation(r) for r in asked.values()):
                    raise TaskAsks(AskingTask(task.task_id, asked))
                await _give_up(session, task)
            done |= set(asked)
            delay = MIN_POLL_S  # answered: the task goes on at once
            continue
        delay = poll_after(task)


def not_elicitations(requests: Mapping[str, Any]) -> list[str]:
    """The methods, sorted, of the input requests (JSON, by key) that are not elicitations: what neither a person
    of the process nor the caller's user is asked (the hub declares only elicitation upstream)."""
    return sorted({str(r.get("method")) for r in requests.values()
                   if isinstance(r, Mapping) and r.get("method") != ELICIT})


def _elicitation(request: Any) -> bool:
    return isinstance(request, dict) and request.get("method") == ELICIT and isinstance(request.get("params"), dict)


@dataclass(frozen=True, slots=True)
class AskingTask:
    """An upstream task that asks the call's caller ``requests`` (its ``inputRequests`` not answered yet, all
    elicitations, as JSON by key)."""

    task_id: str
    requests: dict[str, Any]


class TaskAsks(Exception):
    """Raised out of ``follow`` in ``client_input.handing_input_back()``: the task asks its caller (``asking``)."""

    def __init__(self, asking: AskingTask) -> None:
        super().__init__(f"task {asking.task_id} asks for input")
        self.asking = asking


async def _relay(session: Any, task_id: str, asked: dict[str, Any]) -> bool:
    """Put the task's questions to the call's asker (``client_input.answering``) and send the answers; False
    when there is none, a question is not an elicitation, or one could not be asked."""
    asker = client_input.asker()
    if asker is None:
        return False
    responses: dict[str, Any] = {}
    for key, request in asked.items():
        if not _elicitation(request):
            return False
        answer = await asker(request["params"])
        if answer is None:
            return False
        responses[key] = answer
    await update(session, task_id, responses)
    return True


async def _give_up(session: Any, task: DetailedTask) -> None:
    """The task asks its client for input, which a call answered in one exchange cannot give (nobody else
    will: the question is the client's): cancel it and say what it asked, rather than wait for the deadline."""
    asked = [_question(r) for r in (task.input_requests or {}).values()]
    with anyio.move_on_after(CANCEL_S), contextlib.suppress(Exception):  # best effort: the error below matters
        await cancel(session, task.task_id)
    raise MCPError(INTERNAL_ERROR, f"task {task.task_id} asks for input the hub cannot give on this call ("
                   f"{'; '.join(asked)[:500]}); it was cancelled", {"taskId": task.task_id, "asked": asked})
