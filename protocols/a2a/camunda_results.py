"""Camunda's A2A result shapes (``A2aAgentCard``, ``A2aMessage``, ``A2aTask``), from a pinned card or an outcome.

Pure functions: the card is the registry's pinned JSON, the outcome the
``a2a`` job type's (``TaskOutcome.to_variable``). Parts become Camunda's
contents: text as ``{type: "text", text}``, anything else (data, a file's
description) as ``{type: "object", content}``. Empty lists are left out, as
Camunda leaves them out.
"""

from __future__ import annotations

from typing import Any

__all__ = ["agent_card_result", "send_result"]

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
