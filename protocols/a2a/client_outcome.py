"""A finished A2A task, or a direct answer, read as plain JSON for process variables.

Data parts become their JSON (whole numbers as ints), text parts their text,
file parts a description (their bytes are never copied into variables); the
whole is capped at ``MAX_RESULT_BYTES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from a2a.types import Artifact, Message, Part, Task, TaskState

from protocols.a2a._convert import from_value
from protocols.a2a.client_errors import ResultTooLarge

__all__ = ["MAX_RESULT_BYTES", "TaskOutcome", "message_text", "part_value", "state_name"]

MAX_RESULT_BYTES = 1024 * 1024


def state_name(state: TaskState) -> str:
    """``TASK_STATE_INPUT_REQUIRED`` -> ``input-required``, as A2A's JSON spells states."""
    return str(TaskState.Name(state)).removeprefix("TASK_STATE_").lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """A finished task (or a direct answer without a task) as plain JSON."""

    task_id: str | None
    context_id: str | None
    state: str
    artifacts: list[dict[str, Any]]
    message: str | None

    def to_variable(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "taskId": self.task_id,
            "contextId": self.context_id,
            "state": self.state,
            "artifacts": self.artifacts,
        }
        if self.message:
            value["message"] = self.message
        return value

    @classmethod
    def of_task(cls, task: Task) -> TaskOutcome:
        message = message_text(task.status.message.parts) if task.status.HasField("message") else None
        outcome = cls(
            task.id,
            task.context_id or None,
            state_name(task.status.state),
            [_artifact(a) for a in task.artifacts],
            message,
        )
        _check_size(outcome)
        return outcome

    @classmethod
    def of_message(cls, message: Message) -> TaskOutcome:
        """A direct answer: its parts become one artifact named ``reply``, its text the message."""
        reply = {"id": message.message_id, "name": "reply", "parts": [part_value(p) for p in message.parts]}
        outcome = cls(None, message.context_id or None, "completed", [reply], message_text(message.parts))
        _check_size(outcome)
        return outcome


def part_value(part: Part) -> Any:
    """Text as text, data as JSON; a file as a description of it (its bytes are never kept in variables)."""
    kind = part.WhichOneof("content")
    if kind == "text":
        return part.text
    if kind == "data":
        return from_value(part.data)
    described: dict[str, Any] = {"mediaType": part.media_type or None, "filename": part.filename or None}
    if kind == "url":
        described["url"] = part.url
    elif kind == "raw":
        described["size"] = len(part.raw)
    return {"file": {k: v for k, v in described.items() if v is not None}}


def _artifact(artifact: Artifact) -> dict[str, Any]:
    found: dict[str, Any] = {"id": artifact.artifact_id, "name": artifact.name or None}
    if artifact.description:
        found["description"] = artifact.description
    found["parts"] = [part_value(p) for p in artifact.parts]
    return found


def message_text(parts: Any) -> str | None:
    texts = [p.text for p in parts if p.WhichOneof("content") == "text"]
    return "\n".join(texts) or None


def _check_size(outcome: TaskOutcome) -> None:
    size = len(json.dumps(outcome.to_variable(), ensure_ascii=False).encode())
    if size > MAX_RESULT_BYTES:
        raise ResultTooLarge(
            f"the result of task {outcome.task_id} is {size} bytes of JSON, more than the {MAX_RESULT_BYTES} a "
            "process variable may take from a remote agent; ask the agent for less, or for a file reference"
        )
