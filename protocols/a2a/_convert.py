"""Between A2A and the engine: a message's parts as variables, an instance as a Task.

An A2A task is a process instance: its id is the instance key, its state
follows the instance (``working`` while it runs or waits on others,
``input-required`` while it waits on a user task assigned to the caller,
``completed`` with the variables as a data artifact, ``failed`` on an
incident, ``canceled`` when terminated). Everything here is computed from
the engine's state on each read, so a restarted hub answers for old tasks
exactly as before; nothing about a task lives only in memory.

The functions that read the engine are synchronous (the handler runs them
in a thread); the rest is pure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from a2a.types import Artifact, InvalidParamsError, Message, Part, Role, Task, TaskState, TaskStatus
from a2a.utils.errors import ContentTypeNotSupportedError

# protobuf ships no stubs and types-protobuf is not a dependency; the two functions and Value are used as documented
from google.protobuf.json_format import MessageToDict, ParseDict  # type: ignore[import-untyped]
from google.protobuf.struct_pb2 import Value  # type: ignore[import-untyped]

from engine import Engine, InstanceView
from engine.exposure import ToolSpec
from protocols.instances import waiting_for

CONTEXT_VARIABLE = "a2aContextId"
"""Where a client-chosen ``contextId`` is kept: an instance variable, so it survives a restart."""

CALLER_VARIABLE = "caller"
"""The principal that started the instance; only it sees the task over A2A."""

TEXT_VARIABLE = "text"
"""Where text parts go when the process declares no string input."""

MAX_PARTS = 100
"""A message with more parts is refused before anything starts (RELIABILITY.md A12)."""

RESULT_ARTIFACT = "result"

_HIDDEN = frozenset({CONTEXT_VARIABLE})  # bookkeeping of this adapter, not the process's output

JSON = "application/json"
TEXT = "text/plain"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An instance with what it waits for and whose it is, read together: everything a Task is built from."""

    view: InstanceView
    waits: tuple[dict[str, Any], ...]
    caller: str | None
    context_id: str

    @property
    def key(self) -> int:
        return self.view.key

    def caller_task(self) -> dict[str, Any] | None:
        """The open user task assigned to the caller, if the instance waits on one."""
        if self.caller is None:
            return None
        return next((w for w in self.waits if w["kind"] == "userTask" and w.get("assignee") == self.caller), None)

    @property
    def state(self) -> TaskState:
        match self.view.state:
            case "completed":
                return TaskState.TASK_STATE_COMPLETED
            case "terminated":
                return TaskState.TASK_STATE_CANCELED
            case "incident":
                return TaskState.TASK_STATE_FAILED
        return TaskState.TASK_STATE_INPUT_REQUIRED if self.caller_task() else TaskState.TASK_STATE_WORKING


TERMINAL = frozenset({TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_FAILED})
INTERRUPTED = frozenset({TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED})


def read_snapshot(engine: Engine, view: InstanceView) -> Snapshot:
    caller, context_id = identity(engine, view)
    return Snapshot(view=view, waits=tuple(waiting_for(engine, view)), caller=caller, context_id=context_id)


def identity(engine: Engine, view: InstanceView) -> tuple[str | None, str]:
    """Whose the instance is (its ``caller``) and its A2A context id.

    Read from the variables; a terminated instance has none left, so for it
    they come from the variables it was started with, the journal's first
    ``variables_updated`` entry.
    """
    variables = view.variables
    if view.state == "terminated" and CALLER_VARIABLE not in variables:
        first = next((e for e in engine.journal(view.key, limit=10) if e["type"] == "variables_updated"), None)
        found = (first or {}).get("data") or {}
        variables = found.get("variables") or {}
    caller = variables.get(CALLER_VARIABLE)
    context = variables.get(CONTEXT_VARIABLE)
    return (
        caller if isinstance(caller, str) else None,
        context if isinstance(context, str) and context else str(view.key),
    )


def load_snapshot(engine: Engine, key: int) -> Snapshot:
    return read_snapshot(engine, engine.instance(key))


# --- message -> variables ---------------------------------------------------------------------


def message_variables(message: Message, spec: ToolSpec | None) -> dict[str, Any]:
    """A message's parts as variables: each data part's entries, and the text for the declared text input.

    Text goes to the first declared input of type string, else to ``text``
    (``spec`` None: a follow-up message, always ``text``). File parts are
    refused: the hub never fetches a URL a message names (RELIABILITY.md A9).
    """
    if len(message.parts) > MAX_PARTS:
        raise InvalidParamsError(message=f"a message may have at most {MAX_PARTS} parts, not {len(message.parts)}")
    texts: list[str] = []
    data: dict[str, Any] = {}
    for index, part in enumerate(message.parts):
        kind = part.WhichOneof("content")
        if kind == "text":
            texts.append(part.text)
        elif kind == "data":
            value = from_value(part.data)
            if not isinstance(value, dict):
                raise InvalidParamsError(
                    message=f"part {index} holds JSON {type(value).__name__}: a data part must be a JSON object,"
                    " whose entries become the process's variables"
                )
            data.update(value)
        elif kind is None:
            raise InvalidParamsError(message=f"part {index} is empty: send text or a JSON data part")
        else:
            raise ContentTypeNotSupportedError(
                message=f"part {index} is a file ({kind}): this agent takes text and JSON data parts only"
            )
    variables: dict[str, Any] = {}
    if texts:
        variables[_text_input(spec)] = "\n".join(texts)
    variables.update(data)
    return variables


