"""A registered A2A agent as one federated tool: send a message, get the result, or the task while it runs.

Input: ``message`` (text) and/or ``data`` (an object) to start a task, or
``taskId`` alone to ask after one this tool started earlier. The call waits
up to its time budget (the ``/mcp`` call budget): a task that ends in it
comes back as ``{"taskId", "contextId", "state", "artifacts", "message"}``
(``isError`` when it failed, was cancelled or rejected); one still running
comes back as its id and state, not an error, with a note to call again with
``taskId``. Rejected for now: keeping the caller waiting in an engine
instance, as the ``a2a`` job type does. The remote agent keeps its own task
durably, so asking again by id loses nothing; an approval, though, does go
through an instance (``approval``).

The agent must be callable in the registry (its card approved as pinned),
and every connection passes the hub's egress policy (``AGENTHUB_HTTP_ALLOW``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import anyio
from a2a.types import Message, Part, Role
from google.protobuf.json_format import ParseDict  # type: ignore[import-untyped]
from google.protobuf.struct_pb2 import Value  # type: ignore[import-untyped]

from protocols.a2a.client import TERMINAL, TaskOutcome, connect, state_name
from protocols.http import EgressPolicy
from registry import RemoteAgent

__all__ = ["AGENT_INPUT_SCHEMA", "AgentAnswer", "ask_agent", "describe"]

AGENT_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "What to ask the agent (starts a task)"},
        "data": {"type": "object", "description": "Structured data sent with the message"},
        "taskId": {"type": "string", "description": "Ask after a task this tool started earlier, instead"},
    },
    "additionalProperties": False,
}

_FAILED = frozenset({"failed", "canceled", "rejected"})


def describe(agent: RemoteAgent) -> str:
    card = agent.card
    text = str(card.get("description") or "").strip()
    skills = [str(s.get("name") or s.get("id")) for s in card.get("skills") or [] if isinstance(s, dict)]
    extra = f" Skills: {', '.join(skills)}." if skills else ""
    return (f"Send a message to the A2A agent '{agent.name}' and get its answer, or its task id while it works "
            f"(call again with taskId). {text}{extra}").strip()


class AgentAnswer:
    """What came back: the outcome, or the running task's id and state."""

    def __init__(self, value: dict[str, Any], *, error: bool, waiting: bool) -> None:
        self.value = value
        self.error = error
        self.waiting = waiting


async def ask_agent(
    agent: RemoteAgent, arguments: Mapping[str, Any], egress: EgressPolicy, budget_s: float
) -> AgentAnswer:
    """One call of the agent's tool (see the module docstring); A2A and egress errors pass through."""
    started: dict[str, str] = {}

    async def remember(task_id: str, context_id: str) -> None:
        started.update(taskId=task_id, contextId=context_id)

    task_id = arguments.get("taskId")
    message = None if isinstance(task_id, str) and task_id else _message(arguments)  # wrong input: before connecting
    async with connect(agent, egress) as session:
        if message is None:
            task = await session.get(str(task_id))
            if task.status.state in TERMINAL:
                return _answer(TaskOutcome.of_task(task))
            return AgentAnswer({"taskId": task.id, "contextId": task.context_id,
                                "state": state_name(task.status.state)}, error=False, waiting=True)
        outcome: TaskOutcome | None = None
        with anyio.move_on_after(budget_s):
            outcome = await session.send(message, started=remember)
        if outcome is None:
            return AgentAnswer({**started, "state": "working"}, error=False, waiting=True)
        return _answer(outcome)


def _answer(outcome: TaskOutcome) -> AgentAnswer:
    waiting = outcome.state in ("input-required", "auth-required", "working", "submitted")
    return AgentAnswer(outcome.to_variable(), error=outcome.state in _FAILED, waiting=waiting)


def _message(arguments: Mapping[str, Any]) -> Message:
    parts: list[Part] = []
    text = arguments.get("message")
    if isinstance(text, str) and text:
        parts.append(Part(text=text, media_type="text/plain"))
    data = arguments.get("data")
    if isinstance(data, Mapping):
        parts.append(Part(data=ParseDict(dict(data), Value()), media_type="application/json"))
    if not parts:
        raise ValueError("give 'message' (text) or 'data' (an object) to send, or 'taskId' to ask after a task")
    return Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=parts)
