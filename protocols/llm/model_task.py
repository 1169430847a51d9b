"""The handler of model steps (job type ``agenthub.model``): one turn in, the model's answer out.

    workers.register(MODEL_JOB_TYPE, ModelTask(engine, ModelResolver.standard()))

The engine builds the turn for the job (``agent_turn``) and checks the answer
that comes back as the job's variables before anything acts on it. A
``ModelError`` fails the attempt; the engine retries with backoff and then
raises an incident.
"""

from __future__ import annotations

from typing import Any, Protocol

from engine.agent.turn import AgentTurn
from engine.scheduler import Job
from protocols.llm.resolver import ModelResolver

__all__ = ["ModelTask", "TurnSource"]


class TurnSource(Protocol):
    """Where the turn of a model job comes from: ``engine.Engine`` in the hub, a stub in tests."""

    def agent_turn(self, job: int) -> AgentTurn: ...

    def deployment_file(self, deployment: int, name: str) -> str | None: ...


class ModelTask:
    def __init__(self, turns: TurnSource, resolver: ModelResolver) -> None:
        self.turns = turns
        self.resolver = resolver

    def __call__(self, job: Job) -> dict[str, Any]:
        turn = self.turns.agent_turn(job.key)
        model = self.resolver.resolve_for(turn.model, turn.deployment, self.turns.deployment_file)
        return model.complete(turn).to_variables()
