"""ModelTask as the engine's model-step handler: offline models drive a governed agent from start to finish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, Job, WorkerRegistry
from engine.agent import MODEL_JOB_TYPE
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from protocols.llm import ModelResolver, ModelTask
from tests.protocols.llm.conversation import DATA

AGENT = DATA.parent / "agent" / "support_agent.bpmn"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}", clock=ManualClock())
    yield opened
    opened.close()


def run(engine: Engine, model: str, request: dict[str, Any]) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """Start the support agent on ``model`` and run every job; returns the instance and what the tools did."""
    done: list[tuple[str, dict[str, Any]]] = []

    def tool(name: str) -> Any:
        def handle(job: Job) -> dict[str, Any]:
            arguments: dict[str, Any] = {k: job.variables[k] for k in ("orderId", "amount") if k in job.variables}
            done.append((name, arguments))
            return {"status": "delivered", "total": 40} if name == "lookup_order" else {"amount": arguments["amount"]}

        return handle

    workers = WorkerRegistry()
    workers.register(MODEL_JOB_TYPE, ModelTask(engine, ModelResolver.standard()))
    for job_type, name in (("lookup", "lookup_order"), ("refund", "refund"), ("delete", "delete_account")):
        workers.register(job_type, tool(name))
    engine.deploy([(AGENT.name, AGENT.read_bytes())])
    view = engine.start("support_agent", {"request": request, "modelName": model, "maxCalls": 6})
    run_until_idle(engine, workers, timeout_s=60)
    return view.key, done


def test_a_rules_model_runs_the_agent_to_its_final_answer(engine: Engine) -> None:
    key, done = run(engine, f"rules:{DATA / 'support_rules.json'}", {"orderId": "A-17"})

    view = engine.instance(key)
    assert view.state == "completed"
    assert view.variables["agentResult"]["response"] == {"refunded": 40, "order": "A-17"}
    assert done == [("lookup_order", {"orderId": "A-17"}), ("refund", {"orderId": "A-17", "amount": 40})]
    calls = [event for event in engine.journal(key, limit=1000) if event["type"] == "agent_model_called"]
    assert [event["data"]["model"] for event in calls] == [f"rules:{DATA / 'support_rules.json'}"] * 3


def test_the_offline_planner_is_refused_by_a_policy_and_goes_on_without_that_tool(engine: Engine) -> None:
    key, done = run(engine, "offline", {"orderId": "A-17", "amount": 40})

    view = engine.instance(key)
    assert view.state == "completed"
    response = view.variables["agentResult"]["response"]
    assert response["summary"].startswith("Called lookup_order, refund. Refused: delete_account.")
    assert set(response["results"]) == {"lookup_order", "refund"}
    assert ("delete_account", {}) not in done  # the policy, not the model, decided


def test_a_rules_model_sees_the_engines_refusal_of_a_denied_call(engine: Engine, tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [
        {"when": "refused.delete_account != null", "final": "=refused.delete_account.error"},
        {"call": [{"name": "delete_account", "arguments": {}}]},
    ]}))
    key, done = run(engine, f"rules:{rules}", {"orderId": "A-17"})

    assert done == []
    response = engine.instance(key).variables["agentResult"]["response"]
    assert response == "denied by policy: accounts are never deleted by agents"
