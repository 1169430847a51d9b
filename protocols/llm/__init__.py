"""Model providers: turning an agent's turn into the model's next step.

Owns: resolving an agent's ``model`` string to a ``ChatModel`` (litellm for
real providers; ``offline``, ``scripted:PATH`` and ``rules:PATH`` for runs
with no key and no network, registered the same way), mapping the engine's
conversation to a provider's format and back, measuring usage (tokens, cost,
latency), the job handler for ``agenthub.model`` steps (``ModelTask``), and
the provider configuration of Camunda's AI Agent mapped to litellm
(``camunda_providers``, credentials from ``{{secrets.NAME}}``), and the job
handler of Camunda's AI Agent Task (``camunda_task``).

Does not know: policies, budgets, the journal or any engine state. The
contract is ``engine.agent.turn``: an ``AgentTurn`` in, a ``ModelReply``
(answer and usage) out, as the model job's variables. The engine checks every
answer, decides what is allowed, counts budgets and retries failed steps;
nothing here retries or remembers anything between steps. An offline model
derives all it needs from the turn's messages, so a retried step, in a fresh
process, gets the same answer.

The offline models see the conversation as these facts (the FEEL context of
``rules:`` files):

    input    the first user message: its JSON object, else {"text": message}
    results  tool name -> content of its latest result
    calls    tool name -> calls the model made so far (0 for each tool not called)
    refused  tool name -> content of its latest refusal (a tool result object with "error")
    turn     assistant messages so far (0 at the first step)
    tools    the available tools' names

    resolver = ModelResolver.standard()
    reply = resolver.resolve(turn.model).complete(turn)
    reply.to_variables()  # {"answer": {...}, "usage": {...}}

Keys come from the environment (a Camunda agent's from its secrets) and never
appear in an answer, usage or error. Importing this package does not import litellm (it takes seconds);
the first real model call does. Choosing models, endpoints and the file
formats: ``docs/MODELS.md``.
"""

from protocols.llm.exceptions import (
    ModelCallFailed,
    ModelError,
    ModelFileInvalid,
    ModelUnavailable,
    NoRuleMatched,
    RuleFailed,
    ScriptExhausted,
    UnknownModel,
)
from protocols.llm.litellm_model import DEFAULT_TIMEOUT_S, LiteLLMModel
from protocols.llm.model_task import ModelTask, TurnSource
from protocols.llm.offline import OfflinePlanner
from protocols.llm.reply import ChatModel, ModelReply
from protocols.llm.resolver import ModelFactory, ModelResolver
from protocols.llm.rules import RuleModel
from protocols.llm.scripted import ScriptedModel

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "ChatModel",
    "LiteLLMModel",
    "ModelCallFailed",
    "ModelError",
    "ModelFactory",
    "ModelFileInvalid",
    "ModelReply",
    "ModelResolver",
    "ModelTask",
    "ModelUnavailable",
    "NoRuleMatched",
    "OfflinePlanner",
    "RuleFailed",
    "RuleModel",
    "ScriptExhausted",
    "ScriptedModel",
    "TurnSource",
    "UnknownModel",
]
