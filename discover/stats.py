"""What one pass over a process's traces counts: instances by outcome, cycle times, and per element its passes,
their durations, rework, incidents and errors, the decisions taken after it, and per agent its runs and how
often it looped or was overruled.

``ProcessStats.add`` takes one trace at a time (``engine.event_log``), so
the statistics of a log of any size are built while it streams; what they
keep grows with the number of instances (one cycle time each) and of
element passes (one duration each), never with the journal's other facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from discover.elements import Catalog
from discover.steps import Lifecycle, steps_of
from engine.event_log import LogEvent, Trace

__all__ = ["CONTAINERS", "AgentStats", "ElementStats", "ProcessStats", "is_activity", "percentiles"]

CONTAINERS = frozenset({"subProcess", "adHocSubProcess"})  # their time is their children's


def is_activity(kind: str) -> bool:
    """Work (a task, a subprocess, a call): what rework and automation are about, unlike events and gateways."""
    return kind.endswith("Task") or kind in ("task", "callActivity", *CONTAINERS)


def percentiles(values: list[int]) -> dict[str, int]:
    """Nearest-rank p50, p90, p95, p99, the maximum and the mean (rounded), in the values' unit; {} for none."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: int) -> int:
        return ordered[max(0, -(-p * len(ordered) // 100) - 1)]

    return {"p50": rank(50), "p90": rank(90), "p95": rank(95), "p99": rank(99), "max": ordered[-1],
            "mean": round(sum(ordered) / len(ordered))}


@dataclass(slots=True)
class ElementStats:
    element_id: str
    label: str
    kind: str
    passes: int = 0  # completed
    aborted: int = 0
    durations: list[int] = field(default_factory=list)  # ms from entered to completed, per completed pass
    by_people: int = 0  # passes a person completed (a user task's completion with a ``by``)
    rework_instances: int = 0  # instances that entered it more than once
    extra_passes: int = 0  # entries beyond the first, over all instances
    incidents: int = 0
    suspended_ms: int = 0  # time between its incidents and their resolution
    errors: int = 0  # BPMN errors thrown at it


@dataclass(slots=True)
class AgentStats:
    element_id: str
    runs: int = 0
    model_calls: int = 0
    tool_calls: int = 0
    denied: int = 0  # proposed calls a policy denied
    rejected: int = 0  # calls a person refused to approve
    repeated: int = 0  # calls that repeated one of the same run (same tool, same arguments)
    limit_reached: int = 0
    run_ms: int = 0


@dataclass(slots=True)
class ProcessStats:
    process_id: str
    versions: set[int] = field(default_factory=set)
    instances: int = 0
    completed: int = 0
    terminated: int = 0
    active: int = 0
    with_incidents: int = 0  # instances that had an incident, resolved or not
    open_incidents: int = 0  # active instances with an incident open now
    cycle_times: list[int] = field(default_factory=list)  # ms, completed instances
    elements: dict[str, ElementStats] = field(default_factory=dict)
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gateway, flow target) -> times taken
    agents: dict[str, AgentStats] = field(default_factory=dict)

    def add(self, trace: Trace, catalog: Catalog) -> None:
        i = trace.instance
        self.versions.add(i.version)
        self.instances += 1
        if i.status == "completed":
            self.completed += 1
            if i.ended_at is not None:
                self.cycle_times.append(i.ended_at - i.created_at)
        elif i.status == "terminated":
            self.terminated += 1
        else:
            self.active += 1
            self.open_incidents += i.incidents > 0
        self._steps(trace, catalog)
        self._facts(trace.events, catalog.flows(i.process_id, i.version))

    def _element(self, element_id: str, label: str, kind: str) -> ElementStats:
        found = self.elements.get(element_id)
        if found is None:
            found = self.elements[element_id] = ElementStats(element_id, label, kind)
        return found

    def _steps(self, trace: Trace, catalog: Catalog) -> None:
        entered: dict[int | None, int] = {}
        suspended: dict[str, int] = {}
        entries: Counter[str] = Counter()
        had_incident = False
        for step in steps_of(trace.events, catalog.of(trace.instance.process_id, trace.instance.version)):
            stats = self._element(step.element_id, step.activity, step.kind)
            if step.lifecycle == Lifecycle.START:
                entered[step.element_instance] = step.at
                entries[step.element_id] += 1
            elif step.lifecycle == Lifecycle.COMPLETE:
                stats.passes += 1
                if step.element_instance in entered:
                    stats.durations.append(step.at - entered.pop(step.element_instance))
                if step.kind == "userTask" and step.resource and not step.resource.startswith("agent:"):
                    stats.by_people += 1
            elif step.lifecycle == Lifecycle.ABORT:
                stats.aborted += 1
                entered.pop(step.element_instance, None)
            elif step.lifecycle == Lifecycle.SUSPEND:
                stats.incidents += 1
                had_incident = True
                suspended[step.element_id] = step.at
            elif step.lifecycle == Lifecycle.RESUME and step.element_id in suspended:
                stats.suspended_ms += step.at - suspended.pop(step.element_id)
        self.with_incidents += had_incident
        for element_id, n in entries.items():
            if n > 1 and is_activity(self.elements[element_id].kind):
                self.elements[element_id].rework_instances += 1
                self.elements[element_id].extra_passes += n - 1

    def _facts(self, events: tuple[LogEvent, ...], flows: Mapping[str, tuple[str, str]]) -> None:
        calls: dict[str, set[tuple[str, str]]] = {}  # agent element -> (tool, arguments hash) seen in this run
        started: dict[str, int] = {}
        for e in events:
            data = e.data or {}
            element = e.element_id or ""
            if e.type == "flow_taken" and isinstance(data.get("flow"), str) and data["flow"] in flows:
                self.decisions[flows[data["flow"]]] += 1
            elif e.type == "error_thrown" and element:
                self._element(element, element, "").errors += 1
            elif e.type.startswith("agent_") and element:
                self._agent(e, self.agents.setdefault(element, AgentStats(element)), calls.setdefault(element, set()),
                            started)

    def _agent(self, e: LogEvent, agent: AgentStats, seen: set[tuple[str, str]], started: dict[str, int]) -> None:
        data = e.data or {}
        element = e.element_id or ""
        if e.type == "agent_started":
            agent.runs += 1
            seen.clear()
            started[element] = e.at
        elif e.type == "agent_model_called":
            agent.model_calls += 1
        elif e.type == "agent_tool_call":
            agent.tool_calls += 1
            agent.denied += data.get("decision") == "deny"
            call = (str(data.get("tool")), str(data.get("argumentsHash")))
            agent.repeated += call in seen
            seen.add(call)
        elif e.type == "agent_approval_decided":
            agent.rejected += data.get("approved") is False
        elif e.type == "agent_limit_reached":
            agent.limit_reached += 1
        elif e.type == "agent_finished" and element in started:
            agent.run_ms += e.at - started.pop(element)
