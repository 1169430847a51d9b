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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine import AskPerson
from engine.scheduler import Job
from protocols.mcp.tasks_client import ELICIT, DetailedTask
from protocols.orphans import PARKED_JOB

__all__ = ["ANSWER_VARIABLE", "Asked", "InputRequest", "answer_of", "ask_person", "first_request", "parked_job",
           "unanswered"]

ANSWER_VARIABLE = "mcpInput"
"""The local variable a person's answer comes back in (``engine.AskPerson``'s ``answer_variable``)."""
MAX_MESSAGE = 2000


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
    for key, request in _requests(task).items():
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
    return sorted({str(r.get("method")) for r in _requests(task).values()
                   if isinstance(r, Mapping) and r.get("method") != ELICIT})


def ask_person(job: Job, server: str, tool: str, task_id: str, request: InputRequest, round_: int) -> AskPerson:
    """The user task standing in for the job until a person answers ``request``."""
    groups = tuple(g.strip() for g in job.headers.get("inputCandidateGroups", "").split(",") if g.strip())
    details: dict[str, Any] = {"kind": "mcp-input", "server": server, "tool": tool, "taskId": task_id,
                               "request": request.key, "question": request.message, PARKED_JOB: job.key}
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
    raw = job.variables.get(ANSWER_VARIABLE)
    parked = raw.get("job") if isinstance(raw, Mapping) else None
    return parked if isinstance(parked, int) and not isinstance(parked, bool) else None


def answer_of(job: Job, asked: Asked | None, answered: int) -> tuple[int, dict[str, Any]] | None:
    """A person's answer to ``asked`` not yet sent (its round above ``answered``): the round and the response."""
    raw = job.variables.get(ANSWER_VARIABLE)
    if asked is None or not isinstance(raw, Mapping):
        return None
    round_, variables = raw.get("round"), raw.get("variables")
    if not isinstance(round_, int) or isinstance(round_, bool) or round_ <= answered:
        return None
    if not isinstance(variables, Mapping):
        variables = {}
    action = variables.get("action")
    if action in ("decline", "cancel"):
        return round_, {"action": action}
    if asked.fields is None:
        return round_, {"action": "accept"}
    return round_, {"action": "accept", "content": {k: v for k, v in variables.items() if k in asked.fields}}
