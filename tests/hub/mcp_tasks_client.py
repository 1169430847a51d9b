"""The MCP Tasks extension (2026-07-28, SEP-2663) for the official SDK's ``Client``, written with its public extension
API (``ClientExtension`` and ``ResultClaim``), as an assistant's developer adds it: mcp 2.3.0 ships none.

``TasksClient`` claims the ``resultType: "task"`` answer of ``tools/call``, polls ``tasks/get`` (with
``Mcp-Name`` set to the task id, as the extension requires), answers the task's ``inputRequests`` with
``tasks/update`` through ``answer``, and hands the SDK the task's final ``CallToolResult``; a failed task is the
JSON-RPC error it carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Literal

import anyio
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict

TASKS = "io.modelcontextprotocol/tasks"
Answer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


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


class TasksClient(ClientExtension):
    identifier = TASKS

    def __init__(self, answer: Answer | None = None, poll_s: float = 0.05) -> None:
        self.answer = answer
        self.poll_s = poll_s
        self.created: list[CreatedTask] = []
        self.seen: list[DetailedTask] = []  # every tasks/get answer, in order

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self._resolve)]

    async def _resolve(self, created: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        self.created.append(created)
        answered: set[str] = set()
        with anyio.fail_after(30):
            while True:
                task = await get(ctx.session, created.task_id)
                self.seen.append(task)
                if task.status == "completed":
                    assert task.result is not None
                    return CallToolResult.model_validate(task.result)
                if task.status == "failed":
                    assert task.error is not None
                    raise MCPError(task.error["code"], task.error["message"], task.error.get("data"))
                if task.status == "cancelled":
                    raise MCPError(-1, f"task {task.task_id} was cancelled: {task.status_message}")
                if task.status == "input_required" and self.answer is not None:
                    new = {k: r for k, r in (task.input_requests or {}).items() if k not in answered}
                    if new:
                        responses = {key: await self.answer(key, request) for key, request in new.items()}
                        await update(ctx.session, task.task_id, responses)
                        answered |= set(new)
                await anyio.sleep(self.poll_s)


async def get(session: Any, task_id: str) -> DetailedTask:
    found: DetailedTask = await session.send_request(GetTask(params=TaskIdParams(task_id=task_id)), DetailedTask)
    return found


async def update(session: Any, task_id: str, responses: dict[str, Any]) -> Ack:
    request = UpdateTask(params=UpdateParams(task_id=task_id, input_responses=responses))
    acked: Ack = await session.send_request(request, Ack)
    return acked


async def cancel(session: Any, task_id: str) -> Ack:
    acked: Ack = await session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), Ack)
    return acked
