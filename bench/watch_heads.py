"""Watching many instances for changes: one journal read per instance against ``Engine.journal_heads``.

Usage:
  .venv/bin/python bench/watch_heads.py [--instances 1000] [--rounds 7]

What the MCP server's watcher (``protocols/mcp/_subscriptions.py``) does after a commit: for every instance a
client watches (a resource subscription, a ``subscriptions/listen`` stream, a 2025-11-25 task's status
notifications), see whether its journal grew. Before: one ``Engine.journal(key, after=seen, limit=500)`` per
instance. Now: one ``Engine.journal_heads(keys)`` for all of them. ``--instances`` instances wait on a user task
(SQLite, WAL, synchronous=FULL, a temp file); the two ways alternate for ``--rounds`` rounds, each timed over all
instances. Printed: the median of each in milliseconds per check, and their ratio. Nothing fails on a number.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402

WAITING = ROOT / "bench" / "models" / "usertask.bpmn"  # start -> user task -> end: instances wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine.open(f"sqlite:///{Path(folder) / 'watch.db'}")
        try:
            engine.deploy([(WAITING.name, WAITING.read_bytes())])
            keys = [engine.start("bench_usertask", {}).key for _ in range(args.instances)]
            seen = engine.journal_heads(keys)
            per_instance: list[float] = []
            heads: list[float] = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                for key in keys:
                    engine.journal(key, after=seen[key], limit=500)
                per_instance.append(time.perf_counter() - began)
                began = time.perf_counter()
                found = engine.journal_heads(keys)
                heads.append(time.perf_counter() - began)
                assert found == seen  # nothing changed: both ways see no growth
        finally:
            engine.close()
    one, all_ = statistics.median(per_instance) * 1000, statistics.median(heads) * 1000
    print(f"{args.instances} watched instances, median of {args.rounds} checks (SQLite WAL+FULL):")
    print(f"  one journal read per instance   {one:8.1f} ms")
    print(f"  Engine.journal_heads            {all_:8.1f} ms")
    print(f"  ratio                           {one / all_:8.1f}x")


if __name__ == "__main__":
    main()
