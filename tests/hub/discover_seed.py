"""A hub database whose journal is known: claims that wait two hours for a person (tests/discover/claims.py) and
support-agent runs of a scripted model with known tool sequences, a denied call and a loop
(tests/engine/agent/harness.py), for the Discover surfaces of the hub (CLI, REST, console)."""

from __future__ import annotations

from pathlib import Path

from engine import Engine
from engine.ports import ManualClock
from tests.discover.claims import Truth, run_claims
from tests.engine.agent.harness import Agent, calls, final

__all__ = ["CLAIMS", "seed_discover"]

CLAIMS = Truth(instances=6)
LOOKUP = ("lookup_order", {"orderId": "o-1"})


def seed_discover(db: Path) -> None:
    """Claims, then four agent runs: two look an order up and refund it (openai/gpt-4o), one tries to delete the
    account first and is denied (anthropic/claude-sonnet), one looks the same order up three times (a loop)."""
    clock = ManualClock()
    engine = Engine.open(f"sqlite:///{db}", clock=clock, synchronous="NORMAL")
    try:
        run_claims(engine, clock, CLAIMS)
        agent = Agent(engine, [])
        for _ in range(2):
            agent.model.script = [calls(LOOKUP), calls(("refund", {"orderId": "o-1", "amount": 20})), final("ok")]
            agent.start(modelName="openai/gpt-4o")
        agent.model.script = [calls(("delete_account", {})), calls(LOOKUP), final("I may not delete it")]
        agent.start(modelName="anthropic/claude-sonnet")
        agent.model.script = [calls(LOOKUP), calls(LOOKUP), calls(LOOKUP), final("found it")]
        agent.start(modelName="openai/gpt-4o")
    finally:
        engine.close()
