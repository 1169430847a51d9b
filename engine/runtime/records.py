"""Typed records that element instances carry: an agent's run, a tool call, a job parked for a person.

They are part of an instance's state, so they live beside it (``state``) and
serialise with it; the code that changes them lives elsewhere (the agent's
run and calls in ``engine.agent.loop``, parked jobs in ``commands``). Each
reads and writes the JSON keys the earlier ``dict`` form used, so a stored
instance loads unchanged: ``to_dict``/``from_dict`` are the only places those
keys are spelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "TOOL_CALL_LOCALS",
    "AgentLimits",
    "AgentRun",
    "Approval",
    "CompensationRecord",
    "ListenerPosition",
    "ParkedJob",
    "ToolCall",
    "ToolVariables",
]


class ToolVariables(StrEnum):
    """Where the variables an agent's tool writes go (``<agenthub:agent toolVariables>``).

    ``propagate``: as Zeebe propagates them, to the nearest scope that has the
    name, else the process; only ``toolCallResult`` stays on the call's inner
    instance. ``isolated``: everything the tool writes stays on its inner
    instance, so no tool call changes a process variable.
    """

    PROPAGATE = "propagate"
    ISOLATED = "isolated"


@dataclass(frozen=True, slots=True)
class AgentLimits:
    """An agent run's budgets, evaluated once when it starts (None: unlimited)."""

    model_calls: int
    tool_calls: int | None = None
    tokens: int | None = None
    cost: Decimal | None = None
    deadline: int | None = None  # epoch milliseconds (maxDuration from the start)

    def to_dict(self) -> dict[str, Any]:
        return {"modelCalls": self.model_calls, "toolCalls": self.tool_calls, "tokens": self.tokens,
                "cost": str(self.cost) if self.cost is not None else None, "deadline": self.deadline}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> AgentLimits:
        cost = data.get("cost")
        return AgentLimits(model_calls=data["modelCalls"], tool_calls=data.get("toolCalls"),
                           tokens=data.get("tokens"), cost=Decimal(cost) if cost is not None else None,
                           deadline=data.get("deadline"))


@dataclass(slots=True)
class AgentRun:
    """An agent's run on its ad-hoc subprocess: the model, the budgets used and the open turn.

    The conversation itself is not here: it is appended to the conversation
    store (``AppendConversation``); ``conversation_length`` is how many
    messages it holds, the index of the next one.
    """

    model: str
    endpoint: str | None
    result_variable: str
    limits: AgentLimits
    model_calls: int = 0
    tool_calls: int = 0
    tokens: int = 0
    cost: Decimal = Decimal(0)
    conversation_length: int = 0
    pending: list[str] = field(default_factory=list)  # call ids of this turn still without a result
    counts: dict[str, int] = field(default_factory=dict)  # tool -> calls that ran or were approved
    grace: int = 0  # extra model calls granted by resolving a limit's incident
    actors: list[str] = field(default_factory=list)  # who completed a user task in the run: no approver of it
    # a run stored before the option existed kept its tools' variables in their inner instances: that stays so
    tool_variables: ToolVariables = ToolVariables.ISOLATED
    events: list[Any] = field(default_factory=list)  # what event subprocesses gave, not yet told to the model

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "endpoint": self.endpoint, "resultVariable": self.result_variable,
            "limits": self.limits.to_dict(), "modelCalls": self.model_calls, "toolCalls": self.tool_calls,
            "tokens": self.tokens, "cost": str(self.cost), "messages": self.conversation_length,
            "pending": list(self.pending), "counts": dict(self.counts), "grace": self.grace,
            **({"actors": list(self.actors)} if self.actors else {}),
            **({"toolVariables": self.tool_variables} if self.tool_variables != ToolVariables.ISOLATED else {}),
            **({"events": list(self.events)} if self.events else {}),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> AgentRun:
        return AgentRun(
            model=data["model"], endpoint=data.get("endpoint"), result_variable=data["resultVariable"],
            limits=AgentLimits.from_dict(data["limits"]), model_calls=data["modelCalls"],
            tool_calls=data["toolCalls"], tokens=data["tokens"], cost=Decimal(data["cost"]),
            conversation_length=data["messages"], pending=list(data.get("pending", [])),
            counts=dict(data.get("counts", {})), grace=data.get("grace", 0), actors=list(data.get("actors", [])),
            tool_variables=ToolVariables(data.get("toolVariables", ToolVariables.ISOLATED)),
            events=list(data.get("events", [])),
        )


TOOL_CALL_LOCALS = ("toolCall", "toolCallResult")  # declared on a tool call's inner instance when it runs


