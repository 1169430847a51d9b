"""An engine process for the durability tests to kill (RELIABILITY.md H1): ``python driver.py MODE --db URL``.

Modes:

``drive``
    Deploy the golden models, start every case of ``golden.json`` that has
    no instance yet, then work jobs and complete user tasks until nothing is
    left to do. Run it again after a kill and it carries on: like any client
    that lost its connection, it checks what was done (an instance with the
    case's ``case`` variable exists, a user task is no longer open) instead
    of repeating it blindly.
``ack``
    Start instances one by one and print each key as soon as ``start``
    returned (and each user task completed), flushing every line: what was
    printed was acknowledged.
``complete``
    Wait for a go file, then complete the given user tasks and print one
    JSON line per task saying whether this process won it.

The SQLite ``synchronous`` setting comes from ``$AGENTHUB_SQLITE_SYNCHRONOUS``
(as for the ``agenthub`` CLI); ``$HUB_CRASH_AT`` arms a crash point.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import Conflict, Engine, NotFound, WorkerLoop, WorkerSettings
from engine.scheduler import default_registry
from hub.loading import load_workers

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"
GOLDEN = json.loads((HERE / "golden.json").read_text())


def _open(db: str) -> Engine:
    return Engine.open(db, synchronous=os.environ.get("AGENTHUB_SQLITE_SYNCHRONOUS", "FULL"))


def _deploy(engine: Engine, names: list[str]) -> None:
    engine.deploy([(f"{name}.bpmn", (MODELS / f"{name}.bpmn").read_bytes()) for name in names])


def _open_jobs(engine: Engine) -> int:
    with engine.store.reader() as tx:
        return tx.count_jobs(state="ready") + tx.count_jobs(state="locked")


def _count_crashpoints(counts: Counter[str]) -> None:
    """Count how often each crash point is reached (the golden run), so the tests can aim at moments in a run."""
    import engine.crash
    import engine.engine
    import engine.scheduler.loop

    callers = [
        module for name, module in sorted(sys.modules.items())
        if name.startswith("engine.") and name != "engine.crash"
        and getattr(module, "crashpoint", None) is engine.crash.crashpoint
    ]
    assert callers, "no engine module imports crashpoint: the golden run would count nothing"
    for module in callers:
        namespace = vars(module)  # each module imported the function under this name: wrap it there
        original: Callable[[str], None] = namespace["crashpoint"]

        def counted(name: str, original: Callable[[str], None] = original) -> None:
            counts[name] += 1
            original(name)

        namespace["crashpoint"] = counted


def drive(args: argparse.Namespace) -> int:
    counts: Counter[str] = Counter()
    if args.count_crashpoints:
        _count_crashpoints(counts)
    load_workers(str(HERE / "workers.py"))
    engine = _open(args.db)
    _deploy(engine, GOLDEN["models"])
    cases = {case["case"]: case for case in GOLDEN["cases"]}
    started = {view.variables.get("case") for view in engine.instances(limit=10_000)}
    for name, case in cases.items():
        if name not in started:
            engine.start(case["process"], {**case["variables"], "case": name})
    settings = WorkerSettings(
        lease_ms=args.lease_ms, concurrency=args.concurrency, poll_interval_s=0.02, backoff_base_ms=50
    )
    loop = WorkerLoop(engine, default_registry, name=f"driver:{os.getpid()}", settings=settings)
    deadline = time.monotonic() + args.deadline_s
    while True:
        loop.run(until_idle=True)
        tasks = engine.user_tasks(limit=10_000)
        for task in tasks:
            case = engine.instance(task.instance).variables["case"]
            engine.complete_user_task(task.key, cases[case]["task"])
        if not tasks and _open_jobs(engine) == 0:
            break
        if time.monotonic() > deadline:
            print("driver: gave up waiting for the instances to finish", file=sys.stderr)
            return 3
        time.sleep(0.02)  # a job claimed by a killed process waits for its lease to run out
    if args.count_crashpoints:
        Path(args.count_crashpoints).write_text(json.dumps(counts))
    engine.close()
    return 0


def ack(args: argparse.Namespace) -> int:
    engine = _open(args.db)
    _deploy(engine, ["d_ack"])
    print(f"ready {json.dumps(engine.store.durability())}", flush=True)
    for n in range(args.count):
        view = engine.start("d_ack", {"n": n})
        print(f"started {view.key}", flush=True)
        task = engine.user_tasks(instance=view.key)[0]
        engine.complete_user_task(task.key, {"done": n})
        print(f"completed {task.key} {view.key}", flush=True)
    engine.close()
    return 0


def complete(args: argparse.Namespace) -> int:
    engine = _open(args.db)
    variables: dict[str, Any] = json.loads(args.vars)
    keys = [int(k) for k in args.tasks.split(",")]
    print("ready", flush=True)
    go = Path(args.go)
    deadline = time.monotonic() + 30
    while not go.exists():
        if time.monotonic() > deadline:
            return 4
        time.sleep(0.001)
    for key in keys:
        try:
            engine.complete_user_task(key, variables)
            outcome: dict[str, Any] = {"task": key, "ok": True}
        except (Conflict, NotFound) as exc:
            outcome = {"task": key, "ok": False, "error": type(exc).__name__, "message": str(exc)}
        print(json.dumps(outcome), flush=True)
    engine.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    p = modes.add_parser("drive")
    p.add_argument("--db", required=True)
    p.add_argument("--lease-ms", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--deadline-s", type=float, default=60)
    p.add_argument("--count-crashpoints")
    p.set_defaults(run=drive)
    p = modes.add_parser("ack")
    p.add_argument("--db", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.set_defaults(run=ack)
    p = modes.add_parser("complete")
    p.add_argument("--db", required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--tasks", required=True)
    p.add_argument("--vars", default="{}")
    p.set_defaults(run=complete)
    args = parser.parse_args()
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
