"""Run every example to completion on SQLite from the command line: `make examples`.

Each example folder holds BPMN files, a ``workers.py`` with its job
handlers and an ``example.json`` listing the instances to start and the
answers a person would give to its user tasks, and the messages the outside
world sends. The database is
``agenthub.db`` in the current directory (or ``$AGENTHUB_DB``), so the CLI
can inspect what ran afterwards: ``.venv/bin/agenthub instances``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from engine import Engine, WorkerLoop, WorkerRegistry
from engine.agent import MODEL_JOB_TYPE
from engine.scheduler import default_registry
from hub.deploying import read_deployment
from hub.loading import load_workers
from protocols.llm import ModelResolver, ModelTask

HERE = Path(__file__).resolve().parent


def _drive(engine: Engine, registry: WorkerRegistry, instance: int, answers: dict[str, Any],
           messages: list[dict[str, Any]]) -> None:
    WorkerLoop(engine, registry).run(until_idle=True)
    for message in messages:
        print(f"    the outside world publishes '{message['name']}' for key '{message['key']}'")
        engine.publish_message(message["name"], message["key"], message.get("variables", {}))
    while True:
        WorkerLoop(engine, registry).run(until_idle=True)
        open_tasks = [t for t in engine.user_tasks(instance=instance) if t.element_id in answers]
        if not open_tasks:
            return
        for task in open_tasks:
            print(f"    a person completes '{task.name}' with {json.dumps(answers[task.element_id])}")
            engine.complete_user_task(task.key, answers[task.element_id])


def run_example(engine: Engine, folder: Path) -> bool:
    spec = json.loads((folder / "example.json").read_text())
    if (folder / "workers.py").exists():
        load_workers(str(folder / "workers.py"))
    paths = sorted(folder.glob("*.bpmn"))
    resources = read_deployment(paths, by_file_name=True)  # with the model files the agents name beside them
    for deployed in engine.deploy(resources):
        print(f"  deployed {deployed.process_id} version {deployed.version}")
    ok = True
    for run in spec["runs"]:
        view = engine.start(spec["process"], run.get("variables", {}))
        print(f"  started instance {view.key} ({run['name']})")
        _drive(engine, default_registry, view.key, run.get("tasks", {}), run.get("messages", []))
        final = engine.instance(view.key)
        print(f"    -> {final.state}: {json.dumps(final.variables, ensure_ascii=False)[:300]}")
        ok = ok and final.state == run.get("expect", "completed")
    return ok


def main() -> int:
    url = os.environ.get("AGENTHUB_DB", "sqlite:///agenthub.db")
    engine = Engine.open(url, synchronous=os.environ.get("AGENTHUB_SQLITE_SYNCHRONOUS", "FULL"))
    # agents' model steps: the examples' offline model files are deployed with their processes
    default_registry.register(MODEL_JOB_TYPE, ModelTask(engine, ModelResolver.standard(files_root=HERE)))
    ok = True
    try:
        for folder in sorted(p for p in HERE.iterdir() if (p / "example.json").exists()):
            print(f"example {folder.name}:")
            ok = run_example(engine, folder) and ok
    finally:
        engine.close()
    print(f"database: {url}  (inspect with: .venv/bin/agenthub instances --db {url})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
