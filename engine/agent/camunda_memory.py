"""Camunda's AI Agent memory (``data.memory``): which messages of the conversation go to the model.

Camunda keeps the whole conversation (in ``agentContext``, for its
``in-process`` storage) and sends the model a window of it: the last
``data.memory.contextWindowSize`` messages (default 20, at least 3). The
system message is never evicted and counts in the window; an assistant
message that called tools is evicted together with its tool results (some
providers refuse results whose call they have not seen), and a window never
starts with orphaned results. Messages are counted as Camunda counts them: the
results of one turn are one ``tool_call_result`` message, though our
conversation keeps one ``tool`` message per call.

Both flavours use it: the sub-process (``camunda`` on the agent loop, applied
where a model step reads its turn) and the task (``camunda_task``). Owns the
window rule and reading ``data.memory``; the conversation itself is kept
whole by the caller.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["DEFAULT_WINDOW", "STORAGE_TYPES", "MemoryConfigError", "window", "window_size"]

DEFAULT_WINDOW: Final = 20
MIN_WINDOW: Final = 3
STORAGE_TYPES: Final = ("in-process",)  # camunda-document, custom and aws-agentcore are Camunda's, not ours


class MemoryConfigError(ValueError):
    """``data.memory`` asks for something this engine does not do; the message names the field."""


def window_size(data: Any) -> int:
    """The window ``data.memory`` asks for; MemoryConfigError for a storage type or size that cannot be had."""
    memory = data.get("memory") if isinstance(data, dict) else None
    memory = memory if isinstance(memory, dict) else {}
    storage = memory.get("storage")
    kind = storage.get("type") if isinstance(storage, dict) else None
    if kind not in (None, "", *STORAGE_TYPES):
        raise MemoryConfigError(f"data.memory.storage.type {kind!r} is not supported here: use 'in-process' (the "
                                "conversation is kept in agentContext, the engine stores it durably)")
    size = memory.get("contextWindowSize")
    if size is None:
        return DEFAULT_WINDOW
    if isinstance(size, bool) or not isinstance(size, int | float) or int(size) != size or size < MIN_WINDOW:
        raise MemoryConfigError(f"data.memory.contextWindowSize must be a whole number of at least {MIN_WINDOW}, "
                                f"but it was {size!r}")
    return int(size)


def _units(messages: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], int]]:
    """The messages in eviction units with their size in Camunda's count: a turn's tool results ride with its call."""
    units: list[tuple[list[dict[str, Any]], int]] = []
    for message in messages:
        if message.get("role") == "tool" and units and units[-1][0][0].get("toolCalls"):
            group, counted = units[-1]
            units[-1] = ([*group, message], counted if group[-1].get("role") == "tool" else counted + 1)
        else:  # a result with no call before it is a unit of its own: evicted first, never sent alone
            units.append(([message], 1))
    return units


def window(messages: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """The last ``size`` messages (our message shape, ``engine.agent.turn``), as Camunda's window keeps them."""
    system = messages[:1] if messages and messages[0].get("role") == "system" else []
    units = _units(messages[len(system):])
    total = len(system) + sum(counted for _, counted in units)
    start = 0
    while start < len(units) and (total > size or units[start][0][0].get("role") == "tool"):
        total -= units[start][1]
        start += 1
    return system + [message for group, _ in units[start:] for message in group]
