"""The MCP Tasks extension (2026-07-28, SEP-2663) for the official SDK's ``Client`` as an assistant uses it: the
request and result models are the hub's own client's (``protocols.mcp.tasks_client``, written with the SDK's public
extension API: mcp 2.3.0 ships none); this one also answers a task's ``inputRequests`` (``answer``).

``TasksClient`` claims the ``resultType: "task"`` answer of ``tools/call``, polls ``tasks/get`` (with
``Mcp-Name`` set to the task id, as the extension requires), answers the task's ``inputRequests`` with
``tasks/update`` through ``answer``, and hands the SDK the task's final ``CallToolResult``; a failed task is the
JSON-RPC error it carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from protocols.mcp.tasks_client import (
    TASKS,
    Ack,
    CancelTask,
    CreatedTask,
    DetailedTask,
    GetTask,
    TaskIdParams,
    UpdateParams,
    UpdateTask,
    cancel,
    get,
    outcome,
)

__all__ = ["TASKS", "CancelTask", "CreatedTask", "DetailedTask", "GetTask", "TaskIdParams", "TasksClient", "cancel",
           "get", "update"]

Answer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


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
                ended = outcome(task)  # the hub's own client's reading of an ended task
                if isinstance(ended, MCPError):
                    raise ended
                if ended is not None:
                    return ended
                if task.status == "input_required" and self.answer is not None:
                    new = {k: r for k, r in (task.input_requests or {}).items() if k not in answered}
                    if new:
                        responses = {key: await self.answer(key, request) for key, request in new.items()}
                        await update(ctx.session, task.task_id, responses)
                        answered |= set(new)
                await anyio.sleep(self.poll_s)


async def update(session: Any, task_id: str, responses: dict[str, Any]) -> Ack:
    request = UpdateTask(params=UpdateParams(task_id=task_id, input_responses=responses))
    acked: Ack = await session.send_request(request, Ack)
    return acked
