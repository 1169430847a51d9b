"""Task-list benchmark: reading a page of open user tasks with 1,000 and with 100,000 waiting, on SQLite.

Usage:
  .venv/bin/python bench/task_list.py [--small 1000] [--large 100000] [--runs 7]

Two databases are made in a temp dir: a real process (start -> user task for candidate groups -> end) is
started a few times through the engine, then the waiting tasks are multiplied to ``--small`` and ``--large`` by
bulk ``INSERT ... SELECT`` of the real rows (instances, user tasks and their candidate-group rows, keys
renumbered), then ``ANALYZE``. Timed, alternating between the two databases, each the median of ``--runs``:

  page         ``engine.user_tasks(limit=100)``: the first page of open tasks;
  group page   ``engine.user_tasks(candidate_group="sales", limit=100)``: a group's first page
               (half the tasks are sales', half support's);
  late page    the group's page after the key in the middle of the table (keyset pagination);
  old way      what the group page cost before migration 0009: every open task read in key order and its
               candidate groups filtered in Python (the same query, run directly).

Printed: milliseconds per call and the ratio large/small for each. The script never fails because of a number.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from engine import Engine  # noqa: E402

# start -> user task for the candidate groups in variable `groups` -> end (shared with the test of this query)
PROCESS = ROOT / "tests" / "data" / "store" / "review_groups.bpmn"
OFFSET = 10**12  # copies get keys far above anything the engine hands out here


def seed(path: Path, waiting: int) -> Engine:
    engine = Engine.open(f"sqlite:///{path}", synchronous="NORMAL")
    engine.deploy([("review.bpmn", PROCESS.read_bytes())])
    engine.start("review", {"groups": ["sales"]})
    engine.start("review", {"groups": ["support"]})
    store: Any = engine.store
    with store.engine.begin() as conn:
        originals = conn.execute(text("SELECT key, instance_key FROM user_tasks ORDER BY key")).all()
        copies = waiting - len(originals)
        conn.execute(text("CREATE TEMP TABLE n(i INTEGER PRIMARY KEY)"))
        conn.execute(text(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :c) INSERT INTO n SELECT i FROM s"
        ), {"c": copies})
        copy = {  # table -> (key column, the columns to renumber and how)
            "instances": ("key", {"key": ":o + n.i * 4 + :x"}),
            "user_tasks": ("key", {"key": ":o + n.i * 4 + 2 + :x", "instance_key": ":o + n.i * 4 + :x"}),
            "user_task_groups": ("task_key", {"task_key": ":o + n.i * 4 + 2 + :x"}),
        }
        for index, (task, instance) in enumerate(originals):  # copy i is of original (i mod 2)
            for table, (key, renumbered) in copy.items():
                names = [row[1] for row in conn.execute(text(f"PRAGMA table_info({table})")).all()]
                values = ", ".join(renumbered.get(c, c) for c in names)
                conn.execute(text(
                    f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM {table}, n "
                    f"WHERE {key} = :k AND n.i % 2 = :x"
                ), {"o": OFFSET, "x": index, "k": instance if table == "instances" else task})
        conn.execute(text("ANALYZE"))
    return engine


def old_way(engine: Engine, group: str, limit: int) -> list[Any]:
    store: Any = engine.store
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM user_tasks WHERE state = 'created' ORDER BY key")).all()
    return [r for r in rows if group in json.loads(r.candidate_groups)][:limit]


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agenthub-tasklist-") as tmp:
        engines = {}
        for name, size in (("small", args.small), ("large", args.large)):
            print(f"seeding {size:,} waiting tasks...", file=sys.stderr, flush=True)
            engines[name] = seed(Path(tmp) / f"{name}.db", size)
        middle = {}
        for name, engine in engines.items():
            keys = [t.key for t in engine.user_tasks(candidate_group="sales", limit=10**9)]
            middle[name] = keys[len(keys) // 2]
        cases: dict[str, Callable[[Engine, str], Any]] = {
            "page": lambda e, n: e.user_tasks(limit=100),
            "group page": lambda e, n: e.user_tasks(candidate_group="sales", limit=100),
            "late page": lambda e, n: e.user_tasks(candidate_group="sales", limit=100, after=middle[n]),
            "old way": lambda e, n: old_way(e, "sales", 100),
        }
        samples: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for case, call in cases.items():
                for name, engine in engines.items():  # interleaved: small, large, small, large...
                    samples.setdefault((case, name), []).append(timed(lambda c=call, e=engine, n=name: c(e, n)))
        print(f"\nuser-task list on SQLite, median of {args.runs} (ms per call); {args.small:,} vs {args.large:,} "
              "waiting")
        print(f"{'case':<12} {'small':>10} {'large':>10} {'large/small':>12}")
        for case in cases:
            small = statistics.median(samples[(case, "small")])
            large = statistics.median(samples[(case, "large")])
            print(f"{case:<12} {small:>10.2f} {large:>10.2f} {large / small:>11.2f}x")
        for engine in engines.values():
            engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
