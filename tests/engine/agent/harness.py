"""An agent under test: a scripted model (the adversary) and tools that write to a side-effect ledger.

Assertions are made on the ledger (what ran, with which arguments), never on
what the model says it did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import Engine, Job, WorkerRegistry
from engine.agent import MODEL_JOB_TYPE
from engine.scheduler.loop import run_until_idle

DATA = Path(__file__).resolve().parents[2] / "data" / "agent"
Answer = dict[str, Any] | Callable[[Any], dict[str, Any]]


def calls(*items: tuple[str, dict[str, Any]] | dict[str, Any], content: str | None = None) -> dict[str, Any]:
    """A model answer calling tools: ``("refund", {"orderId": "o-1", "amount": 5})`` or a raw call dict."""
    made = [{"name": i[0], "arguments": i[1]} if isinstance(i, tuple) else i for i in items]
    return {"toolCalls": made, "content": content}


def final(value: Any) -> dict[str, Any]:
    return {"final": value}


@dataclass
class Ledger:
    """What the tools really did."""

    rows: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)  # (tool, arguments, job key)

    def of(self, tool: str) -> list[dict[str, Any]]:
        return [args for name, args, _ in self.rows if name == tool]


@dataclass
class ScriptedModel:
    """Answers turn N with ``script[N]``, N counted from the conversation (so a retried step answers the same)."""

    engine: Engine
    script: list[Answer]
    seen: list[Any] = field(default_factory=list)

    def __call__(self, job: Job) -> dict[str, Any]:
        turn = self.engine.agent_turn(job.key)
        self.seen.append(turn)
        index = sum(1 for message in turn.messages if message["role"] == "assistant")
        if index >= len(self.script):
            raise RuntimeError(f"the script has no turn {index + 1}")
        answer = self.script[index]
        if callable(answer):
            answer = answer(turn)
        return {"answer": answer, "usage": {"model": "scripted", "inputTokens": 10, "outputTokens": 5,
                                            "costUsd": 0.001, "latencyMs": 1}}


class Agent:
    """The support_agent process (or another one) with a scripted model and ledger-backed tools."""

    def __init__(self, engine: Engine, script: list[Answer], *, resource: str = "support_agent.bpmn") -> None:
        self.engine = engine
        self.ledger = Ledger()
        self.model = ScriptedModel(engine, script)
        self.registry = WorkerRegistry()
        self.registry.register(MODEL_JOB_TYPE, self.model)
        for job_type, tool in (("lookup", "lookup_order"), ("refund", "refund"), ("delete", "delete_account")):
            self.registry.register(job_type, self._tool(tool))
        engine.deploy([(resource, (DATA / resource).read_bytes())])

    def _tool(self, tool: str) -> Callable[[Job], dict[str, Any]]:
        def run(job: Job) -> dict[str, Any]:
            arguments = {k: job.variables.get(k) for k in ("orderId", "amount") if k in job.variables}
            self.ledger.rows.append((tool, arguments, job.key))
            return {"status": "done", "tool": tool, **arguments}

        return run

    def start(self, request: str = "Help the customer", *, process: str = "support_agent", max_calls: int = 5,
              **variables: Any) -> int:
        view = self.engine.start(process, {"request": request, "modelName": "scripted", "maxCalls": max_calls,
                                           **variables})
        self.drive()
        return view.key

    def drive(self) -> None:
        run_until_idle(self.engine, self.registry, timeout_s=60)

    def journal(self, instance: int, kind: str | None = None) -> list[dict[str, Any]]:
        events = self.engine.journal(instance, limit=10_000)
        return [e for e in events if kind is None or e["type"] == kind]

    def approvals(self, instance: int) -> list[Any]:
        return [t for t in self.engine.user_tasks(instance=instance) if t.details.get("kind") == "approval"]

    def conversation(self, instance: int) -> list[dict[str, Any]]:
        started = self.journal(instance, "agent_started")[0]
        return self.engine.conversation(started["elementInstance"])
