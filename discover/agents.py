"""Mining the agents' own decisions: per agent region, a discovered model of how it behaves, and how that drifts.

For each agent region (process id and the element id of its ad-hoc
subprocess) over the runs of ``discover.agent_runs``:

- ``sequences``: the orders in which it chose its tools, most common first;
- ``toolGraph``: the directly-follows graph of its tool choices (``(start)``
  and ``(end)`` mark a run's first and last), counted over runs; no pm4py;
- ``loops``: tools it called again with the same arguments in one run;
- ``governance``: how often policies allowed, asked a person (``approve``),
  denied, or refused a malformed call, and how often people overruled it
  (refused an approval; the engine runs only the arguments a person saw, so
  a person changes the agent's action only by refusing it);
- ``byOutcome``: runs, tokens and cost per outcome (completed, escalated,
  failed, canceled, running);
- ``drift``: the same measures split ``byModel``, ``byProvider`` and
  ``byVersion`` (of the process), so a new model or version that denies,
  loops or costs more shows beside the old one.

One streamed pass over the journal: what it keeps grows with the regions,
their distinct tool sequences and the (tool, arguments) pairs of one run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from discover.agent_runs import AgentRun, Outcome, runs_of
from discover.elements import ElementCatalog
from discover.export import check_process
from engine import Engine
from engine.event_log import LogFilter

__all__ = ["END", "START", "agent_behaviour"]

START, END = "(start)", "(end)"
SEQUENCES = 10  # the most common sequences listed per region
DECISIONS = ("allow", "approve", "deny", "refused")


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(slots=True)
class Measures:
    """What a set of runs did, summed: the unit of each split (a region, an outcome, a model, a version)."""

    runs: int = 0
    model_calls: int = 0
    tool_calls: int = 0  # proposed by the model, whatever governance decided
    decisions: Counter[str] = field(default_factory=Counter)
    approvals_decided: int = 0
    refused_by_people: int = 0
    approvals_expired: int = 0
    repeated: int = 0
    runs_looping: int = 0
    tokens: int = 0
    cost: Decimal = Decimal(0)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, run: AgentRun) -> None:
        self.runs += 1
        self.model_calls += run.model_calls
        self.tool_calls += len(run.choices)
        self.decisions.update(run.decisions)
        self.approvals_decided += run.approvals_decided
        self.refused_by_people += run.refused_by_people
        self.approvals_expired += run.approvals_expired
        repeated = sum(run.repeated.values())
        self.repeated += repeated
        self.runs_looping += repeated > 0
        self.tokens += run.tokens
        self.cost += run.cost
        self.outcomes[run.outcome] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "modelCalls": self.model_calls,
            "toolCalls": self.tool_calls,
            "decisions": {d: self.decisions.get(d, 0) for d in DECISIONS},
            "denyRate": _rate(self.decisions.get("deny", 0), self.tool_calls),
            "askRate": _rate(self.decisions.get("approve", 0), self.tool_calls),
            "approvalsDecided": self.approvals_decided,
            "refusedByPeople": self.refused_by_people,
            "approvalsExpired": self.approvals_expired,
            "overruleRate": _rate(self.refused_by_people, self.approvals_decided),
            "repeatedCalls": self.repeated,
            "loopRate": _rate(self.runs_looping, self.runs),
            "tokens": self.tokens,
            "tokensPerRun": round(self.tokens / self.runs) if self.runs else 0,
            "costUsd": str(self.cost),
            "costPerRunUsd": str(round(self.cost / self.runs, 6)) if self.runs else "0",
            "outcomes": {o.value: self.outcomes.get(o, 0) for o in Outcome},
        }


@dataclass(slots=True)
class _Loop:
    repeated: int = 0
    runs: int = 0
    most: int = 0  # the most times one call (same arguments) was made in one run


@dataclass(slots=True)
class AgentRegion:
    process_id: str
    element_id: str
    name: str
    total: Measures = field(default_factory=Measures)
    sequences: Counter[tuple[str, ...]] = field(default_factory=Counter)
    follows: Counter[tuple[str, str]] = field(default_factory=Counter)
    tools: Counter[str] = field(default_factory=Counter)
    loops: dict[str, _Loop] = field(default_factory=dict)
    by_outcome: dict[str, Measures] = field(default_factory=dict)
    by_model: dict[str, Measures] = field(default_factory=dict)
    by_provider: dict[str, Measures] = field(default_factory=dict)
    by_version: dict[int, Measures] = field(default_factory=dict)

    def add(self, run: AgentRun) -> None:
        self.total.add(run)
        self.sequences[tuple(run.choices)] += 1
        path = [START, *run.choices, END]
        self.follows.update(pairwise(path))
        self.tools.update(run.choices)
        for tool, n in run.repeated.items():
            loop = self.loops.setdefault(tool, _Loop())
            loop.repeated += n
            loop.runs += 1
            loop.most = max(loop.most, *(times for (t, _), times in run.calls.items() if t == tool))
        for split, key in ((self.by_outcome, run.outcome.value), (self.by_model, run.model),
                           (self.by_provider, run.provider)):
            split.setdefault(key, Measures()).add(run)
        self.by_version.setdefault(run.version, Measures()).add(run)

    def to_json(self) -> dict[str, Any]:
        return {
            "processId": self.process_id,
            "elementId": self.element_id,
            "name": self.name,
            **self.total.to_json(),
            "sequences": [{"tools": list(s), "runs": n} for s, n in
                          sorted(self.sequences.items(), key=lambda kv: (-kv[1], kv[0]))[:SEQUENCES]],
            "toolGraph": {
                "nodes": [{"tool": t, "calls": n} for t, n in sorted(self.tools.items())],
                "edges": [{"from": a, "to": b, "count": n} for (a, b), n in
                          sorted(self.follows.items(), key=lambda kv: (-kv[1], kv[0]))],
            },
            "loops": [{"tool": t, "repeatedCalls": loop.repeated, "runs": loop.runs, "mostRepeats": loop.most}
                      for t, loop in sorted(self.loops.items(), key=lambda kv: (-kv[1].repeated, kv[0]))],
            "byOutcome": {o: m.to_json() for o, m in sorted(self.by_outcome.items())},
            "drift": {
                "byModel": [{"model": k, **m.to_json()} for k, m in sorted(self.by_model.items())],
                "byProvider": [{"provider": k, **m.to_json()} for k, m in sorted(self.by_provider.items())],
                "byVersion": [{"version": k, **m.to_json()} for k, m in sorted(self.by_version.items())],
            },
        }


def agent_behaviour(engine: Engine, process_id: str | None = None) -> list[dict[str, Any]]:
    """Every agent region's behaviour (of one process, or of all), by process id and element id."""
    where = LogFilter(process_id=process_id)
    check_process(engine, where)
    catalog = ElementCatalog(engine)
    regions: dict[tuple[str, str], AgentRegion] = {}
    for trace in engine.event_log.traces(where):
        for run in runs_of(trace):
            region = regions.get((run.process_id, run.element_id))
            if region is None:
                label = catalog.info(run.process_id, run.version, run.element_id).label
                region = regions[(run.process_id, run.element_id)] = AgentRegion(run.process_id, run.element_id,
                                                                                 label)
            region.add(run)
    return [regions[k].to_json() for k in sorted(regions)]
