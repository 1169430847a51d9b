"""Between A2A and the engine: a message's parts as variables, an instance as a Task.

An A2A task is a process instance: its id is the instance key, its state
follows the instance (``working`` while it runs or waits on others,
``input-required`` while it waits on a user task assigned to the caller,
``completed`` with the variables as a data artifact, ``failed`` on an
incident, ``canceled`` when terminated). Everything here is computed from
the engine's state on each read, so a restarted hub answers for old tasks
exactly as before; nothing about a task lives only in memory.

A process may shape its answer with variables (docs/A2A.md, "Shaping the
answer"): ``a2aArtifacts`` (a list of A2A artifacts in their JSON form)
replaces the ``result`` artifact, ``a2aReply`` (text, or a list of parts)
is the status message of the finished task, ``a2aReplyAsMessage`` answers
the message that started it with that reply alone (no task), and
``a2aState`` ``rejected`` or ``failed`` ends the task in that state. The
server sets ``a2aMessageId`` to the id of the message that started or last
continued the task, so a process can branch on it.

The functions that read the engine are synchronous (the handler runs them
in a thread); the rest is pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from a2a.types import Artifact, InvalidParamsError, Message, Part, Role, Task, TaskState, TaskStatus
from a2a.utils.errors import ContentTypeNotSupportedError

# protobuf ships no stubs and types-protobuf is not a dependency; the functions and Value are used as documented
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError  # type: ignore[import-untyped]
from google.protobuf.struct_pb2 import Value  # type: ignore[import-untyped]

from engine import Engine, InstanceView, NotFound
from engine.exposure import ToolSpec
from protocols.instances import waiting_for

CONTEXT_VARIABLE = "a2aContextId"
"""Where a client-chosen ``contextId`` is kept: an instance variable, so it survives a restart."""

CALLER_VARIABLE = "caller"
"""The principal that started the instance, for the process to use (``assignee="=caller"``).

Information only: whose task an instance is comes from the engine's
``InstanceView.started_by``, which no variable can change (``Snapshot.caller``).
"""

TEXT_VARIABLE = "text"
"""Where text parts go when the process declares no string input."""

MAX_PARTS = 100
"""A message with more parts is refused before anything starts (RELIABILITY.md A12)."""

MESSAGE_ID_VARIABLE = "a2aMessageId"
"""The id of the message that started the instance or last completed a user task of it."""

ARTIFACTS_VARIABLE = "a2aArtifacts"
"""A list of artifacts (A2A JSON: ``{"name", "parts": [{"text"}|{"data"}|{"url"}|{"raw"}, ...]}``) to answer with."""

REPLY_VARIABLE = "a2aReply"
"""The agent's reply when the task ends: text, or a list of parts (A2A JSON)."""

REPLY_AS_MESSAGE_VARIABLE = "a2aReplyAsMessage"
"""True: the message that started the task is answered with the reply as a message, not with the task."""

STATE_VARIABLE = "a2aState"
"""``rejected`` or ``failed``: the completed instance is a task in that state."""

RESULT_ARTIFACT = "result"

# Bookkeeping of this adapter and the answer's shape, not the process's output:
_HIDDEN = frozenset(
    {
        CONTEXT_VARIABLE,
        MESSAGE_ID_VARIABLE,
        ARTIFACTS_VARIABLE,
        REPLY_VARIABLE,
        REPLY_AS_MESSAGE_VARIABLE,
        STATE_VARIABLE,
    }
)
_END_STATES = {"rejected": TaskState.TASK_STATE_REJECTED, "failed": TaskState.TASK_STATE_FAILED}

