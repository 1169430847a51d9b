"""The agent half of ``engine.Engine``: what a model step reads, the conversation, ad-hoc activation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from engine.agent.camunda import CONTEXT_VARIABLE, is_camunda_agent
from engine.agent.camunda_memory import MemoryConfigError, window, window_size
from engine.agent.gateway import agent_tools
from engine.agent.tools import tool_definitions
from engine.agent.turn import MODEL_JOB_TYPE, AgentTurn
from engine.core import EngineCore
from engine.exceptions import InvalidInput, NotFound
from engine.model import AdHocSubProcess
from engine.runtime import messages as m
from engine.runtime.state import InstanceState
from engine.runtime.variables import ScopeView
from engine.store.protocol import StoreTx
from engine.validation import check_variables

__all__ = ["AgentCommands"]


def _memory_window(messages: list[Any], state: InstanceState, owner: int, camunda: bool) -> list[Any]:
    """What a Camunda agent's model sees: the window its ``data.memory`` asks for (agentContext keeps them all)."""
    if not camunda:
        return messages
    try:
        return window(messages, window_size(ScopeView(state, owner).get("data")))
    except MemoryConfigError:  # refused when the agent started (camunda.start), so not reached with a model's input
        return messages


class AgentCommands:
    """The agent commands and queries of ``engine.Engine``."""

    # Conversations are append-only rows, so the prefix already read can be kept: a model step then reads only
    # the messages added since, and its cost does not grow with the conversation. Bounded; safe across processes.
    _CACHED_CONVERSATIONS = 64

    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel
        self.store = kernel.store
        self._conversations: OrderedDict[int, list[Any]] = OrderedDict()
        self._conversations_lock = threading.Lock()

    def agent_turn(self, job: int) -> AgentTurn:
        """Everything the model step ``job`` needs: the agent's model, its whole conversation and its tools."""
        with self.store.reader() as tx:
            row = tx.jobs.get(job)
            if row is None or row.type != MODEL_JOB_TYPE:
                raise NotFound(f"job {job} is not an open model step of an agent")
            loaded = tx.instances.load(int(row.instance_key), lock=False)
            if loaded is None:
                raise NotFound(f"process instance {row.instance_key} does not exist")
            state, _ = loaded
            element = state.elements.get(int(row.element_instance))
            if element is None or element.agent is None or element.job != job:
                raise NotFound(f"job {job} is no longer the open model step of its agent")
            process = self._k.process(tx, state.definition_key)
            node = process.nodes[element.element_id]
            assert isinstance(node, AdHocSubProcess)
            agent = element.agent
            camunda = is_camunda_agent(node)
            provider = ScopeView(state, element.key).get("provider") if camunda else None
            tools = agent_tools(process, node, state.variables.get(element.key, {}).get(CONTEXT_VARIABLE)) \
                if camunda else tool_definitions(process, node)  # Camunda's: with its MCP clients' tools
            return AgentTurn(
                job=job, instance=state.key, element_id=element.element_id, element_instance=element.key,
                model=agent.model, model_endpoint=agent.endpoint,
                messages=_memory_window(self._read_conversation(tx, element.key), state, element.key, camunda),
                tools=tools,
                model_calls=agent.model_calls, deployment=tx.definitions.deployment_of(state.definition_key),
                provider=provider if isinstance(provider, dict) else None,
                max_tokens=None if agent.limits.tokens is None else max(agent.limits.tokens - agent.tokens, 1),
            )

    def deployment_file(self, deployment: int, name: str) -> str | None:
        """A file deployed beside the BPMN of ``deployment`` (an agent's model file), or None."""
        with self.store.reader() as tx:
            return tx.definitions.resource(deployment, name)

    def _read_conversation(self, tx: StoreTx, owner: int) -> list[Any]:
        with self._conversations_lock:
            known = list(self._conversations.get(owner, ()))
        known.extend(tx.conversations.read(owner, after=len(known) - 1))
        with self._conversations_lock:
            self._conversations[owner] = known
            self._conversations.move_to_end(owner)
            while len(self._conversations) > self._CACHED_CONVERSATIONS:
                self._conversations.popitem(last=False)
        return list(known)

    def conversation(self, element_instance: int, *, after: int = -1, limit: int | None = None) -> list[Any]:
        """An agent's conversation (its messages in order), kept after the agent has finished."""
        with self.store.reader() as tx:
            return tx.conversations.read(element_instance, after=after, limit=limit)

    def activate_ad_hoc_elements(self, instance: int, element_instance: int, elements: Sequence[str],
                                 variables: dict[str, Any] | None = None) -> None:
        """Activate inner elements of an active ad-hoc subprocess (one without an agent), each in its own scope."""
        if isinstance(elements, str) or not elements or not all(isinstance(e, str) for e in elements):
            raise InvalidInput("give the ids of the inner elements to activate, as a list of strings")
        values = check_variables(variables)
        command = m.ActivateAdHocElements(element_instance, tuple(elements), values)
        self._k.atomic(lambda tx: self._k.run(tx, instance, command) and None)
