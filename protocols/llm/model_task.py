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
from protocols.http.secrets import SecretProvider, environ_secret
from protocols.llm.camunda_providers import litellm_call
from protocols.llm.litellm_model import DEFAULT_TIMEOUT_S, LiteLLMModel
from protocols.llm.reply import ChatModel
from protocols.llm.resolver import ModelResolver
from protocols.llm.traced import complete

__all__ = ["ModelTask", "TurnSource"]


class TurnSource(Protocol):
    """Where the turn of a model job comes from: ``engine.Engine`` in the hub, a stub in tests."""

    def agent_turn(self, job: int) -> AgentTurn: ...

    def deployment_file(self, deployment: int, name: str) -> str | None: ...


class ModelTask:
    """Answers model steps. A Camunda agent's step calls the provider its ``provider`` variable configures
    (``camunda_providers``, credentials from ``secrets``), unless ``camunda_model`` names a model every
    Camunda agent uses instead (e.g. ``scripted:turns.json`` or ``offline`` for tests and demos)."""

    def __init__(self, turns: TurnSource, resolver: ModelResolver, *, secrets: SecretProvider = environ_secret,
                 camunda_model: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.turns = turns
        self.resolver = resolver
        self.secrets = secrets
        self.camunda_model = camunda_model
        self.timeout_s = timeout_s

    def __call__(self, job: Job) -> dict[str, Any]:
        turn = self.turns.agent_turn(job.key)
        return complete(self.model_for(turn), turn).to_variables()

    def model_for(self, turn: AgentTurn) -> ChatModel:
        """The model that answers ``turn`` (Camunda's AI Agent Task asks it too: ``camunda_task``)."""
        if turn.provider is not None and not self.camunda_model:
            call = litellm_call(turn.provider, self.secrets)
            model: ChatModel = LiteLLMModel(call.model, api_base=call.api_base, timeout_s=call.timeout_s or
                                            self.timeout_s, options=call.options, hidden=call.hidden)
        else:
            name = self.camunda_model if turn.provider is not None and self.camunda_model else turn.model
            model = self.resolver.resolve_for(name, turn.deployment, self.turns.deployment_file)
        return model
