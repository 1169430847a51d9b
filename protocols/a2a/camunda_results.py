"""Camunda's A2A result shapes (``A2aAgentCard``, ``A2aMessage``, ``A2aTask``), from a pinned card or an outcome.

Pure functions: the card is the registry's pinned JSON, the outcome the
``a2a`` job type's (``TaskOutcome.to_variable``), a pushed body the JSON an
agent posts to a webhook (``pushed_task``, for Camunda's A2A webhook catch event). Parts become Camunda's
contents: text as ``{type: "text", text}``, anything else (data, a file's
description) as ``{type: "object", content}``. Empty lists are left out, as
Camunda leaves them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from a2a.types import Message, Role, Task, TaskStatusUpdateEvent
from google.protobuf.json_format import ParseDict, ParseError  # type: ignore[import-untyped]

from protocols.a2a.client_outcome import TaskOutcome, message_text, part_value, state_name

__all__ = ["agent_card_result", "history_result", "pushed_task", "send_result"]

_SKILL_FIELDS = ("id", "name", "description", "tags", "examples", "inputModes", "outputModes")


def agent_card_result(card: dict[str, Any]) -> dict[str, Any]:
    """``{kind: "agentCard", name, description, skills: [{id, name, description, tags, examples, ...}]}``."""
    skills = card.get("skills")
    return {
        "kind": "agentCard",
        "name": card.get("name"),
        "description": card.get("description"),
        "skills": [{f: s.get(f) for f in _SKILL_FIELDS if s.get(f) is not None}
                   for s in skills if isinstance(s, dict)] if isinstance(skills, list) else [],
    }


def _contents(parts: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": p} if isinstance(p, str) else {"type": "object", "content": p}
            for p in (parts if isinstance(parts, list) else [])]


def _agent_message(message_id: Any, context_id: Any, task_id: Any, contents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "message", "role": "agent", "messageId": message_id, "contextId": context_id,
            "taskId": task_id, "contents": contents}


def history_result(messages: Sequence[Message], length: int) -> list[dict[str, Any]]:
    """The last ``length`` messages of a task's history as Camunda's ``A2aMessage`` list (``historyLength``;
    0: none), oldest first, each with its role (``user`` or ``agent``)."""
    return [{"kind": "message", "role": "user" if m.role == Role.ROLE_USER else "agent", "messageId": m.message_id,
             "contextId": m.context_id or None, "taskId": m.task_id or None,
             "contents": _contents([part_value(p) for p in m.parts])}
            for m in (list(messages)[-length:] if length > 0 else [])]


def send_result(outcome: dict[str, Any]) -> dict[str, Any]:
    """The ``A2aMessage`` (a direct answer, no task) or ``A2aTask`` that ``outcome`` stands for."""
    task_id, context_id = outcome.get("taskId"), outcome.get("contextId")
    artifacts = outcome.get("artifacts") or []
    if task_id is None:  # a direct answer: the a2a job type keeps it as one artifact named "reply"
        reply = artifacts[0] if artifacts and isinstance(artifacts[0], dict) else {}
        return _agent_message(reply.get("id"), context_id, None, _contents(reply.get("parts")))
    status: dict[str, Any] = {"state": outcome.get("state")}
    said = outcome.get("message")
    if isinstance(said, str) and said:
        status["message"] = _agent_message(None, context_id, task_id, [{"type": "text", "text": said}])
    task: dict[str, Any] = {"kind": "task", "id": task_id, "contextId": context_id, "status": status}
    shaped = []
    for artifact in artifacts:
        if not isinstance(artifact, dict):
            continue
        item = {"artifactId": artifact.get("id"), "name": artifact.get("name"),
                "description": artifact.get("description"), "contents": _contents(artifact.get("parts"))}
        shaped.append(item)
    if shaped:
        task["artifacts"] = shaped
    return task


def pushed_task(body: Any) -> Any:
    """The ``A2aTask`` a push notification's body stands for, as Camunda's webhook gives it (``request.body``).

    A2A 1.0 agents post a ``StreamResponse``: ``{"task": ...}`` (the whole task, as this hub's own A2A server
    sends it) or ``{"statusUpdate": ...}`` (its id, context and status only: no artifacts); A2A 0.3 agents (and
    Camunda's) post the task itself. Anything else is given back unchanged, for the activation condition to
    refuse.
    """
    if not isinstance(body, dict):
        return body
    try:
        if isinstance(body.get("task"), dict):
            return send_result(TaskOutcome.of_task(ParseDict(body["task"], Task(), ignore_unknown_fields=True))
                               .to_variable())
        if isinstance(body.get("statusUpdate"), dict):
            update = ParseDict(body["statusUpdate"], TaskStatusUpdateEvent(), ignore_unknown_fields=True)
            status: dict[str, Any] = {"state": state_name(update.status.state)}
            said = message_text(update.status.message.parts) if update.status.HasField("message") else None
            if said:
                status["message"] = _agent_message(None, update.context_id, update.task_id,
                                                   [{"type": "text", "text": said}])
            return {"kind": "task", "id": update.task_id, "contextId": update.context_id, "status": status}
    except (ParseError, ValueError, TypeError):
        return body
    if "id" in body and isinstance(body.get("status"), dict):
        return _task_v03(body)
    return body


def _task_v03(body: dict[str, Any]) -> dict[str, Any]:
    """An A2A 0.3 task (``kind``-tagged parts, lower-case states) in Camunda's shape."""
    def contents(parts: Any) -> list[dict[str, Any]]:
        found: list[Any] = []
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict):
                found.append(part["text"] if isinstance(part.get("text"), str) else part.get("data", part))
        return _contents(found)

    status = body["status"]
    state = str(status.get("state") or "unknown").lower().removeprefix("task_state_").replace("_", "-")
    shaped_status: dict[str, Any] = {"state": state}
    said = status.get("message")
    if isinstance(said, dict):
        shaped_status["message"] = _agent_message(said.get("messageId"), body.get("contextId"), body.get("id"),
                                                  contents(said.get("parts")))
    task: dict[str, Any] = {"kind": "task", "id": body.get("id"), "contextId": body.get("contextId"),
                            "status": shaped_status}
    artifacts = [{"artifactId": a.get("artifactId"), "name": a.get("name"), "description": a.get("description"),
                  "contents": contents(a.get("parts"))}
                 for a in body.get("artifacts") or [] if isinstance(a, dict)]
    if artifacts:
        task["artifacts"] = artifacts
    return task
