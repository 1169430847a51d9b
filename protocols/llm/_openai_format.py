"""Our conversation and tools in OpenAI's chat format, and an OpenAI-style reply back into an answer.

The mapping is pure data in, data out, so it is tested without a server.
Confidence travels as an extra optional tool parameter, ``_confidence``: every
provider that supports tools supports that, where a side channel would not.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from engine import strict_json
from engine.agent.turn import ToolDefinition
from protocols.llm.exceptions import ModelCallFailed

CONFIDENCE = "_confidence"
_CONFIDENCE_SCHEMA = {
    "type": "number",
    "minimum": 0,
    "maximum": 1,
    "description": "How sure you are, 0 to 1, that this call is right.",
}


def openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "user" and message.get("parts"):  # the prompt's documents, read (protocols.llm.documents)
            parts = [{"type": "text", "text": _text(message.get("content"))}, *message["parts"]]
            out.append({"role": role, "content": parts})
        elif role in ("system", "user"):
            out.append({"role": role, "content": _text(message.get("content"))})
        elif role == "assistant" and message.get("toolCalls"):
            calls = [
                {
                    "id": str(call.get("id")),
                    "type": "function",
                    "function": {"name": call.get("name"), "arguments": _arguments_text(call.get("arguments"))},
                }
                for call in message["toolCalls"]
            ]
            out.append({"role": "assistant", "content": message.get("content"), "tool_calls": calls})
        elif role == "assistant":
            # The final answer is what the model said; its own content is the same text or reasoning around it.
            said = message["final"] if "final" in message else message.get("content")
            out.append({"role": "assistant", "content": _text(said)})
        elif role == "tool":
            call_id, content = str(message.get("toolCallId")), _text(message.get("content"))
            out.append({"role": "tool", "tool_call_id": call_id, "content": content})
        else:
            raise ModelCallFailed(f"message {index} has an unknown role {role!r}")
    return out


def openai_tools(tools: list[ToolDefinition]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        schema = copy.deepcopy(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
        schema.setdefault("type", "object")
        properties = schema.setdefault("properties", {})
        if isinstance(properties, dict):
            properties[CONFIDENCE] = dict(_CONFIDENCE_SCHEMA)
        function = {"name": tool.name, "description": tool.description, "parameters": schema}
        out.append({"type": "function", "function": function})
    return out


def answer_from(message: Any) -> dict[str, Any]:
    """The answer in a reply's message (an object with ``content`` and ``tool_calls``, as litellm returns it)."""
    content = getattr(message, "content", None)
    text = content if isinstance(content, str) else None
    tool_calls = getattr(message, "tool_calls", None) or []
    if not tool_calls:
        return {"final": text or "", "content": None}
    calls = []
    for call in tool_calls:
        function = getattr(call, "function", None)
        arguments, confidence = _parse_arguments(getattr(function, "arguments", None))
        calls.append(
            {
                "id": getattr(call, "id", None) or None,
                "name": str(getattr(function, "name", "") or ""),
                "arguments": arguments,
                "confidence": confidence,
            }
        )
    return {"toolCalls": calls, "content": text or None}


def _parse_arguments(raw: Any) -> tuple[dict[str, Any] | str, float | None]:
    """Arguments as an object with ``_confidence`` taken out; text that is not a JSON object stays text.

    The engine refuses text arguments and tells the model why, which is more
    useful to it than a failed step. A blank string is the empty object: some
    providers send that for tools without parameters.
    """
    if isinstance(raw, dict):
        parsed: Any = dict(raw)
    elif not isinstance(raw, str):
        return ("" if raw is None else str(raw)), None
    elif not raw.strip():
        return {}, None
    else:
        try:
            parsed = strict_json.loads(raw)
        except strict_json.JsonProblem:  # the engine's check parses it again and tells the model what is wrong
            return raw, None
        if not isinstance(parsed, dict):
            return raw, None
    given = parsed.pop(CONFIDENCE, None)
    confidence = None
    if isinstance(given, int | float) and not isinstance(given, bool) and math.isfinite(given):
        confidence = min(1.0, max(0.0, float(given)))  # the schema asks for 0..1; a model that overshoots is sure
    return parsed, confidence


def _arguments_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _text(content: Any) -> str:
    if content is None:
        return ""
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
