"""OCEL 2.0 out, as its JSON form, streamed: the journal as events over the objects they touch.

Objects, each with a type of ``OBJECT_TYPES``:
``instance`` (a process instance), ``task`` (one pass of an activity: an
element instance), ``agent run`` (one run of an agent region), ``tool call``
(one call an agent proposed), ``approval`` (the user task that decided one)
and ``principal`` (a person or machine client that acted). Events are the
element steps (type: the activity's name, as in XES) and the agent's facts
(model call, tool call, tool result, approval requested and decided, run
started and finished), each related to its objects with a qualifier.

Streaming: events are written as they are read; objects are known only once
their instance has been read, so they go to a temporary file and follow the
events (OCEL's JSON is one object whose keys may come in any order). Event
and object types (a few dozen at most) are gathered on the way and written
last.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from discover.elements import ElementCatalog
from discover.steps import Step, by_id, steps_of
from discover.xes import iso_time
from engine.event_log import LogEvent, Trace

__all__ = ["OBJECT_TYPES", "ocel_chunks"]

OBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "instance": ("processId", "version", "status"),
    "task": ("elementId", "elementType"),
    "agent run": ("elementId",),
    "tool call": ("tool",),
    "approval": ("tool",),
    "principal": (),
}
_AGENT_EVENTS = {
    "agent_started": "agent run started",
    "agent_model_called": "agent model call",
    "agent_tool_call": "agent tool call",
    "agent_tool_result": "agent tool result",
    "agent_approval_requested": "approval requested",
    "agent_approval_decided": "approval decided",
    "agent_finished": "agent run finished",
    "agent_limit_reached": "agent limit reached",
}
_NOT_TASKS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
                        "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", ""})


@dataclass(slots=True)
class _Objects:
    """The objects of one instance, written out once its trace is read; principals are shared by all."""

    found: dict[str, tuple[str, dict[str, Any], list[tuple[str, str]]]] = field(default_factory=dict)
    principals: set[str] = field(default_factory=set)
    written: int = 0

    def add(self, oid: str, kind: str, attributes: dict[str, Any], relations: Iterable[tuple[str, str]] = ()) -> str:
        entry = self.found.setdefault(oid, (kind, attributes, []))
        entry[2].extend(r for r in relations if r not in entry[2])
        return oid

    def principal(self, who: str) -> str:
        oid = f"principal:{who}"
        if who not in self.principals:
            self.principals.add(who)
            self.found[oid] = ("principal", {}, [])
        return oid


def ocel_chunks(traces: Iterable[Trace], catalog: ElementCatalog, counts: list[int] | None = None) -> Iterator[bytes]:
    """The OCEL 2.0 JSON document in pieces; ``counts``, when given, is kept at [instances, events]."""
    tally = counts if counts is not None else [0, 0]
    tally[:] = [0, 0]
    event_types: dict[str, set[str]] = {}
    objects = _Objects()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spill:
        first = True
        yield b'{"events": ['
        for trace in traces:
            out: list[str] = []
            for event in _events(trace, catalog, objects):
                event_types.setdefault(event["type"], set()).update(a["name"] for a in event["attributes"])
                out.append(("" if first else ",\n") + json.dumps(event, ensure_ascii=False))
                first = False
            tally[0] += 1
            tally[1] += len(out)
            _spill(objects, spill)
            yield "".join(out).encode()
        yield b'],\n"objects": ['
        spill.seek(0)
        while chunk := spill.read(1 << 16):
            yield chunk.encode()
    types = {"eventTypes": [{"name": name, "attributes": [{"name": a, "type": "string"} for a in sorted(attrs)]}
                            for name, attrs in sorted(event_types.items())],
             "objectTypes": [{"name": name, "attributes": [{"name": a, "type": "string"} for a in attrs]}
                             for name, attrs in OBJECT_TYPES.items()]}
    yield ("],\n" + json.dumps(types, ensure_ascii=False)[1:]).encode()


def _spill(objects: _Objects, spill: IO[str]) -> None:
    for oid, (kind, attributes, relations) in objects.found.items():
        spill.write(("," if objects.written else "") + json.dumps({
            "id": oid, "type": kind,
            "attributes": [{"name": k, "time": iso_time(0), "value": str(v)} for k, v in attributes.items()],
            "relationships": [{"objectId": o, "qualifier": q} for o, q in relations],
        }, ensure_ascii=False) + "\n")
        objects.written += 1
    objects.found.clear()


def _events(trace: Trace, catalog: ElementCatalog, objects: _Objects) -> Iterator[dict[str, Any]]:
    i = trace.instance
    instance = objects.add(f"instance:{i.key}", "instance",
                           {"processId": i.process_id, "version": i.version, "status": i.status})
    steps = {s.position: s for s in steps_of(trace.events, catalog.of(i.process_id, i.version))}
    for e in trace.events:
        step = steps.get(e.position)
        if step is not None:
            yield _step_event(step, instance, objects)
        elif e.type in _AGENT_EVENTS:
            yield _agent_event(e, i.key, instance, objects)


def _event(
    e_id: int, kind: str, at: int, attributes: dict[str, Any], relations: list[tuple[str, str]]
) -> dict[str, Any]:
    return {"id": f"e{e_id}", "type": kind, "time": iso_time(at),
            "attributes": [{"name": k, "value": str(v)} for k, v in attributes.items() if v is not None],
            "relationships": [{"objectId": o, "qualifier": q} for o, q in relations]}


def _step_event(step: Step, instance: str, objects: _Objects) -> dict[str, Any]:
    relations = [(instance, "instance")]
    if step.kind not in _NOT_TASKS and step.element_instance is not None:
        task = objects.add(f"task:{step.element_instance}", "task",
                           {"elementId": step.element_id, "elementType": step.kind}, [(instance, "part of")])
        relations.append((task, "task"))
    if step.resource and not step.resource.startswith("agent:"):  # an agent's steps: through its run's events
        relations.append((objects.principal(step.resource), "resource"))
    return _event(step.position, step.activity, step.at,
                  {"lifecycle": str(step.lifecycle), "elementId": step.element_id, "resource": step.resource},
                  relations)


def _agent_event(e: LogEvent, instance_key: int, instance: str, objects: _Objects) -> dict[str, Any]:
    data = e.data or {}
    run = objects.add(f"agent-run:{e.element_instance if e.element_instance is not None else instance_key}",
                      "agent run", {"elementId": e.element_id}, [(instance, "part of")])
    relations = [(instance, "instance"), (run, "agent run")]
    attributes: dict[str, Any] = {"elementId": e.element_id}
    tool = data.get("tool")
    if isinstance(tool, str):
        attributes["tool"] = tool
        call = objects.add(f"tool-call:{instance_key}:{data.get('callId')}", "tool call", {"tool": tool},
                           [(run, "made by")])
        relations.append((call, "tool call"))
        if isinstance(data.get("task"), int):
            approval = objects.add(f"approval:{data['task']}", "approval", {"tool": tool}, [(call, "decides")])
            relations.append((approval, "approval"))
    for name in ("decision", "approved", "model", "call"):
        if name in data and data[name] is not None:
            attributes[name] = data[name]
    who = by_id(data)
    if who:
        relations.append((objects.principal(who), "resource"))
    return _event(e.position, _AGENT_EVENTS[e.type], e.at, attributes, relations)