JSON = "application/json"
TEXT = "text/plain"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An instance with what it waits for and whose it is, read together: everything a Task is built from."""

    view: InstanceView
    waits: tuple[dict[str, Any], ...]
    caller: str | None  # whose task it is: the instance's ``started_by``, never its ``caller`` variable
    context_id: str
    since: int = 0  # when the task got into its state (ms): the status time, the same on every read

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
                return _END_STATES.get(str(self.view.variables.get(STATE_VARIABLE)), TaskState.TASK_STATE_COMPLETED)
            case "terminated":
                return TaskState.TASK_STATE_CANCELED
            case "incident":
                return TaskState.TASK_STATE_FAILED
        return TaskState.TASK_STATE_INPUT_REQUIRED if self.caller_task() else TaskState.TASK_STATE_WORKING


TERMINAL = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_REJECTED,
    }
)
INTERRUPTED = frozenset({TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED})


def read_snapshot(engine: Engine, view: InstanceView) -> Snapshot:
    if view.created_at is None:  # engine.instance() gives no times; the status time needs them
        view = _timed(engine, view.key)
    caller, context_id = identity(engine, view)
    waits = tuple(waiting_for(engine, view))
    return Snapshot(view=view, waits=waits, caller=caller, context_id=context_id, since=_since(engine, view))


def _timed(engine: Engine, key: int) -> InstanceView:
    """The instance with its creation and end times (a listing carries them, ``engine.instance`` does not)."""
    found = engine.instances(after=key - 1, limit=1)
    if not found or found[0].key != key:
        raise NotFound(f"process instance {key} does not exist")
    return found[0]


def _since(engine: Engine, view: InstanceView) -> int:
    """When the task's state began: its end, else its latest open user task's creation, else its start.

    Not the time of the read: two reads of an unchanged task must show the same status.
    """
    if view.ended_at is not None:
        return view.ended_at
    asked = [t.created_at for t in engine.user_tasks(instance=view.key) if t.created_at is not None]
    return max([view.created_at or 0, *asked])


def identity(engine: Engine, view: InstanceView) -> tuple[str | None, str]:
    """Whose the instance is and its A2A context id.

    The owner is the principal that started it, as the engine recorded it
    (``started_by``); None for an instance the engine started itself or one
    started before the engine kept it, which is then nobody's A2A task (the
    ``caller`` variable is not trusted for it: any ``start`` token can write
    it). The context id is a variable; a terminated instance has none left,
    so for it the id comes from the variables it was started with, the
    journal's first ``variables_updated`` entry.
    """
    variables = view.variables
    if view.state == "terminated" and not variables:
        first = next((e for e in engine.journal(view.key, limit=10) if e["type"] == "variables_updated"), None)
        found = (first or {}).get("data") or {}
        variables = found.get("variables") or {}
    context = variables.get(CONTEXT_VARIABLE)
    return view.started_by, context if isinstance(context, str) and context else str(view.key)


def load_snapshot(engine: Engine, key: int) -> Snapshot:
    return read_snapshot(engine, _timed(engine, key))


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
        task.artifacts.extend(task_artifacts(snapshot))
    task.metadata.update({"processId": snapshot.view.process_id, "instance": str(snapshot.key)})
    return task


def status(snapshot: Snapshot) -> TaskStatus:
    """The task's status: its state, a message saying what it waits for or why it stopped, and a time."""
    result = TaskStatus(state=snapshot.state)
    text, data = _explain(snapshot)
    parts = reply_parts(snapshot) if snapshot.view.state == "completed" else []
    if text and not parts:
        parts = [Part(text=text, media_type=TEXT)]
        if data:
            parts.append(Part(data=to_value(data), media_type=JSON))
    if parts:
        message_id = f"{snapshot.key}-{TaskState.Name(result.state).removeprefix('TASK_STATE_').lower()}"
        asking = snapshot.caller_task() if result.state == TaskState.TASK_STATE_INPUT_REQUIRED else None
        if asking is not None:  # one id per question: each answered one stays in the task's history
            message_id += f"-{asking['task']}"
        result.message.CopyFrom(
            Message(
                message_id=message_id,
                task_id=str(snapshot.key),
                context_id=snapshot.context_id,
                role=Role.ROLE_AGENT,
                parts=parts,
            )
        )
    result.timestamp.FromMilliseconds(snapshot.since)
    return result


def task_artifacts(snapshot: Snapshot) -> list[Artifact]:
    """A completed task's artifacts: those in ``a2aArtifacts``, else ``result`` (the instance's variables).

    An ``a2aArtifacts`` that is not a list of artifacts is ignored rather
    than failing every read of the task; the ``result`` artifact stands.
    """
    found = snapshot.view.variables.get(ARTIFACTS_VARIABLE)
    if not isinstance(found, list):
        return [result_artifact(snapshot)]
    artifacts = []
    for index, item in enumerate(found):
        if not isinstance(item, dict):
            return [result_artifact(snapshot)]
        try:
            artifact = ParseDict(item, Artifact(), ignore_unknown_fields=True)
        except ParseError:
            return [result_artifact(snapshot)]
        if not artifact.artifact_id:
            artifact.artifact_id = f"{snapshot.key}-{artifact.name or index}"
        artifacts.append(artifact)
    return artifacts


def reply_parts(snapshot: Snapshot) -> list[Part]:
    """The parts of the process's ``a2aReply``: a text, or a list of parts; nothing when unset or not parts."""
    found = snapshot.view.variables.get(REPLY_VARIABLE)
    if isinstance(found, str):
        return [Part(text=found, media_type=TEXT)]
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        return []
    try:
        return [ParseDict(item, Part(), ignore_unknown_fields=True) for item in found]
    except ParseError:
        return []


def reply_message(snapshot: Snapshot) -> Message | None:
    """The reply as a message of its own, when the completed process asks to answer with one (``a2aReplyAsMessage``)."""
    if snapshot.view.state != "completed" or snapshot.view.variables.get(REPLY_AS_MESSAGE_VARIABLE) is not True:
        return None
    return Message(
        message_id=f"{snapshot.key}-reply",
        context_id=snapshot.context_id,
        role=Role.ROLE_AGENT,
        parts=reply_parts(snapshot),
    )


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
