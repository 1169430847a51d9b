"""What an ``a2a`` job sends and asks: its message, a person's answer passed on, the question put to a person.

Pure functions of the job and its record (``call_record``), apart from the
handler's lifecycle in ``call_task``.
"""

from __future__ import annotations

from a2a.types import Message, Part, Role
from google.protobuf.json_format import ParseDict  # type: ignore[import-untyped]
from google.protobuf.struct_pb2 import Value  # type: ignore[import-untyped]

from engine import AskPerson, PersonAnswer
from engine.scheduler import Job
from protocols.a2a.call_record import RECORD_VARIABLE, CallRecord
from protocols.a2a.client import TaskOutcome

__all__ = ["ANSWER_VARIABLE", "MAX_MESSAGE", "InvalidCallTask", "answer_message", "ask_person", "build_message"]

ANSWER_VARIABLE = "a2aInput"  # a person's answer to the remote task's input-required (engine.AskPerson)
MAX_MESSAGE = 2000


class InvalidCallTask(ValueError):
    """The task's headers or input variables are wrong; the message names the header or variable."""


def build_message(job: Job, message_id: str) -> Message:
    """The user message of the job: text from ``message``/``text``, data from ``data``, else all its variables."""
    where = f"service task '{job.element_id}' (type 'a2a')"
    variables = {k: v for k, v in job.variables.items() if k not in (RECORD_VARIABLE, ANSWER_VARIABLE)}
    parts: list[Part] = []
    for name in ("message", "text"):
        text = variables.get(name)
        if text is None:
            continue
        if not isinstance(text, str):
            raise InvalidCallTask(f"{where}: variable '{name}' must be text, not {type(text).__name__}")
        parts.append(Part(text=text, media_type="text/plain"))
        break
    data = variables.get("data")
    if data is not None:
        parts.append(Part(data=ParseDict(data, Value()), media_type="application/json"))
    if not parts:
        parts.append(Part(data=ParseDict(variables, Value()), media_type="application/json"))
    message = Message(message_id=message_id, role=Role.ROLE_USER, parts=parts)
    skill = job.headers.get("skill", "").strip()
    if skill:
        message.metadata.update({"skillId": skill})
    return message


def answer_message(job: Job, record: CallRecord) -> tuple[int, Message] | None:
    """A person's answer to the task's input-required, not yet sent: its round and the message that carries it."""
    answer = PersonAnswer.of(job.variables, ANSWER_VARIABLE)
    if not record.task_id or answer is None or not answer.after(record.answered):
        return None
    round_, variables = answer.round, answer.variables
    parts: list[Part] = []
    text = variables.get("message", variables.get("text"))
    if isinstance(text, str):
        parts.append(Part(text=text, media_type="text/plain"))
    data = {k: v for k, v in variables.items() if k not in ("message", "text")}
    if data or not parts:
        parts.append(Part(data=ParseDict(data, Value()), media_type="application/json"))
    message = Message(message_id=f"{record.message_id}-answer-{round_}", role=Role.ROLE_USER, parts=parts,
                      task_id=record.task_id, context_id=record.context_id or "")
    return round_, message


def ask_person(job: Job, agent: str, outcome: TaskOutcome, record: CallRecord) -> AskPerson:
    """The remote task asks for input: a user task in this process, whose answer the next attempt sends on."""
    question = outcome.message or f"agent '{agent}' needs more input for task {outcome.task_id}"
    groups = tuple(g.strip() for g in job.headers.get("inputCandidateGroups", "").split(",") if g.strip())
    return AskPerson(
        f"{agent}: {question}"[:255],
        details={"kind": "a2a-input", "agent": agent, "taskId": outcome.task_id, "contextId": outcome.context_id,
                 "question": question[:MAX_MESSAGE],
                 "artifacts": outcome.artifacts},
        assignee=job.headers.get("inputAssignee", "").strip() or None,
        candidate_groups=groups,
        answer_variable=ANSWER_VARIABLE,
        round=record.answered + 1,
    )
