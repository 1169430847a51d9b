"""The cost of one engine transaction on SQLite beside a raw sqlite3 one: the store's own overhead.

Usage:
  .venv/bin/python bench/transactions.py [--n 3000] [--rounds 5]

Each round measures, alternating: ``SqlStore.transaction()`` doing nothing (BEGIN IMMEDIATE + COMMIT through
the store: the writer lock, the held connection, the ``Tx``) and raw ``sqlite3`` BEGIN IMMEDIATE + COMMIT on a
file beside it, both at WAL+NORMAL (fsync would drown the difference). Prints the median microseconds per
transaction and the store's as a ratio to raw.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.store.sql import SqlStore


def per_tx_us(work: object, n: int) -> float:
    assert callable(work)
    started = time.perf_counter()
    for _ in range(n):
        work()
    return (time.perf_counter() - started) / n * 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="transactions per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (medians)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="agenthub-bench-tx-"))
    store = SqlStore(f"sqlite:///{folder / 'engine.db'}", synchronous="NORMAL")
    raw = sqlite3.connect(folder / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")

    def empty() -> None:
        with store.transaction():
            pass

    def raw_empty() -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("COMMIT")

    results: dict[str, list[float]] = {"SqlStore.transaction()": [], "raw sqlite3": []}
    for _ in range(args.rounds):
        results["SqlStore.transaction()"].append(per_tx_us(empty, args.n))
        results["raw sqlite3"].append(per_tx_us(raw_empty, args.n))
    raw_median = statistics.median(results["raw sqlite3"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:24} {median:7.1f} us per transaction  ({median / raw_median:.2f}x raw)")
    store.close()
    raw.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
