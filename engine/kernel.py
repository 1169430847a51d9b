"""The engine's kernel: the runtime's behaviour table with the agent plugged in.

``engine.runtime`` defines the step and a behaviour per element kind and
knows nothing of agents; ``engine.agent`` runs an agent as the behaviour of
an ad-hoc subprocess and imports the runtime. This module, which sees both,
assembles the one table a ``Step`` is built with (``BEHAVIORS``).
"""

from __future__ import annotations

from typing import Final

from engine.agent.behavior import AgentSubProcessBehavior
from engine.runtime.behaviors import runtime_table
from engine.runtime.kernel import BehaviorTable

__all__ = ["BEHAVIORS"]

BEHAVIORS: Final[BehaviorTable] = runtime_table(ad_hoc=AgentSubProcessBehavior())
