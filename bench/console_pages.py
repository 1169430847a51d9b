"""Console pages benchmark: the Processes and Instances pages rendered with 100,000 instances stored, on SQLite.

Usage:
  .venv/bin/python bench/console_pages.py [--instances 100000] [--runs 9]

A real process (tests/data/web/order.bpmn: start -> user task -> service task -> end) is started through the
engine in four kinds of instance: waiting at the user task, waiting at the service task, completed, and with an
incident on the service task. The instances and their journal (and the incidents) are then multiplied to
``--instances`` by bulk ``INSERT ... SELECT`` (keys renumbered; about ten journal rows per instance), then
``ANALYZE``. The hub's app answers the console's pages through Starlette's test client, signed in as the admin;
each page is timed whole (routing, the guard, the queries, the template), the median of ``--runs``:

  /processes                     every process with its versions and counts
  /processes/order               one version: heat map (SQL aggregates over the journal) and start form
  /instances                     the first page, newest first
  /instances?state=incident&...  a filtered page (process, version, state)
  /instances?var=order=...       a variable filter (a scan bounded by the LIMIT)
  /instances?before=...          a deep page (keyset: the key in the middle of the table)
  /instances/{key}               one instance: diagram state, variables, journal

The target is under 200 ms each. The script never fails because of a number.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from engine import Engine  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.settings import HubSettings  # noqa: E402
from registry import generate_token  # noqa: E402

MODEL = ROOT / "tests" / "data" / "web" / "order.bpmn"
OFFSET = 10**12  # copies get keys far above anything the engine hands out here
KINDS = 4


def _originals(engine: Engine) -> list[int]:
    """One instance of each kind: at the user task, at the service task, completed, with an incident."""
    waiting = engine.start("order", {"order": "A-0", "amount": 1})
    at_ship = engine.start("order", {"order": "A-1", "amount": 2})
    done = engine.start("order", {"order": "A-2", "amount": 3})
    failed = engine.start("order", {"order": "A-3", "amount": 4})
    for instance in (at_ship, done, failed):
        [task] = engine.user_tasks(instance=instance.key)
        engine.complete_user_task(task.key, {})
    [job] = engine.activate_jobs(["web-ship"], "bench", max_jobs=1)
    engine.complete_job(job.key, {}, worker="bench", lock_version=job.lock_version)
    [job] = engine.activate_jobs(["web-ship"], "bench", max_jobs=1)
    engine.fail_job(job.key, "the carrier said no", retries=0, worker="bench", lock_version=job.lock_version)
    return [waiting.key, at_ship.key, done.key, failed.key]


def seed(path: Path, count: int) -> tuple[Engine, list[int]]:
    engine = Engine.open(f"sqlite:///{path}", synchronous="NORMAL")
    engine.deploy([("order.bpmn", MODEL.read_bytes())])
    originals = _originals(engine)
    store: Any = engine.store
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE n(i INTEGER PRIMARY KEY)"))
        conn.execute(text(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :c) INSERT INTO n SELECT i FROM s"
        ), {"c": count - KINDS})
        copy = {  # table -> (the column naming the original instance, the columns to renumber and how)
            "instances": ("key", {"key": ":o + n.i * 8 + :x", "created_at": "created_at + n.i"}),
            "journal": ("instance_key", {"id": "NULL", "instance_key": ":o + n.i * 8 + :x"}),
            "incidents": ("instance_key", {"key": ":o + n.i * 8 + 4 + :x", "instance_key": ":o + n.i * 8 + :x"}),
        }
        for index, instance in enumerate(originals):  # copy i is of original (i mod 4)
            for table, (column, renumbered) in copy.items():
                names = [row[1] for row in conn.execute(text(f"PRAGMA table_info({table})")).all()]
                values = ", ".join(renumbered.get(c, c) for c in names)
                conn.execute(text(
                    f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM {table}, n "
                    f"WHERE {column} = :k AND n.i % {KINDS} = :x ORDER BY n.i"
                ), {"o": OFFSET, "x": index, "k": instance})
        conn.execute(text("ANALYZE"))
    return engine, originals


def timed(client: TestClient, url: str) -> float:
    started = time.perf_counter()
    answer = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{url}: {answer.status_code} {answer.text[:300]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agenthub-console-") as tmp:
        path = Path(tmp) / "hub.db"
        print(f"seeding {args.instances:,} instances...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        engine, originals = seed(path, args.instances)
        store: Any = engine.store
        with store.engine.connect() as conn:
            journal = conn.execute(text("SELECT count(*) FROM journal")).scalar()
            keys = [k for (k,) in conn.execute(text("SELECT key FROM instances ORDER BY key")).all()]
        print(f"seeded in {time.perf_counter() - started:.1f}s: {len(keys):,} instances, {journal:,} journal rows",
              file=sys.stderr, flush=True)
        admin = generate_token()
        app = create_app(HubSettings(db=f"sqlite:///{path}", admin_token=admin, worker=False), engine=engine)
        pages = {
            "/processes": "/processes",
            "/processes/order": "/processes/order",
            "/instances (first page)": "/instances",
            "/instances (filtered)": "/instances?process=order&version=1&state=incident",
            "/instances (variable)": "/instances?var=order%3DA-3",
            "/instances (deep page)": f"/instances?before={keys[len(keys) // 2]}",
            "/instances/{key}": f"/instances/{keys[len(keys) // 2]}",
            "/instances/{key} (incident)": f"/instances/{originals[3]}",
        }
        with TestClient(app, base_url="http://127.0.0.1:8080") as client:
            signed = client.post("/login", data={"token": admin}, follow_redirects=False)
            assert signed.status_code == 303, signed.text
            samples: dict[str, list[float]] = {name: [] for name in pages}
            cold = {name: timed(client, url) for name, url in pages.items()}  # templates compiled, heat map summed
            for _ in range(args.runs):
                for name, url in pages.items():
                    samples[name].append(timed(client, url))
        print(f"\nconsole pages on SQLite with {len(keys):,} instances and {journal:,} journal rows, "
              f"median of {args.runs} (ms per page, whole request)")
        print(f"{'page':<30} {'median':>9} {'first':>9}")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"{name:<30} {median:>9.1f} {cold[name]:>9.1f}  {'ok' if median < 200 else 'OVER 200 ms'}")
        print("(first: the first request after the hub started, which sums the heat map over the whole journal)")
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
