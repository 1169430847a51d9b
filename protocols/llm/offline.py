"""``offline``: a generic deterministic planner that needs no file, no key and no network.

Each step it calls one tool: the first, in the order of ``turn.tools``, that
has not been called yet and whose required parameters all have a key of the
same name in ``input`` (the first user message as a JSON object). The call's
arguments are the tool's parameters found in ``input``. When no such tool is
left it answers ``{"summary": "...", "results": {tool: latest result}}``.

It is good enough to walk an example process end to end, policies and
refusals included; it does not reason about what the tools are for.
"""

from __future__ import annotations

import time
from typing import Any

from engine.agent.turn import AgentTurn, ToolDefinition
from protocols.llm._conversation import Conversation, Timer, call_id, offline_reply
from protocols.llm.reply import ModelReply, final_answer, tool_calls_answer

__all__ = ["OfflinePlanner"]


class OfflinePlanner:
    def __init__(self, *, name: str = "offline", timer: Timer = time.perf_counter) -> None:
        self.name = name
        self._timer = timer

    def complete(self, turn: AgentTurn) -> ModelReply:
        started = self._timer()
        facts = Conversation.of(turn)
        for tool in turn.tools:
            if facts.calls.get(tool.name, 0) == 0 and _fillable(tool, facts.input):
                arguments = _arguments(tool, facts.input)
                call = {"id": call_id(facts.turn, 0), "name": tool.name, "arguments": arguments, "confidence": None}
                given = ", ".join(sorted(arguments)) or "no arguments"
                answer = tool_calls_answer([call], f"Calling {tool.name} with {given} from the input.")
                return offline_reply(self.name, turn, answer, started, self._timer)
        answer = final_answer({"summary": _summary(turn.tools, facts), "results": facts.results})
        return offline_reply(self.name, turn, answer, started, self._timer)


def _parameters(tool: ToolDefinition) -> tuple[list[str], list[str]]:
    """The tool's (required, all) parameter names, from its JSON schema."""
    schema = tool.input_schema
    properties = schema.get("properties")
    names = [str(name) for name in properties] if isinstance(properties, dict) else []
    required = schema.get("required")
    needed = [str(name) for name in required] if isinstance(required, list) else []
    return needed, names + [name for name in needed if name not in names]


def _fillable(tool: ToolDefinition, given: dict[str, Any]) -> bool:
    required, _ = _parameters(tool)
    return all(name in given for name in required)


def _arguments(tool: ToolDefinition, given: dict[str, Any]) -> dict[str, Any]:
    _, names = _parameters(tool)
    return {name: given[name] for name in names if name in given}


def _summary(tools: list[ToolDefinition], facts: Conversation) -> str:
    called = [tool.name for tool in tools if tool.name in facts.results]
    refused = [tool.name for tool in tools if tool.name in facts.refused and tool.name not in facts.results]
    skipped = [tool.name for tool in tools if not facts.calls.get(tool.name, 0)]
    parts = [f"Called {', '.join(called)}." if called else "Called no tool."]
    if refused:
        parts.append(f"Refused: {', '.join(refused)}.")
    if skipped:
        parts.append(f"Not called (input lacks their required parameters): {', '.join(skipped)}.")
    return " ".join(parts)
