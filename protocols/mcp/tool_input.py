"""What an ``mcp`` job asks a person when the upstream's task waits for input, and the answer it passes on.

An upstream MCP task (the Tasks extension, 2026-07-28) that needs input reports ``input_required`` with its
``inputRequests``, keyed. The hub has no user of its own at hand there (the job runs in a process, not for an
assistant), so an ``elicitation/create`` request becomes a question to a person of the process, as an A2A agent's
``input-required`` does (``protocols.a2a.call_message``): the job parks on a user task (``engine.AskPerson``)
named after the server and the request's message, whose details carry the request (``requestedSchema``, or the
``url`` of a URL-mode request), assigned by the service task's headers ``inputAssignee`` and
``inputCandidateGroups``. When the person completes it, the job runs again with their answer in ``mcpInput`` and
sends it (``tasks/update``):

- ``accept`` with the answer's variables as ``content``, only those the request's schema names (a URL-mode
  request gets no content);
- ``decline`` or ``cancel`` when the person sets the variable ``action`` to one of them.

One request is asked at a time, in the order the server lists them; the next read of the task asks the next one.
The call stays in the hub's list of waiting calls while the person is asked (the task names the parked job,
``protocols.orphans.PARKED_JOB``), so a cancelled instance still has its upstream task cancelled by the sweep.
Requests a person cannot answer (``sampling/createMessage``, ``roots/list``: the hub declares neither to upstream
servers) are not asked; the job waits, and its wait says which requests they are (``unanswered``).

A server that asks before it answers (an ``InputRequiredResult``, 2026-07-28: ``client_input``) is asked the same
way, without a task upstream: ``pending_input`` picks the request and the record to keep (``PendingInput``, the
local variable ``mcpInputRequired``: the server's ``requestState``), and the job's next attempt sends the call again
with the answer (``answer_of``). Requests a person cannot answer fail the job there: no task waits upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp_types import InputRequiredResult

from engine import AskPerson, PersonAnswer
from engine.exceptions import JobFailure
from engine.scheduler import Job
from protocols.mcp.tasks_client import ELICIT, DetailedTask, not_elicitations
from protocols.orphans import PARKED_JOB

__all__ = ["ANSWER_VARIABLE", "PENDING_VARIABLE", "Asked", "InputRequest", "PendingInput", "answer_of", "ask_person",
           "first_request", "parked_job", "pending_input", "unanswered"]

ANSWER_VARIABLE = "mcpInput"
"""The local variable a person's answer comes back in (``engine.AskPerson``'s ``answer_variable``)."""
PENDING_VARIABLE = "mcpInputRequired"
"""The local variable of an ``mcp`` task's element instance keeping a call waiting for a person (``PendingInput``)."""
MAX_MESSAGE = 2000
MAX_STATE_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class Asked:
    """The request a person was asked (kept in the job's record, ``tool_task.UpstreamTask``): its key, and the
    names of the fields its schema asks for (None: a URL-mode request, which takes no content)."""

    key: str
    fields: tuple[str, ...] | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "fields": None if self.fields is None else list(self.fields)}

    @classmethod
    def of(cls, raw: Any) -> Asked | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
            return None
        fields = raw.get("fields")
        if fields is not None and not (isinstance(fields, list) and all(isinstance(f, str) for f in fields)):
            return None
        return cls(raw["key"], None if fields is None else tuple(fields))


@dataclass(frozen=True, slots=True)
class InputRequest:
    """One ``elicitation/create`` request of the task's ``inputRequests``."""

    key: str
    message: str
    schema: dict[str, Any] | None  # form mode: the requested schema; None in URL mode
    url: str | None

    @property
    def asked(self) -> Asked:
        if self.schema is None:
            return Asked(self.key, None)
        properties = self.schema.get("properties")
        return Asked(self.key, tuple(properties) if isinstance(properties, Mapping) else ())


def _requests(task: DetailedTask) -> Mapping[str, Any]:
    found = task.input_requests if task.status == "input_required" else None
    return found if isinstance(found, Mapping) else {}


def first_request(task: DetailedTask) -> InputRequest | None:
    """The first elicitation the task waits for, if it waits for input and asks one."""
    return _first(_requests(task))


def _first(requests: Mapping[str, Any]) -> InputRequest | None:
    for key, request in requests.items():
        if not isinstance(request, Mapping) or request.get("method") != ELICIT:
            continue
        params = request.get("params")
        params = params if isinstance(params, Mapping) else {}
        message = str(params.get("message") or "the server asks for input")[:MAX_MESSAGE]
        url = params.get("url")
        if params.get("mode") == "url" and isinstance(url, str):
            return InputRequest(str(key), message, None, url)
        schema = params.get("requestedSchema")
        return InputRequest(str(key), message, dict(schema) if isinstance(schema, Mapping) else {}, None)
    return None


