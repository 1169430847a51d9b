"""A2A ListTasks benchmark: a caller's page of tasks while others' instances grow, on SQLite.

Usage:
  .venv/bin/python bench/a2a_list_tasks.py [--small 1000] [--large 20000] [--mine 20] [--runs 7]

Two databases are made in a temp dir, each with the A2A test process ``greet`` (straight through) started
``--small`` / ``--large`` times by other principals and ``--mine`` times by the caller, through the engine.
Timed, alternating between the two, each the median of ``--runs``:

  page       ``list_tasks`` (what ListTasks runs) for the caller's first page of 10: an indexed query on the
             instances' ``started_by`` (engine migration 0018) and an indexed count;
  context    the same with a context id filter, which reads all of the caller's own instances;
  old way    what the page cost before 0018: every instance of the agent's process read in batches of 500 and
             the caller's kept in Python (the engine's plain instance list, run the same way).

Printed: milliseconds per call and the ratio large/small for each. The script never fails because of a number.
"""

from __future__ import annotations

import argparse
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

from a2a.types import ListTasksRequest  # noqa: E402

from engine import Engine  # noqa: E402
from protocols.a2a._listing import list_tasks  # noqa: E402

GREET = ROOT / "tests" / "data" / "a2a" / "greet.bpmn"
CALLER = "me"


def _engine(folder: Path, others: int, mine: int) -> Engine:
    engine = Engine.open(f"sqlite:///{folder / 'hub.db'}", synchronous="NORMAL")
    engine.deploy([(GREET.name, GREET.read_bytes())])
    for i in range(others):
        engine.start("greet", {"name": f"n{i}"}, owner=f"other-{i % 7}")
    for _ in range(mine):
        engine.start("greet", {"name": CALLER}, owner=CALLER)
    return engine


def _old_way(engine: Engine) -> list[int]:
    """The caller's newest 10 as ListTasks found them before migration 0018."""
    found, after = [], None
    while True:
        batch = engine.instances(process_id="greet", limit=500, after=after)
        found.extend(view.key for view in batch if view.started_by == CALLER)
        if len(batch) < 500:
            break
        after = batch[-1].key
    return found[::-1][:10]


def _timed(work: Callable[[], Any], into: list[float]) -> None:
    began = time.perf_counter()
    work()
    into.append((time.perf_counter() - began) * 1000)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--mine", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-a2a-list-") as tmp:
        engines = {}
        for label, others in (("small", args.small), ("large", args.large)):
            folder = Path(tmp) / label
            folder.mkdir()
            began = time.perf_counter()
            engines[label] = _engine(folder, others, args.mine)
            print(f"# {label}: {others:,} others' instances and {args.mine} of the caller's, "
                  f"made in {time.perf_counter() - began:.1f} s", flush=True)
        cases: dict[str, Callable[[Engine], Any]] = {
            "page": lambda e: list_tasks(e, ListTasksRequest(page_size=10), CALLER, "greet"),
            "context": lambda e: list_tasks(e, ListTasksRequest(page_size=10, context_id="none"), CALLER, "greet"),
            "old way": _old_way,
        }
        timings: dict[tuple[str, str], list[float]] = {(c, s): [] for c in cases for s in engines}
        for work in cases.values():  # a warm-up of each, not timed
            for engine in engines.values():
                work(engine)
        for _ in range(args.runs):
            for case, work in cases.items():
                for label, engine in engines.items():
                    _timed(lambda w=work, e=engine: w(e), timings[(case, label)])
        for engine in engines.values():
            engine.close()
    print(f"\n{'case':<10} {f'{args.small:,} others':>14} {f'{args.large:,} others':>14} {'ratio':>7}")
    for case in cases:
        small = statistics.median(timings[(case, "small")])
        large = statistics.median(timings[(case, "large")])
        print(f"{case:<10} {small:>11.2f} ms {large:>11.2f} ms {large / small:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
