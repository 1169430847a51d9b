"""From journal entries to the steps of an event log: which activity, which transition of its lifecycle, when, by whom.

The journal records every fact of a step (flows taken, variables, jobs);
an event log wants the activities people see. ``steps_of`` keeps the
element events and maps them onto XES's standard lifecycle model:
``element_activated`` is ``start``, ``element_completed`` is ``complete``,
``element_terminated`` (an interrupting boundary event, a cancel) is
``ate_abort``, a claimed user task is ``assign``, an incident ``suspend``
and its resolution ``resume``.

Who acted (``org:resource``): the principal the journal records as ``by``
(engine.Actor): the starter for the start event, the person who completed a
user task for its completion, whoever resolved an incident. An agent acts as
``agent:<element id of its region>``: its own region's steps and the tools
it activated are its. Steps the engine took alone have no resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from discover.elements import ElementInfo
from engine.event_log import LogEvent

__all__ = ["Lifecycle", "Step", "agent_resource", "steps_of"]


class Lifecycle(StrEnum):
    """XES's standard lifecycle transitions (the lifecycle extension's ``standard`` model) the journal has."""

    START = "start"
    COMPLETE = "complete"
    ABORT = "ate_abort"
    ASSIGN = "assign"
    SUSPEND = "suspend"
    RESUME = "resume"


_TRANSITIONS = {
    "element_activated": Lifecycle.START,
    "element_completed": Lifecycle.COMPLETE,
    "element_terminated": Lifecycle.ABORT,
    "user_task_claimed": Lifecycle.ASSIGN,
    "incident_created": Lifecycle.SUSPEND,
    "incident_resolved": Lifecycle.RESUME,
}


@dataclass(frozen=True, slots=True)
class Step:
    position: int  # the journal entry's position: unique, and the order of the log
    element_id: str
    element_instance: int | None
    activity: str  # the element's name, else its id
    kind: str  # the BPMN element type, "" where unknown
    lifecycle: Lifecycle
    at: int  # epoch milliseconds
    resource: str | None


def agent_resource(element_id: str) -> str:
    return f"agent:{element_id}"


def by_id(data: Mapping[str, Any] | None) -> str | None:
    """The id of who made the command an entry records (its ``by``), if it records one."""
    by = (data or {}).get("by")
    if isinstance(by, dict) and by.get("id"):
        return str(by["id"])
    return None


def steps_of(events: tuple[LogEvent, ...], elements: Mapping[str, ElementInfo]) -> list[Step]:
    """The element steps of one instance's journal, in journal order, each with who acted where the journal says."""
    starter: str | None = None
    pending: dict[str, str] = {}  # element id -> who acts on its next step (a person's completion, an agent's tool)
    agents: dict[str, str] = {}  # element instance of an agent region -> its resource
    steps: list[Step] = []
    for e in events:
        if e.type == "instance_started":
            starter = by_id(e.data)
            continue
        if e.type == "agent_started" and e.element_id:
            agents[e.element_id] = agent_resource(e.element_id)
            continue
        if e.type == "ad_hoc_element_activated" and e.element_id in agents:
            activated = (e.data or {}).get("activated")
            if isinstance(activated, str):
                pending[activated] = agents[e.element_id]
            continue
        if e.type == "user_task_completed" and e.element_id:
            who = by_id(e.data)
            if who:
                pending[e.element_id] = who
            continue
        transition = _TRANSITIONS.get(e.type)
        if transition is None or not e.element_id:
            continue
        info = elements.get(e.element_id) or ElementInfo(e.element_id, "")
        resource = _resource(e, transition, info, starter, pending, agents)
        steps.append(Step(e.position, e.element_id, e.element_instance, info.label, info.kind, transition, e.at,
                          resource))
    return steps


def _resource(e: LogEvent, transition: Lifecycle, info: ElementInfo, starter: str | None, pending: dict[str, str],
              agents: dict[str, str]) -> str | None:
    assert e.element_id is not None
    named = by_id(e.data)
    if transition == Lifecycle.ASSIGN:
        return named or _text((e.data or {}).get("assignee"))
    if named:
        return named
    if info.kind == "startEvent" and starter:
        return starter
    if e.element_id in agents:
        return agents[e.element_id]
    if transition == Lifecycle.START and pending.get(e.element_id, "").startswith("agent:"):
        return pending.pop(e.element_id)  # a tool the agent chose
    if transition == Lifecycle.COMPLETE and e.element_id in pending:
        return pending.pop(e.element_id)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
