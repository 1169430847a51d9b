"""What a user task asks about: the ``inputs`` a person sees with it, fixed when the task is created.

A task's inputs are its input-mapped local variables (and, for a
multi-instance task, its input element); a task that is an agent's tool
call also shows the call's arguments, which is how the agent's question
reaches the person. A job that asks a person (``AskPerson``) shows its
question and details.

Inputs are a copy for people to read, kept with the task row; the
variables themselves stay in the instance. So each value is bounded: one
whose text (JSON, for anything but a string) is longer than
``MAX_VALUE_CHARS`` is kept as that text shortened, and at most
``MAX_INPUTS`` names are kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from engine.model import Activity
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance

__all__ = ["MAX_INPUTS", "MAX_VALUE_CHARS", "asked_inputs", "bounded", "user_task_inputs"]

MAX_VALUE_CHARS: Final = 2000
MAX_INPUTS: Final = 50


def bounded(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with at most ``MAX_INPUTS`` names, each value's text at most ``MAX_VALUE_CHARS`` long."""
    kept: dict[str, Any] = {}
    for name, value in list(values.items())[:MAX_INPUTS]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if len(text) > MAX_VALUE_CHARS:
            value = f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"
        kept[name] = value
    return kept


def _agent_call(step: Kernel, element: ElementInstance) -> tuple[str, dict[str, Any]] | None:
    """The agent and the arguments of the tool call ``element`` runs in, if it runs in one."""
    current = element
    while current.parent is not None:
        parent = step.state.elements.get(current.parent)
        if parent is None:
            return None
        if parent.inner:  # an ad-hoc activation: an agent's tool call when it holds one
            if parent.call is None or parent.parent is None:
                return None
            tool_call = step.state.variables.get(parent.key, {}).get("toolCall")
            arguments = {k: v for k, v in tool_call.items() if k != "_meta"} if isinstance(tool_call, dict) else {}
            return step.state.elements[parent.parent].element_id, arguments
        current = parent
    return None


def user_task_inputs(step: Kernel, element: ElementInstance, node: Activity) -> dict[str, Any]:
    """The details kept with a model's user task: ``inputs``, and ``agent`` when an agent's tool call asks."""
    local = step.state.variables.get(element.key, {})
    inputs: dict[str, Any] = {}
    details: dict[str, Any] = {}
    call = _agent_call(step, element)
    if call is not None:
        details["agent"], arguments = call
        inputs.update(arguments)
    if node.loop is not None and node.loop.input_element and node.loop.input_element in local:
        inputs[node.loop.input_element] = local[node.loop.input_element]
    for mapping in node.inputs:
        name = mapping.target.split(".", 1)[0]
        if name in local:
            inputs[name] = local[name]
    if inputs:
        details["inputs"] = bounded(inputs)
    return details


def asked_inputs(question: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs of a task a job's handler asked for: its question (the task's name unless the details hold
    one) and the details it gave, but their ``kind``."""
    return bounded({"question": question, **{k: v for k, v in details.items() if k not in ("kind", "inputs")}})
