"""An instance's state as plain data: a tree of live element instances and their variable scopes.

Only live element instances are kept; what has finished lives on in the
journal. The state serialises to JSON (``to_dict``/``from_dict``) with a
format version, so a stored instance can be read back by later code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine.runtime.records import AgentRun, CompensationRecord, ListenerPosition, ParkedJob, ToolCall

STATE_FORMAT = 1


class ElementState(StrEnum):
    ACTIVATING = "activating"  # input mappings and entry work not done yet (or failed: incident)
    ACTIVE = "active"  # waiting: job, user task, child instance, inner elements
    COMPLETING = "completing"  # output mappings and leaving not done yet (or failed: incident)
    TERMINATING = "terminating"  # terminated, ending once a user task's canceling listeners inside it have run


class Phase(StrEnum):
    """A step's work on an element instance, as queued on the step's agenda."""

    ACTIVATE = "activate"  # input mappings and the element's own work
    COMPLETE = "complete"  # output mappings, then leave
    LEAVE = "leave"  # take the outgoing flows and tell the container


class IncidentAction(StrEnum):
    """What resolving an incident runs again (stored in ``InstanceState.incidents``)."""

    ACTIVATE = "activate"
    COMPLETE = "complete"
    LEAVE = "leave"
    SETTLE = "settle"  # check the element's scope again (an ad-hoc completion condition)
    JOB = "job"  # retry the element's job
    MODEL = "model"  # an agent: ask its model again, once more past a spent limit
    CONDITION = "condition"  # evaluate the element's conditional events again (their condition failed)
    WAIT = "wait"  # nothing: the element keeps waiting, and what keeps its wait going from outside tries again

    @property
    def phase(self) -> Phase | None:
        """The agenda work this action runs again, when it is one."""
        return Phase(self.value) if self.value in _PHASES else None


_PHASES = frozenset(p.value for p in Phase)


class InstanceStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


@dataclass(slots=True)
class LoopState:
    """The bookkeeping of a multi-instance body."""

    items: list[Any] | None  # the input collection, or None with a cardinality
    total: int
    next_index: int = 0  # index of the next inner instance to create (sequential)
    completed: int = 0
    terminated: int = 0


@dataclass(slots=True)
class ElementInstance:
    key: int
    element_id: str
    parent: int | None  # the containing element instance; None only for the process itself
    state: ElementState = ElementState.ACTIVATING
    is_body: bool = False  # multi-instance body (its children are the inner instances)
    loop: LoopState | None = None
    loop_counter: int | None = None
    job: int | None = None
    user_task: int | None = None
    child_instance: int | None = None
    incident: int | None = None
    joins: dict[str, dict[str, int]] = field(default_factory=dict)  # gateway id -> flow id -> tokens waiting
    waits: dict[int, str] = field(default_factory=dict)  # open timers and subscriptions: key -> "timer" | "message"...
    compensable: list[CompensationRecord] = field(default_factory=list)  # in completion order
    compensating: list[CompensationRecord] | None = None  # a compensation throw: records whose handlers are to run
    compensates: int | None = None  # a compensation handler: the key of the throw event waiting for it
    inner: bool = False  # an ad-hoc subprocess's inner instance: the scope of one activation of an inner element
    call: ToolCall | None = None  # an agent's tool call held by an inner instance
    agent: AgentRun | None = None  # an agent's run on its ad-hoc subprocess: counters and the open turn
    parked: ParkedJob | None = None  # a job waiting for a person (AskPerson): how to create it again
    # conditional events this instance waits for (its own, its boundary events', its event subprocesses'): event
    # id -> whether the condition held when last evaluated (None: not evaluated yet, done on the step's next pass)
    conditions: dict[str, bool | None] = field(default_factory=dict)
    # the execution or task listeners the element is at (engine.runtime.behaviors.listeners); the open listener's
    # job is also ``job`` while it runs
    listener: ListenerPosition | None = None
    pending: dict[str, Any] | None = None  # a user task's completion held by its completing listeners

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "element": self.element_id, "parent": self.parent, "state": self.state}
        if self.is_body:
            data["body"] = True
        if self.loop is not None:
            loop = self.loop
            data["loop"] = [loop.items, loop.total, loop.next_index, loop.completed, loop.terminated]
        for name in ("loop_counter", "job", "user_task", "child_instance", "incident"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.joins:
            data["joins"] = self.joins
        if self.waits:
            data["waits"] = [[k, v] for k, v in self.waits.items()]
        if self.compensable:
            data["compensable"] = [r.to_list() for r in self.compensable]
        if self.compensating is not None:
            data["compensating"] = [r.to_list() for r in self.compensating]
        if self.compensates is not None:
            data["compensates"] = self.compensates
        if self.inner:
            data["inner"] = True
        if self.call is not None:
            data["call"] = self.call.to_dict()
        if self.agent is not None:
            data["agent"] = self.agent.to_dict()
        if self.parked is not None:
            data["parked"] = self.parked.to_dict()
        if self.conditions:
            data["conditions"] = self.conditions
        if self.listener is not None:
            data["listener"] = self.listener.to_list()
        if self.pending is not None:
            data["pending"] = self.pending
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ElementInstance:
        if data.keys() <= _SCALAR_KEYS:  # most element instances: no loop, joins, waits or records to rebuild
            return ElementInstance(
                data["key"],
                data["element"],
                data["parent"],
                _ELEMENT_STATES.get(data["state"]) or ElementState(data["state"]),
                loop_counter=data.get("loop_counter"),
                job=data.get("job"),
                user_task=data.get("user_task"),
                child_instance=data.get("child_instance"),
                incident=data.get("incident"),
            )
        loop = data.get("loop")
        call, agent, parked = data.get("call"), data.get("agent"), data.get("parked")
        return ElementInstance(
            key=data["key"],
            element_id=data["element"],
            parent=data["parent"],
            state=ElementState(data["state"]),
            is_body=data.get("body", False),
            loop=LoopState(*loop) if loop is not None else None,
            loop_counter=data.get("loop_counter"),
            job=data.get("job"),
            user_task=data.get("user_task"),
            child_instance=data.get("child_instance"),
            incident=data.get("incident"),
            joins=data.get("joins", {}),
            waits={k: v for k, v in data.get("waits", [])},
            compensable=[CompensationRecord.from_list(r) for r in data.get("compensable", [])],
            compensating=None if (pending := data.get("compensating")) is None else [
                CompensationRecord.from_list(r) for r in pending],
            compensates=data.get("compensates"),
            inner=data.get("inner", False),
            call=ToolCall.from_dict(call) if call is not None else None,
            agent=AgentRun.from_dict(agent) if agent is not None else None,
            parked=ParkedJob.from_dict(parked) if parked is not None else None,
            conditions=data.get("conditions", {}),
            listener=None if (at := data.get("listener")) is None else ListenerPosition.from_list(at),
            pending=data.get("pending"),
        )


# The keys ``ElementInstance.to_dict`` writes whose values are stored as they are: a dict with no others is read
# back without the general path's twenty lookups (a state is read back on nearly every command).
_SCALAR_KEYS = frozenset({"key", "element", "parent", "state", "loop_counter", "job", "user_task", "child_instance",
                          "incident"})
_ELEMENT_STATES = {state.value: state for state in ElementState}


@dataclass(slots=True)
class ParentLink:
    """Where a called instance reports back: the call activity that started it."""

    instance: int
    element_instance: int
    depth: int = 1  # nested calls above and including this one (limited by RuntimeLimits.max_call_depth)


@dataclass(slots=True)
class InstanceState:
    key: int
    process_id: str
    definition_key: int
    version: int
    status: InstanceStatus = InstanceStatus.ACTIVE
    root: int = 0  # key of the element instance of the process itself
    elements: dict[int, ElementInstance] = field(default_factory=dict)
    variables: dict[int, dict[str, Any]] = field(default_factory=dict)  # scope key -> local variables
    parent: ParentLink | None = None
    incidents: dict[int, IncidentAction] = field(default_factory=dict)  # open incident key -> what resolving runs
    start_key: str | None = None  # the correlation key of the message that started it, if one did
    # The principal whose request started it (``Engine.start(owner=...)``), None when the engine started it (a
    # timer, a message, a call activity) or it predates the field. Metadata, not a variable: no step writes it,
    # so a process or a client setting variables cannot change whose A2A or MCP task the instance is.
    started_by: str | None = None
    # The W3C trace context (``traceparent``, ``tracestate``) of the request that started it, when telemetry
    # recorded one (``engine.telemetry.carrier``): its jobs and its children's spans join that trace. Metadata too.
    trace: dict[str, str] | None = None

    def children_of(self, key: int) -> list[ElementInstance]:
        return [e for e in self.elements.values() if e.parent == key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "key": self.key,
            "process": self.process_id,
            "definition": self.definition_key,
            "version": self.version,
            "status": self.status,
            "root": self.root,
            "elements": [e.to_dict() for e in self.elements.values()],
            "variables": [[k, v] for k, v in self.variables.items()],
            "parent": [self.parent.instance, self.parent.element_instance, self.parent.depth] if self.parent else None,
            "incidents": [[k, v] for k, v in self.incidents.items()],
            **({"startKey": self.start_key} if self.start_key is not None else {}),
            **({"startedBy": self.started_by} if self.started_by is not None else {}),
            **({"trace": self.trace} if self.trace else {}),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> InstanceState:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported instance state format {data.get('format')!r}")
        parent = data.get("parent")
        return InstanceState(
            key=data["key"],
            process_id=data["process"],
            definition_key=data["definition"],
            version=data["version"],
            status=InstanceStatus(data["status"]),
            root=data["root"],
            elements={e.key: e for e in (ElementInstance.from_dict(d) for d in data["elements"])},
            variables={k: v for k, v in data["variables"]},
            parent=ParentLink(parent[0], parent[1], parent[2] if len(parent) > 2 else 1) if parent else None,
            incidents={k: IncidentAction(v) for k, v in data["incidents"]},
            start_key=data.get("startKey"),
            started_by=data.get("startedBy"),
            trace=data.get("trace"),
        )