def unanswered(task: DetailedTask) -> list[str]:
    """The methods of the task's input requests no person is asked (the hub answers none of them)."""
    return not_elicitations(_requests(task))


@dataclass(frozen=True, slots=True)
class PendingInput:
    """A call the server answered with an ``InputRequiredResult`` (2026-07-28), waiting for a person's answer to
    send it again (the local variable ``mcpInputRequired``): the server's opaque ``requestState`` (None when it
    sent none), the request a person is asked, and the rounds answered so far."""

    server: str
    tool: str
    state: str | None
    asked: Asked
    answered: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"server": self.server, "tool": self.tool, "requestState": self.state, "asked": self.asked.to_json(),
                "answered": self.answered}

    @classmethod
    def of(cls, job: Job) -> PendingInput | None:
        """The record among the job's variables, if a well-formed one is there."""
        found = job.variables.get(PENDING_VARIABLE)
        if not isinstance(found, Mapping):
            return None
        server, tool, state, answered = (found.get(k) for k in ("server", "tool", "requestState", "answered"))
        asked = Asked.of(found.get("asked"))
        if not (isinstance(server, str) and isinstance(tool, str) and (state is None or isinstance(state, str))
                and asked is not None and isinstance(answered, int) and not isinstance(answered, bool)):
            return None
        return cls(server, tool, state, asked, answered)


def pending_input(server: str, tool: str, result: InputRequiredResult, answered: int
                  ) -> tuple[InputRequest, PendingInput]:
    """The request a person is asked for ``result`` and the record to keep until they answer; ``JobFailure`` when
    it asks nothing a person can answer (only ``sampling/createMessage`` or ``roots/list``, which the hub does not
    declare), or its state is larger than ``MAX_STATE_CHARS``."""
    requests = {key: r.model_dump(by_alias=True, mode="json", exclude_none=True)
                for key, r in (result.input_requests or {}).items()}
    request = _first(requests)
    where = f"tool '{tool}' of MCP server '{server}'"
    if request is None:
        others = ", ".join(not_elicitations(requests)) or "nothing"
        raise JobFailure(f"{where} asks for {others} before it answers, which the hub does not answer for an "
                         "upstream server: change the server, or the model")
    if result.request_state is not None and len(result.request_state) > MAX_STATE_CHARS:
        raise JobFailure(f"{where} asks a question with a requestState of {len(result.request_state)} characters, "
                         f"more than the hub keeps ({MAX_STATE_CHARS})")
    return request, PendingInput(server, tool, result.request_state, request.asked, answered)


def ask_person(job: Job, server: str, tool: str, task_id: str | None, request: InputRequest, round_: int
               ) -> AskPerson:
    """The user task standing in for the job until a person answers ``request`` (of the upstream's task
    ``task_id``, or, None, of the call's ``InputRequiredResult``)."""
    groups = tuple(g.strip() for g in job.headers.get("inputCandidateGroups", "").split(",") if g.strip())
    details: dict[str, Any] = {"kind": "mcp-input", "server": server, "tool": tool,
                               "request": request.key, "question": request.message, PARKED_JOB: job.key}
    if task_id is not None:
        details["taskId"] = task_id
    if request.url is not None:
        details["url"] = request.url
    else:
        details["requestedSchema"] = request.schema
    return AskPerson(
        f"{server}: {request.message}"[:255],
        details=details,
        assignee=job.headers.get("inputAssignee", "").strip() or None,
        candidate_groups=groups,
        answer_variable=ANSWER_VARIABLE,
        round=round_,
    )


def parked_job(job: Job) -> int | None:
    """The key of the job a person's task stood in for, when ``job`` runs again with their answer."""
    answer = PersonAnswer.of(job.variables, ANSWER_VARIABLE)
    return None if answer is None else answer.job


def answer_of(job: Job, asked: Asked | None, answered: int) -> tuple[int, dict[str, Any]] | None:
    """A person's answer to ``asked`` not yet sent (its round above ``answered``): the round and the response."""
    answer = PersonAnswer.of(job.variables, ANSWER_VARIABLE)
    if asked is None or answer is None or not answer.after(answered):
        return None
    variables = answer.variables
    action = variables.get("action")
    if action in ("decline", "cancel"):
        return answer.round, {"action": action}
    if asked.fields is None:
        return answer.round, {"action": "accept"}
    return answer.round, {"action": "accept", "content": {k: v for k, v in variables.items() if k in asked.fields}}
