"""The handler of model steps (job type ``agenthub.model``): one turn in, the model's answer out.

    workers.register(MODEL_JOB_TYPE, ModelTask(engine, ModelResolver.standard()))

The engine builds the turn for the job (``agent_turn``) and checks the answer
that comes back as the job's variables before anything acts on it. A
``ModelError`` fails the attempt; the engine retries with backoff and then
raises an incident. A ``ModelUnavailable`` (no retry can help) raises the
incident at once.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from engine.agent.turn import AgentTurn
from engine.exceptions import JobFailure
from engine.scheduler import Job
from protocols.http.secrets import SecretProvider, environ_secret
from protocols.llm.camunda_providers import litellm_call
from protocols.llm.documents import DocumentFetch, DocumentUnreadable, with_documents
from protocols.llm.exceptions import ModelUnavailable
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
                 camunda_model: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 documents: DocumentFetch | None = None) -> None:
        self.turns = turns
        self.documents = documents  # how a prompt's external documents are fetched (None: they are refused)
        self.resolver = resolver
        self.secrets = secrets
        self.camunda_model = camunda_model
        self.timeout_s = timeout_s

    def __call__(self, job: Job) -> dict[str, Any]:
        turn = self.turns.agent_turn(job.key)
        try:
            turn = self.read_documents(turn)
            return complete(self.model_for(turn), turn).to_variables()
        except ModelUnavailable as exc:
            raise JobFailure(str(exc), retries=0) from exc

    def read_documents(self, turn: AgentTurn) -> AgentTurn:
        """``turn`` with a Camunda agent's prompt documents read into parts (``protocols.llm.documents``)."""
        if not any(m.get("documents") for m in turn.messages):
            return turn
        return dataclasses.replace(turn, messages=with_documents(turn.messages, self._fetch))

    def _fetch(self, url: str, where: str) -> tuple[bytes, str | None]:
        if self.documents is None:
            raise DocumentUnreadable(f"{where}: this worker fetches no documents by URL ({url}); give it inline")
        return self.documents(url, where)

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