def _text_input(spec: ToolSpec | None) -> str:
    if spec is not None:
        for item in spec.inputs:
            if item.type == "string":
                return item.name
    return TEXT_VARIABLE


def from_value(value: Value) -> Any:
    """A protobuf ``Value`` as plain JSON data; whole numbers come back as ints (protobuf keeps only doubles)."""
    return _ints(MessageToDict(value))


def _ints(data: Any) -> Any:
    if isinstance(data, float) and data.is_integer() and math.isfinite(data) and abs(data) < 2**53:
        return int(data)
    if isinstance(data, dict):
        return {key: _ints(item) for key, item in data.items()}
    if isinstance(data, list):
        return [_ints(item) for item in data]
    return data


def to_value(data: Any) -> Value:
    return ParseDict(data, Value())


# --- instance -> task -------------------------------------------------------------------------


def to_task(snapshot: Snapshot, *, include_artifacts: bool = True) -> Task:
    task = Task(id=str(snapshot.key), context_id=snapshot.context_id, status=status(snapshot))
    if include_artifacts and snapshot.view.state == "completed":
        task.artifacts.append(result_artifact(snapshot))
    task.metadata.update({"processId": snapshot.view.process_id, "instance": str(snapshot.key)})
    return task


def status(snapshot: Snapshot) -> TaskStatus:
    """The task's status: its state, a message saying what it waits for or why it stopped, and a time."""
    result = TaskStatus(state=snapshot.state)
    text, data = _explain(snapshot)
    if text:
        parts = [Part(text=text, media_type=TEXT)]
        if data:
            parts.append(Part(data=to_value(data), media_type=JSON))
        result.message.CopyFrom(
            Message(
                message_id=f"{snapshot.key}-{TaskState.Name(result.state).removeprefix('TASK_STATE_').lower()}",
                task_id=str(snapshot.key),
                context_id=snapshot.context_id,
                role=Role.ROLE_AGENT,
                parts=parts,
            )
        )
    ended = snapshot.view.ended_at
    result.timestamp.FromMilliseconds(ended if ended is not None else int(time.time() * 1000))
    return result


def result_artifact(snapshot: Snapshot) -> Artifact:
    output = {k: v for k, v in snapshot.view.variables.items() if k not in _HIDDEN}
    return Artifact(
        artifact_id=f"{snapshot.key}-{RESULT_ARTIFACT}",
        name=RESULT_ARTIFACT,
        description=f"the variables of instance {snapshot.key} of '{snapshot.view.process_id}' when it completed",
        parts=[Part(data=to_value(output), media_type=JSON)],
    )


def _explain(snapshot: Snapshot) -> tuple[str, dict[str, Any] | None]:
    view = snapshot.view
    match view.state:
        case "completed":
            return "", None
        case "terminated":
            return f"instance {view.key} was canceled before it completed", None
        case "incident":
            incidents = [w for w in snapshot.waits if w["kind"] == "incident"]
            text = "; ".join(w["message"] for w in incidents) or f"instance {view.key} stopped with an incident"
            return text, {"incidents": incidents}
    mine = snapshot.caller_task()
    if mine is not None:
        form = f" (form '{mine['formKey']}')" if mine.get("formKey") else ""
        text = (
            f"waiting for your input: user task '{mine.get('name') or mine['element']}'{form}. "
            "Reply with a message that carries this task's id and a data part with the fields to complete it."
        )
        return text, {"userTask": mine}
    return f"working; waiting for {describe_waits(snapshot.waits)}", {"waitingFor": list(snapshot.waits)}


def describe_waits(waits: Sequence[Mapping[str, Any]]) -> str:
    if not waits:
        return "its next step"
    described = []
    for item in waits[:5]:
        kind = item["kind"]
        if kind == "userTask":
            who = item.get("assignee") or ", ".join(item.get("candidateGroups") or []) or "someone"
            described.append(f"user task '{item.get('name') or item['element']}' ({who})")
        elif kind == "timer":
            described.append(f"a timer due {item['dueAt']}")
        elif kind == "job":
            described.append(f"a worker for job type '{item['type']}'")
        else:
            described.append(f"{kind} '{item.get('name') or item['element']}'")
    return ", ".join(described)
