"""One agent run as the journal tells it: which tools it chose in which order, what governance decided, what
people answered, what it cost, and how it ended.

A run is one activation of an agent region (an ad-hoc subprocess with an
agent), from ``agent_started`` to its end, keyed by the region's element
instance, so parallel and repeated runs in one instance stay apart. The
journal's agent events carry what this reads:

- ``agent_started``: ``model`` (the run's model, which names the provider as
  litellm does: ``openai/gpt-4o``);
- ``agent_model_called``: ``inputTokens``, ``outputTokens``, ``costUsd``;
- ``agent_tool_call``: each call the model proposed, with ``tool``,
  ``argumentsHash`` and governance's ``decision`` (``allow``, ``approve``
  (ask a person), ``deny``, or ``refused``: no such tool, bad arguments);
- ``agent_approval_decided`` (``approved``) and ``agent_approval_expired``;
- ``agent_finished`` / ``agent_limit_reached``.

Outcome of a run: ``completed`` (its final answer), ``escalated`` (a budget
ran out and its BPMN error was caught: the process handed the case on),
``failed`` (a budget ran out and nothing caught the error: an incident),
``canceled`` (the region was ended from outside: a boundary event, a
cancel) and ``running``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from engine.event_log import LogEvent, Trace

__all__ = ["AgentRun", "Outcome", "provider_of", "runs_of"]


class Outcome(StrEnum):
    COMPLETED = "completed"
    ESCALATED = "escalated"
    FAILED = "failed"
    CANCELED = "canceled"
    RUNNING = "running"


def provider_of(model: str) -> str:
    """The provider litellm reads from a model name (``openai/gpt-4o`` -> ``openai``), else the name itself."""
    return model.split("/", 1)[0] if "/" in model else model


@dataclass(slots=True)
class AgentRun:
    process_id: str
    version: int
    element_id: str
    instance: int
    model: str
    choices: list[str] = field(default_factory=list)  # the tools the model proposed, in journal order
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tool, arguments hash) -> times proposed
    decisions: Counter[str] = field(default_factory=Counter)  # allow / approve / deny / refused
    approvals_decided: int = 0
    refused_by_people: int = 0
    approvals_expired: int = 0
    model_calls: int = 0
    tokens: int = 0
    cost: Decimal = Decimal(0)
    outcome: Outcome = Outcome.RUNNING

    @property
    def provider(self) -> str:
        return provider_of(self.model)

    @property
    def repeated(self) -> Counter[str]:
        """Per tool, the calls that repeated an earlier call of this run with the same arguments."""
        found: Counter[str] = Counter()
        for (tool, _), n in self.calls.items():
            if n > 1:
                found[tool] += n - 1
        return found


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _cost(value: Any) -> Decimal:
    try:
        cost = Decimal(str(value or 0))
    except InvalidOperation:
        return Decimal(0)
    return cost if cost.is_finite() and cost > 0 else Decimal(0)


def runs_of(trace: Trace) -> list[AgentRun]:
    """The agent runs of one instance's journal, in the order they started."""
    runs: list[AgentRun] = []
    open_runs: dict[int, AgentRun] = {}  # the region's element instance -> its run
    last: dict[str, AgentRun] = {}  # region element id -> its latest run, for the incident after a limit
    for e in trace.events:
        key = e.element_instance
        if e.type == "agent_started" and key is not None and e.element_id:
            model = (e.data or {}).get("model")
            run = AgentRun(trace.instance.process_id, trace.instance.version, e.element_id, trace.instance.key,
                           model if isinstance(model, str) and model else "(unknown)")
            runs.append(run)
            open_runs[key] = last[e.element_id] = run
        elif key in open_runs:
            _apply(open_runs[key], e)
            if open_runs[key].outcome != Outcome.RUNNING:
                del open_runs[key]
        elif e.type == "incident_created" and e.element_id in last \
                and last[e.element_id].outcome == Outcome.ESCALATED:
            last[e.element_id].outcome = Outcome.FAILED  # the limit's error found no boundary event
    return runs


def _apply(run: AgentRun, e: LogEvent) -> None:
    data = e.data or {}
    if e.type == "agent_model_called":
        run.model_calls += 1
        run.tokens += _count(data.get("inputTokens")) + _count(data.get("outputTokens"))
        run.cost += _cost(data.get("costUsd"))
    elif e.type == "agent_tool_call":
        tool = str(data.get("tool"))
        run.choices.append(tool)
        run.decisions[str(data.get("decision"))] += 1
        if data.get("argumentsHash"):
            run.calls[(tool, str(data["argumentsHash"]))] += 1
    elif e.type == "agent_approval_decided":
        run.approvals_decided += 1
        run.refused_by_people += data.get("approved") is False
    elif e.type == "agent_approval_expired":
        run.approvals_expired += 1
    elif e.type == "agent_finished":
        run.outcome = Outcome.COMPLETED
    elif e.type == "agent_limit_reached":
        run.outcome = Outcome.ESCALATED  # until an incident on the region says nothing caught it
    elif e.type == "element_terminated" and e.element_id == run.element_id:
        run.outcome = Outcome.CANCELED
