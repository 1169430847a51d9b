"""Agents inside processes: the agent loop on an ad-hoc subprocess, its governance and its budgets.

Owns: reading ``<agenthub:agent>``/``<agenthub:policy>`` (``config``), the
tools an agent sees and the checking of their arguments (``tools``), the
policy decision on each call (``governance``), the loop itself, run
inside the engine's deterministic step (``loop``), and its deadlines as
durable timers: ``maxDuration`` and approvals' due dates (``deadlines``), and Camunda's AI Agent
sub-process run on the same loop (``camunda``), its Task flavour as data, one
model turn per job (``camunda_task``), and their memory window (``camunda_memory``). The contract with model
providers is ``turn``. Does not know: which model provider answers (the hub
registers a handler for the model job type), HTTP, or any protocol.

The agent plugs into the runtime as the behaviour of an ad-hoc subprocess
(``behavior``); the runtime does not import this package. ``engine.kernel``
assembles the behaviour table with it.
"""

from engine.agent.config import AgentConfig, Policy, agent_config, policy_from_attributes
from engine.agent.governance import Decision, PolicyDecision, decide
from engine.agent.tools import arguments_hash, canonical_json
from engine.agent.turn import MODEL_JOB_TYPE, AgentTurn, ToolDefinition

__all__ = [
    "MODEL_JOB_TYPE",
    "AgentConfig",
    "AgentTurn",
    "Decision",
    "Policy",
    "PolicyDecision",
    "ToolDefinition",
    "agent_config",
    "arguments_hash",
    "canonical_json",
    "decide",
    "policy_from_attributes",
]