class Approval(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"


@dataclass(slots=True)
class ToolCall:
    """An agent's tool call, held by the inner instance it runs in.

    While it waits for approval it holds the checked ``arguments`` (only those
    run once approved); they are dropped when it runs. An approval that needs
    several approvers (``needed``) keeps the ids of those who approved so far
    in ``approved_by``, and ``excluded`` the principals who may not approve it
    (four eyes: the instance's starter and who acted in the agent's run).
    When the agent's tool variables propagate, ``written`` keeps what the
    tool's elements wrote (they went up, out of the inner instance): the
    call's result for the model when the tool leaves no ``toolCallResult``.
    """

    id: str
    tool: str
    arguments_hash: str
    arguments: dict[str, Any] | None = None
    approval: Approval | None = None
    needed: int = 1
    approved_by: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    due_date: str | None = None  # when the approval is due (ISO 8601, UTC), from its policy's dueDate
    on_timeout: str | None = None  # what the approval's due-date timer does: "reject" | "escalate" (engine.agent)
    written: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "tool": self.tool, "argumentsHash": self.arguments_hash}
        if self.arguments is not None:
            data["arguments"] = self.arguments
        if self.approval is not None:
            data["approval"] = self.approval
        if self.needed != 1:
            data["needed"] = self.needed
        if self.approved_by:
            data["approvedBy"] = list(self.approved_by)
        if self.excluded:
            data["excluded"] = list(self.excluded)
        if self.due_date is not None:
            data["dueDate"] = self.due_date
        if self.on_timeout is not None:
            data["onTimeout"] = self.on_timeout
        if self.written is not None:
            data["written"] = self.written
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ToolCall:
        approval = data.get("approval")
        return ToolCall(id=data["id"], tool=data["tool"], arguments_hash=data["argumentsHash"],
                        arguments=data.get("arguments"), approval=Approval(approval) if approval else None,
                        needed=data.get("needed", 1), approved_by=list(data.get("approvedBy", [])),
                        excluded=list(data.get("excluded", [])), due_date=data.get("dueDate"),
                        on_timeout=data.get("onTimeout"), written=data.get("written"))


@dataclass(frozen=True, slots=True)
class ParkedJob:
    """A job whose handler asked a person (``AskPerson``): how to create it again once they answer."""

    job_type: str
    retries: int
    headers: dict[str, str]
    answer_variable: str
    round: int
    job: int | None = None  # the job that asked (None in states written before it was kept)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.job_type, "retries": self.retries, "headers": dict(self.headers),
                "answer": self.answer_variable, "round": self.round, "job": self.job}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ParkedJob:
        return ParkedJob(job_type=data["type"], retries=data["retries"], headers=dict(data["headers"]),
                         answer_variable=data["answer"], round=data["round"], job=data.get("job"))


@dataclass(slots=True)
class CompensationRecord:
    """A completed activity that can be compensated, or that holds records that can, kept in its flow scope.

    Stored as ``[element id, key, locals, nested, container]`` (the list the state held before it was typed),
    so stored instances load unchanged.
    """

    element_id: str
    key: int  # the activity's element instance
    locals: dict[str, Any]  # its local variables when it completed: what its handler sees
    nested: list[CompensationRecord]  # what completed inside it (a subprocess, a multi-instance body)
    container: bool  # no handler of its own: it stands for its nested records

    def to_list(self) -> list[Any]:
        return [self.element_id, self.key, self.locals, [r.to_list() for r in self.nested], self.container]

    @staticmethod
    def from_list(raw: list[Any]) -> CompensationRecord:
        element_id, key, local, nested = raw[:4]
        container = bool(raw[4]) if len(raw) > 4 else False
        return CompensationRecord(str(element_id), int(key), dict(local),
                                  [CompensationRecord.from_list(r) for r in nested], container)


@dataclass(slots=True)
class ListenerPosition:
    """Where an element is in its listeners of one event (``engine.runtime.behaviors.listeners``).

    Stored as ``[event, done, job]`` (the list the state held before it was typed).
    """

    event: str  # the ListenerEvent's value: "start", "end", "creating", "completing" ...
    done: int  # listeners of that event that have run
    job: int | None = None  # the open listener job, while one runs

    def to_list(self) -> list[Any]:
        return [self.event, self.done, self.job]

    @staticmethod
    def from_list(raw: list[Any]) -> ListenerPosition:
        job = raw[2] if len(raw) > 2 else None
        return ListenerPosition(str(raw[0]), int(raw[1]), None if job is None else int(job))
