"""Engine processes for the event durability tests to kill (RELIABILITY.md H1): ``python driver.py MODE --db URL``.

Modes:

``publish``
    Publish one message, print ``acknowledged {json}`` (flushed) once
    ``publish_message`` returned, then wait to be killed: the test SIGKILLs
    it right after the acknowledgement (D12).
``timer``
    Deploy ``e_timer_short.bpmn`` and start it (a PT1S timer catch), print
    ``started KEY DUE_MS``, then wait, without ever firing timers, until the
    timer's due time has passed, print ``due-passed`` and wait to be killed
    (D10: a timer that came due while nothing fired timers).
``soak``
    Deploy ``e_soak.bpmn``, start the ``--instances`` cases that have no
    instance yet, and publish each odd case's message ahead of time (TTL,
    message id ``paid-N``: a publish that was already done is refused, so a
    restarted driver repeats none). Then, until every instance completed,
    complete the open user tasks and publish the even cases' messages to the
    subscriptions that opened. A restarted driver carries on where the killed
    one stopped.

The SQLite ``synchronous`` setting comes from ``$AGENTHUB_SQLITE_SYNCHRONOUS``;
``$HUB_CRASH_AT`` arms a crash point.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from engine import Conflict, Engine, NotFound

HERE = Path(__file__).resolve().parent
TTL_MS = 10 * 60 * 1000


def _open(db: str) -> Engine:
    return Engine.open(db, synchronous=os.environ.get("AGENTHUB_SQLITE_SYNCHRONOUS", "FULL"))


def _deploy(engine: Engine, name: str) -> None:
    engine.deploy([(f"{name}.bpmn", (HERE / f"{name}.bpmn").read_bytes())])


def _linger() -> int:
    time.sleep(120)  # the test kills this process; it never gets to exit on its own
    return 5


def publish(args: argparse.Namespace) -> int:
    engine = _open(args.db)
    print("ready", flush=True)
    result = engine.publish_message(args.name, args.key, json.loads(args.vars), ttl_ms=args.ttl_ms, message_id=args.id)
    print(f"acknowledged {json.dumps(result)}", flush=True)
    return _linger()


def timer(args: argparse.Namespace) -> int:
    engine = _open(args.db)
    _deploy(engine, "e_timer_short")
    view = engine.start("e_timer_short", {"case": "timer-1"})
    (row,) = engine.timers(view.key)
    due_ms = int(datetime.fromisoformat(row["dueAt"]).timestamp() * 1000)
    print(f"started {view.key} {due_ms}", flush=True)
    while time.time() * 1000 < due_ms + 300:
        time.sleep(0.05)
    print("due-passed", flush=True)
    return _linger()


def _amount(n: int) -> int:
    return 500 if n % 2 else 50


def soak(args: argparse.Namespace) -> int:
    engine = _open(args.db)
    _deploy(engine, "e_soak")
    started = {view.variables.get("case") for view in engine.instances(process_id="e_soak", limit=100_000)}
    for n in range(args.instances):
        case = f"soak-{n}"
        if case not in started:
            engine.start("e_soak", {"case": case, "amount": _amount(n), "delay": "PT1S" if n % 3 == 0 else "PT0S"})
        if n % 2:  # published before the subscription opens: buffered, and refused if this was done before
            with contextlib.suppress(Conflict):
                engine.publish_message("paid", case, {"paid": _amount(n)}, ttl_ms=TTL_MS, message_id=f"paid-{n}")
    print("started", flush=True)
    deadline = time.monotonic() + args.deadline_s
    while engine.instances(state="active", process_id="e_soak", limit=1):
        if time.monotonic() > deadline:
            print("driver: gave up waiting for the instances to finish", file=sys.stderr)
            return 3
        busy = False
        for task in engine.user_tasks(limit=100_000):
            try:
                engine.complete_user_task(task.key, {"approved": True})
                busy = True
            except (Conflict, NotFound):
                pass
        for sub in engine.subscriptions():
            if sub["kind"] == "message" and sub["name"] == "paid" and sub["instance"] is not None:
                n = int(str(sub["correlationKey"]).removeprefix("soak-"))
                engine.publish_message("paid", sub["correlationKey"], {"paid": _amount(n)})
                busy = True
        if not busy:
            time.sleep(0.05)
    print("done", flush=True)
    engine.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    p = modes.add_parser("publish")
    p.add_argument("--db", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--vars", default="{}")
    p.add_argument("--ttl-ms", type=int, default=0)
    p.add_argument("--id")
    p.set_defaults(run=publish)
    p = modes.add_parser("timer")
    p.add_argument("--db", required=True)
    p.set_defaults(run=timer)
    p = modes.add_parser("soak")
    p.add_argument("--db", required=True)
    p.add_argument("--instances", type=int, default=500)
    p.add_argument("--deadline-s", type=float, default=300)
    p.set_defaults(run=soak)
    args = parser.parse_args()
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
