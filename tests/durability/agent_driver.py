"""A process that runs the support agent to its end, for the kill tests (run as ``python agent_driver.py DB LEDGER``).

The model is scripted and stateless (it answers by counting the assistant
messages), every tool writes one row per job into a SQLite ledger, and the
approval is given as soon as it is asked. Killed anywhere (``HUB_CRASH_AT``),
it can be started again on the same files and must finish the same way.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine import Engine, Job, WorkerRegistry  # noqa: E402
from engine.agent import MODEL_JOB_TYPE  # noqa: E402
from engine.scheduler.loop import run_until_idle  # noqa: E402

SCRIPT: list[dict[str, Any]] = [
    {"toolCalls": [{"name": "lookup_order", "arguments": {"orderId": "o-1"}},
                   {"name": "lookup_order", "arguments": {"orderId": "o-2"}}]},
    {"toolCalls": [{"name": "refund", "arguments": {"orderId": "o-1", "amount": 500}}]},
    {"toolCalls": [{"name": "summarize", "arguments": {"text": "done"}}]},
    {"final": "all done"},
]


def main(db: str, ledger_path: str) -> None:
    ledger = sqlite3.connect(ledger_path, isolation_level=None, check_same_thread=False)
    ledger.execute("CREATE TABLE IF NOT EXISTS effects (job INTEGER, tool TEXT, args TEXT)")
    ledger.execute("CREATE TABLE IF NOT EXISTS model_calls (job INTEGER, turn INTEGER)")
    engine = Engine.open(f"sqlite:///{db}")
    registry = WorkerRegistry()

    def model(job: Job) -> dict[str, Any]:
        turn = engine.agent_turn(job.key)
        index = sum(1 for m in turn.messages if m["role"] == "assistant")
        ledger.execute("INSERT INTO model_calls VALUES (?, ?)", (job.key, index))
        return {"answer": SCRIPT[index], "usage": {"model": "scripted", "inputTokens": 1, "outputTokens": 1}}

    def tool(name: str) -> Any:
        def run(job: Job) -> dict[str, Any]:
            args = repr(sorted((k, job.variables.get(k)) for k in ("orderId", "amount") if k in job.variables))
            ledger.execute("INSERT INTO effects VALUES (?, ?, ?)", (job.key, name, args))
            return {"status": "done"}
        return run

    registry.register(MODEL_JOB_TYPE, model)
    registry.register("lookup", tool("lookup_order"))
    registry.register("refund", tool("refund"))
    registry.register("delete", tool("delete_account"))
    if not engine.definitions("support_agent"):
        engine.deploy([("support_agent.bpmn", (ROOT / "tests/data/agent/support_agent.bpmn").read_bytes())])
    if not engine.instances():
        engine.start("support_agent", {"request": "help", "modelName": "scripted", "maxCalls": 10})
    while True:
        run_until_idle(engine, registry, timeout_s=60)
        tasks = [t for t in engine.user_tasks() if t.details.get("kind") == "approval"]
        if not tasks:
            break
        for task in tasks:
            engine.complete_user_task(task.key, {"approved": True}, completed_by="fiona")
    print("state", engine.instances()[0].state, flush=True)
    engine.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
