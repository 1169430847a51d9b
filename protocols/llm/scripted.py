"""``scripted:PATH``: a model that replays a list of answers from a JSON file, for tests and demos.

The file holds a list of turns, each one of::

    {"tool_calls": [{"name": "lookup", "arguments": {"id": 7}, "confidence": 0.9, "id": "c1"}],
     "content": "reasoning text"}
    {"final": <any JSON>, "content": "..."}

(``confidence``, ``id`` and ``content`` are optional; ``arguments`` may be a
string, to play a model that sends arguments that are not JSON.)

Turn N answers the step that has N assistant messages before it. The number
is read from the conversation, never kept in memory, so a step that crashed
and is retried, in this process or the next, replays the same turn. Asking
for a turn past the end raises ``ScriptExhausted``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.agent.turn import AgentTurn
from protocols.llm._conversation import Timer, call_id, offline_reply
from protocols.llm._model_file import Problems, is_number, load_json, parse_json
from protocols.llm.exceptions import ScriptExhausted
from protocols.llm.reply import ModelReply, final_answer, tool_calls_answer

__all__ = ["ScriptedCall", "ScriptedModel", "ScriptedTurn", "parse_script"]


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    name: str
    arguments: dict[str, Any] | str
    confidence: float | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptedTurn:
    """One answer of the script: tool calls, or (``is_final``) a final answer."""

    calls: tuple[ScriptedCall, ...] = ()
    final: Any = None
    is_final: bool = False
    content: str | None = None


class ScriptedModel:
    """Replays ``turns``; build it from a file with ``ScriptedModel.from_file(path)``."""

    def __init__(self, turns: Sequence[ScriptedTurn], *, name: str = "scripted", timer: Timer = time.perf_counter):
        self.turns = tuple(turns)
        self.name = name
        self._timer = timer

    @classmethod
    def from_file(cls, path: Path, *, name: str | None = None, timer: Timer = time.perf_counter) -> ScriptedModel:
        """Read and check the script; raises ModelFileInvalid listing every problem."""
        return cls(parse_script(load_json(path), path), name=name or f"scripted:{path}", timer=timer)

    @classmethod
    def from_text(cls, text: str, label: Path, *, name: str, timer: Timer = time.perf_counter) -> ScriptedModel:
        """The same from a file's text (one deployed with the process); ``label`` names it in problems."""
        return cls(parse_script(parse_json(text, label), label), name=name, timer=timer)

    def complete(self, turn: AgentTurn) -> ModelReply:
        started = self._timer()
        index = sum(1 for message in turn.messages if message.get("role") == "assistant")
        if index >= len(self.turns):
            raise ScriptExhausted(
                f"{self.name}: the script has {len(self.turns)} turn(s) and the conversation asks for "
                f"turn {index + 1} (agent {turn.element_id!r}, instance {turn.instance}); add turns to the file"
            )
        step = copy.deepcopy(self.turns[index])  # the answer is the caller's to keep; the script stays as read
        if step.is_final:
            answer = final_answer(step.final, step.content)
        else:
            calls = [
                {
                    "id": call.id or call_id(index, position),
                    "name": call.name,
                    "arguments": call.arguments,
                    "confidence": call.confidence,
                }
                for position, call in enumerate(step.calls)
            ]
            answer = tool_calls_answer(calls, step.content)
        return offline_reply(self.name, turn, answer, started, self._timer)


def parse_script(data: Any, path: Path) -> list[ScriptedTurn]:
    """Check a script's JSON and turn it into ScriptedTurns; every problem is reported, with where it is."""
    problems = Problems(path)
    if not isinstance(data, list):
        problems.fail("file", "must be a JSON list of turns")
    turns: list[ScriptedTurn] = []
    for index, item in enumerate(data):
        where = f"[{index}]"
        if not isinstance(item, dict):
            problems.add(where, 'a turn must be an object with "tool_calls" or "final"')
            continue
        unknown = set(item) - {"tool_calls", "final", "content"}
        if unknown:
            problems.add(where, f"unknown key(s) {sorted(unknown)}")
        content = item.get("content")
        if content is not None and not isinstance(content, str):
            problems.add(f"{where}.content", "must be a string")
            content = None
        if ("final" in item) == ("tool_calls" in item):
            problems.add(where, 'needs exactly one of "tool_calls" and "final"')
        elif "final" in item:
            turns.append(ScriptedTurn(final=item["final"], is_final=True, content=content))
        else:
            calls = _calls(item["tool_calls"], f"{where}.tool_calls", problems)
            turns.append(ScriptedTurn(calls=calls, content=content))
    problems.raise_if_any()
    return turns


def _calls(value: Any, where: str, problems: Problems) -> tuple[ScriptedCall, ...]:
    if not isinstance(value, list) or not value:
        problems.add(where, "must be a non-empty list of calls")
        return ()
    calls: list[ScriptedCall] = []
    for index, call in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(call, dict):
            problems.add(at, 'a call must be an object with "name" and "arguments"')
            continue
        unknown = set(call) - {"name", "arguments", "confidence", "id"}
        if unknown:
            problems.add(at, f"unknown key(s) {sorted(unknown)}")
        name, arguments = call.get("name"), call.get("arguments", {})
        confidence, call_id = call.get("confidence"), call.get("id")
        if not isinstance(name, str) or not name:
            problems.add(f"{at}.name", "must be a non-empty string")
        if not isinstance(arguments, dict | str):
            problems.add(f"{at}.arguments", "must be an object (or a string, to send arguments that are not JSON)")
        if confidence is not None and not (is_number(confidence) and math.isfinite(confidence)):
            problems.add(f"{at}.confidence", "must be a number")
        if call_id is not None and (not isinstance(call_id, str) or not call_id):
            problems.add(f"{at}.id", "must be a non-empty string")
        if isinstance(name, str) and isinstance(arguments, dict | str):
            number = float(confidence) if isinstance(confidence, int | float) else None
            calls.append(ScriptedCall(name, arguments, number, call_id if isinstance(call_id, str) else None))
    return tuple(calls)
