"""Event log export benchmark: a million journal events out as XES and as OCEL 2.0 JSON, with time and peak memory.

Usage:
  .venv/bin/python bench/export.py [--events 1000000] [--formats xes,ocel] [--keep DIR]

A SQLite database is made in a temp dir (or ``--keep DIR``): the claim process of tests/discover/claims.py
(a service task, a person's review, a decision, a payment; a rework loop, a rejection and incidents among
them) runs 20 instances through the engine on a manual clock, then their instances and journal rows are
copied (keys renumbered, times shifted) until the journal holds ``--events`` rows, then ``ANALYZE``.

Each format is exported by a child process of its own (``agenthub export``'s code path: ``discover.export_to``)
so that its peak resident memory is the export's alone. Printed per format: seconds, journal rows per second,
XES/OCEL events written, file size and the child's peak RSS. The script never fails because of a number.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from discover import ExportFormat, LogFilter, export_to  # noqa: E402
from engine import Engine  # noqa: E402
from engine.ports import ManualClock  # noqa: E402
from tests.discover.claims import run_claims  # noqa: E402

STRIDE = 10**7  # copy n's keys are the original's plus n * STRIDE: far above what the engine handed out


def seed(path: Path, events: int) -> int:
    """The database at ``path`` with about ``events`` journal rows; the exact count."""
    clock = ManualClock()
    engine = Engine.open(f"sqlite:///{path}", clock=clock, synchronous="NORMAL")
    run_claims(engine, clock)
    store: Any = engine.store
    with store.engine.begin() as conn:
        rows = int(conn.execute(text("SELECT count(*) FROM journal")).scalar_one())
        span = int(conn.execute(text("SELECT max(at) - min(at) + 1 FROM journal")).scalar_one())
        copies = max(0, -(-events // rows) - 1)
        conn.execute(text("CREATE TEMP TABLE n(i INTEGER PRIMARY KEY)"))
        conn.execute(text(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :c) INSERT INTO n SELECT i FROM s"
        ), {"c": copies})
        names = [row[1] for row in conn.execute(text("PRAGMA table_info(instances)")).all()]
        moved = {"key": "key + n.i * :s", "created_at": "created_at + n.i * :t",
                 "ended_at": "ended_at + n.i * :t", "parent_instance": "parent_instance + n.i * :s"}
        conn.execute(text(f"INSERT INTO instances ({', '.join(names)}) SELECT "
                          f"{', '.join(moved.get(c, c) for c in names)} FROM instances, n WHERE key < :s"),
                     {"s": STRIDE, "t": span})
        conn.execute(text(
            "INSERT INTO journal (instance_key, type, element_id, element_instance, data, at) "
            "SELECT instance_key + n.i * :s, type, element_id, element_instance + n.i * :s, data, at + n.i * :t "
            "FROM n, journal WHERE journal.instance_key < :s ORDER BY n.i, journal.id"), {"s": STRIDE, "t": span})
        conn.execute(text("ANALYZE"))
        total = int(conn.execute(text("SELECT count(*) FROM journal")).scalar_one())
    engine.close()
    return total


def export_one(db: Path, fmt: str, out: Path) -> None:
    """In the child: export, then print what it did as one JSON line."""
    engine = Engine.open(f"sqlite:///{db}")
    started = time.perf_counter()
    counts = export_to(engine, ExportFormat(fmt), LogFilter(), out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "traces": counts.traces, "events": counts.events,
                      "bytes": out.stat().st_size, "peakRssMiB": peak / 1024}))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--formats", default="xes,ocel")
    parser.add_argument("--keep", type=Path, default=None, help="Make the database and files here and keep them.")
    parser.add_argument("--child", nargs=3, metavar=("DB", "FORMAT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export_one(Path(args.child[0]), args.child[1], Path(args.child[2]))
        return 0
    with tempfile.TemporaryDirectory(prefix="agenthub-export-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "export.db"
        db.unlink(missing_ok=True)
        print(f"seeding about {args.events:,} journal rows...", file=sys.stderr, flush=True)
        rows = seed(db, args.events)
        print(f"journal rows: {rows:,}")
        for fmt in args.formats.split(","):
            out = folder / f"log.{fmt}"
            child = subprocess.run([sys.executable, __file__, "--child", str(db), fmt, str(out)], capture_output=True,
                                   text=True, check=False)
            if child.returncode != 0:
                print(f"{fmt}: the export failed\n{child.stderr}")
                continue
            r = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{fmt:5} {r['seconds']:8.1f} s  {rows / r['seconds']:10,.0f} journal rows/s  "
                  f"{r['events']:>10,} events of {r['traces']:,} instances  {r['bytes'] / 2**20:8.1f} MiB  "
                  f"peak RSS {r['peakRssMiB']:6.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
