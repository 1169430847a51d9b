"""Scale-out benchmark: the engine on PostgreSQL with one, two and three worker processes, a large store, a timer burst.

Usage:
  .venv/bin/python bench/scale.py [--quick] [--keep-cluster DIR] [--runs R] [--only PART] [--json FILE]

It starts its own throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl`` in a temp dir, as the ``postgres`` user via
``runuser`` when run as root, listening on 127.0.0.1 only, ``fsync=on``, ``synchronous_commit=on``), runs three
parts, each in fresh databases of that cluster, prints one table per part, then stops the server and deletes the
cluster (``--keep-cluster DIR``: build it in DIR and leave it there, stopped).

  workers  ``scale_ab.bpmn`` (start -> service task A -> service task B -> end; handlers in
           ``bench/scale_workers.py`` sleep 1.5 ms to stand for I/O). N instances are started up front, then 1, 2
           and 3 ``agenthub worker --until-idle --concurrency 4`` processes run at once against the same database
           until every instance has completed. Throughput = N / (last instance end - first job completion), so
           interpreter start-up is not counted; the wall time with it is shown too.
  store    cost per step against store size: a fixed workload (W instances of ``scale_one.bpmn``, start ->
           service task -> end, driven in one process with ``start``, then ``activate_jobs(32)`` /
           ``complete_job``) timed in a database holding S1 finished instances and in one holding S2 (10,000 and
           1,000,000), the runs alternating between the two. The finished instances are copies of a real finished
           instance of the same process, written by bulk ``INSERT ... SELECT generate_series`` into ``instances``
           and ``journal`` (13 journal rows each, keys renumbered inside a range reserved in ``key_blocks``), then
           ``VACUUM ANALYZE``; the engine then reads two of them back (state, variables, journal). Last, the workload
           runs once more with ``auto_explain`` on: the plans PostgreSQL actually used for the claim and the instance
           load are printed, and every distinct statement is checked for sequential scans.
  timers   T instances of ``scale_timer.bpmn`` wait at an intermediate timer catch event whose ``timeDate`` is the
           same whole second for all (variable ``due``, a few seconds after they are all created). Then 1, and 2,
           worker processes (``WorkerLoop(...).run(until_idle=True)``, imported and connected before the due second)
           fire them; reported: the time from the due second until the last one fired, and fires/s.

While each timed phase runs the driver samples ``pg_stat_activity`` every 50 ms: the share of samples where a
backend of the benchmark database waits on a lock (a convoy), on WAL/disk I/O, or runs (CPU, no wait event), and
the machine's CPU use from ``/proc/stat``.

Every engine run is a subprocess (``bench/scale.py --one KIND ARGS...``, one JSON line out); progress goes to stderr,
the report to stdout. The script never fails because of a number.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import glob
import json
import os
import platform
import pwd
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ holds engine.py: keep the folder off sys.path so that ``import engine`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODELS = HERE / "models"
WORKERS_MODULE = HERE / "scale_workers.py"
DRIVE_BATCH = 32
START_THREADS = 4
WORKER_CONCURRENCY = 4
RUN_TIMEOUT_S = 900
FILL_CHUNK = 100_000
SAMPLE_S = 0.05
CLAIM_BACKLOGS = (20_000, 200_000)
# Tables that grow with every instance ever run: a sequential scan of one of them is a cost that grows with history.
GROWING = ("instances", "journal", "user_tasks", "incidents", "message_correlations")


# ---------------------------------------------------------------------------------------------------------------
# worker side: one engine run, one JSON line
# ---------------------------------------------------------------------------------------------------------------


def _load_handlers() -> Any:
    """Import bench/scale_workers.py: its @worker handlers register in the default registry."""
    import importlib.util

    from engine.scheduler import default_registry

    if "scale-one" not in default_registry.types():
        spec = importlib.util.spec_from_file_location("agenthub_bench_scale_workers", WORKERS_MODULE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return default_registry


def _open(url: str) -> Any:
    from engine import Engine

    engine = Engine.open(url)
    for name in ("scale_ab", "scale_one", "scale_timer"):
        path = MODELS / f"{name}.bpmn"
        engine.deploy([(path.name, path.read_bytes())])
    return engine


def run_start(url: str, process_id: str, n: int, threads: int, variables: dict[str, Any]) -> dict[str, Any]:
    """Start ``n`` instances from ``threads`` threads (one transaction each); they run until they wait."""
    from concurrent.futures import ThreadPoolExecutor

    engine = _open(url)
    try:
        engine.start(process_id, variables)  # warm-up: parse, key block, connections
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            keys = list(pool.map(lambda _: engine.start(process_id, variables).key, range(n)))
        elapsed = time.perf_counter() - t0
    finally:
        engine.close()
    return {"kind": "start", "n": n + 1, "elapsed_s": elapsed, "per_s": n / elapsed if elapsed else None,
            "first_key": min(keys) if keys else None, "last_key": max(keys) if keys else None}


def run_seed(url: str) -> dict[str, Any]:
    """One instance of scale_one, alone, driven to its end: the template the bulk fill copies."""
    engine = _open(url)
    try:
        registry = _load_handlers()
        key = engine.start("scale_one").key
        _drain(engine, registry)
        view = engine.instance(key)
    finally:
        engine.close()
    return {"kind": "seed", "instance": key, "state": view.state}


def _drain(engine: Any, registry: Any) -> int:
    from engine import Job

    handler = registry.handlers["scale-one"]
    done = 0
    while True:
        jobs = engine.activate_jobs(["scale-one"], "bench-drive", max_jobs=DRIVE_BATCH)
        if not jobs:
            return done
        for job in jobs:
            arg = Job(job.key, job.type, dict(job.variables), dict(job.headers), job.retries, job.instance,
                      job.element_id, job.process_id)
            engine.complete_job(job.key, handler(arg), worker=job.worker, lock_version=job.lock_version)
            done += 1


def run_drive(url: str, n: int) -> dict[str, Any]:
    """The fixed workload of the store part: n x start, then activate_jobs(32) / complete_job until none is left."""
    engine = _open(url)
    try:
        registry = _load_handlers()
        engine.start("scale_one")
        _drain(engine, registry)  # warm-up
        t0 = time.perf_counter()
        keys = [engine.start("scale_one").key for _ in range(n)]
        t1 = time.perf_counter()
        jobs = _drain(engine, registry)
        t2 = time.perf_counter()
        states = {engine.instance(k).state for k in (keys[0], keys[-1])} if keys else {"completed"}
    finally:
        engine.close()
    if states != {"completed"} or jobs != n:
        raise SystemExit(f"drive: {jobs} jobs completed for {n} instances; first/last instance {states}")
    return {"kind": "drive", "n": n, "elapsed_s": t2 - t0, "ms_per_inst": (t2 - t0) * 1000 / n,
            "start_ms": (t1 - t0) * 1000 / n, "job_ms": (t2 - t1) * 1000 / n}


def run_verify(url: str, keys: list[int], journal_rows: int) -> dict[str, Any]:
    """Read bulk-filled instances through the engine: they must load, be completed and have their journal."""
    from engine import Engine

    engine = Engine.open(url)
    try:
        for key in keys:
            view = engine.instance(key)
            entries = engine.journal(key)
            if view.state != "completed" or len(entries) != journal_rows or view.variables != {"done": True}:
                raise SystemExit(f"filled instance {key}: {view.state}, {len(entries)} journal rows, {view.variables}")
            if entries[-1]["type"] != "instance_completed":
                raise SystemExit(f"filled instance {key}: journal ends with {entries[-1]['type']}")
    finally:
        engine.close()
    return {"kind": "verify", "checked": len(keys)}


def run_timer_worker(url: str, due_ms: int) -> dict[str, Any]:
    """Connect, wait for the due second, then fire timers until none is due (one process of part 3)."""
    from engine import Engine, WorkerLoop, WorkerRegistry, WorkerSettings

    engine = Engine.open(url)
    try:
        engine.next_timer_due()  # connect before the due second
        loop = WorkerLoop(engine, WorkerRegistry(), name=f"bench-timers-{os.getpid()}",
                          settings=WorkerSettings(poll_interval_s=0.01))
        ready_ms = int(time.time() * 1000)
        time.sleep(max(0.0, due_ms / 1000 - time.time()))
        started_ms = int(time.time() * 1000)
        loop.run(until_idle=True)
        ended_ms = int(time.time() * 1000)
    finally:
        engine.close()
    return {"kind": "timer-worker", "fired": loop.fired, "ready_ms": ready_ms, "started_ms": started_ms,
            "ended_ms": ended_ms}


def run_claim(url: str, job_type: str, count: int) -> dict[str, Any]:
    """Claim ``count`` jobs once (the statement the worker loop runs), then give them back untouched."""
    engine = _open(url)
    try:
        jobs = engine.activate_jobs([job_type], "bench-explain", max_jobs=count)
        engine.release_jobs(jobs)
    finally:
        engine.close()
    return {"kind": "claim", "claimed": len(jobs)}


class _Rollback(Exception):
    pass


def run_due_timers(url: str, now_ms: int, limit: int) -> dict[str, Any]:
    """Select the timers due at ``now_ms`` as fire_due_timers does, in a transaction that is rolled back."""
    from engine import Engine

    engine = Engine.open(url)
    found = 0
    try:
        with engine.store.transaction() as tx:
            found = len(tx.due_timers(now_ms, limit))
            raise _Rollback
    except _Rollback:
        pass
    finally:
        engine.close()
    return {"kind": "due-timers", "found": found}


def worker_main(args: list[str]) -> None:
    kind, rest = args[0], args[1:]
    if kind == "start":
        url, process_id, n, threads, variables = rest
        out = run_start(url, process_id, int(n), int(threads), json.loads(variables))
    elif kind == "seed":
        out = run_seed(rest[0])
    elif kind == "drive":
        out = run_drive(rest[0], int(rest[1]))
    elif kind == "verify":
        out = run_verify(rest[0], [int(k) for k in rest[2:]], int(rest[1]))
    elif kind == "claim":
        out = run_claim(rest[0], rest[1], int(rest[2]))
    elif kind == "due-timers":
        out = run_due_timers(rest[0], int(rest[1]), int(rest[2]))
    elif kind == "timer-worker":
        out = run_timer_worker(rest[0], int(rest[1]))
    else:
        raise SystemExit(f"unknown worker kind {kind!r}")
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------------------------
# driver side: the cluster
# ---------------------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_bindir() -> Path | None:
    """``pg_config --bindir`` when it holds the server (libpq-dev alone ships a pg_config), else the newest install."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30)
            candidates.append(Path(out.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(p) for p in Path(path).parent.name.split(".") if p.isdigit())

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_postgres_user() -> None:
    """initdb refuses to run as root: as root, run the server as ``postgres`` (created if missing)."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "postgres"], capture_output=True, check=True, timeout=60)


class Cluster:
    """One ``initdb``-made cluster in a directory of its own, serving 127.0.0.1:``port``, trust auth for postgres."""

    def __init__(self, bindir: Path, root: Path, keep: bool) -> None:
        self.bindir = bindir
        self.root = root
        self.keep = keep
        self.port = 0
        self.data = root / "data"
        self.log = root / "server.log"
        self.as_postgres = os.geteuid() == 0
        self.version = ""
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def _run(self, *args: str, timeout: int = 120) -> str:
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{tail}")
        return result.stdout

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        (self.data / "pg_hba.conf").write_text("local all postgres trust\nhost all postgres 127.0.0.1/32 trust\n")
        with (self.data / "postgresql.conf").open("a") as conf:  # in the file: a kept cluster restarts the same
            conf.write(f"\n# bench/scale.py\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
                       "fsync = on\nsynchronous_commit = on\nmax_connections = 200\nmax_wal_size = '4GB'\n")
        for attempt in range(5):  # another process may take the free port before the server binds it
            self.port = _free_port()
            options = f"-p {self.port}"
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options)
                break
            except RuntimeError:
                if attempt == 4:
                    raise
        self.version = str(self.scalar("postgres", "SHOW server_version"))

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-m", "fast" if self.keep else "immediate", "-w", "-D", str(self.data))
        finally:
            if not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str) -> Any:
        import psycopg

        return psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True)

    def scalar(self, database: str, query: str, params: Any = None) -> Any:
        with self.connect(database) as conn:
            row = conn.execute(query, params).fetchone()
            return row[0] if row else None

    def create_database(self, name: str) -> str:
        with self.connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        if not self.keep:
            with self.connect("postgres") as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------------------------
# driver side: running and sampling
# ---------------------------------------------------------------------------------------------------------------


def one(*args: str, timeout: int = RUN_TIMEOUT_S) -> dict[str, Any]:
    """Run ``bench/scale.py --one ARGS`` and return its JSON line; raises RuntimeError with its stderr if it fails."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", *args]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"--one {args[0]} exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-1500:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle, sum(fields[:8])


class Sampler:
    """Samples pg_stat_activity (backends of one database that run a statement) and the machine's CPU use."""

    def __init__(self, cluster: Cluster, database: str) -> None:
        self.cluster = cluster
        self.database = database
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cpu0 = (0, 0)
        self.cpu_busy: float | None = None

    def __enter__(self) -> Sampler:
        self._cpu0 = _cpu_jiffies()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        busy, total = _cpu_jiffies()
        if total > self._cpu0[1]:
            self.cpu_busy = (busy - self._cpu0[0]) / (total - self._cpu0[1])

    def _run(self) -> None:
        query = ("SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
                 "WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()")
        try:
            conn = self.cluster.connect("postgres")
        except Exception:  # sampling is extra: never fail the run for it
            return
        with conn:
            while not self._stop.wait(SAMPLE_S):
                try:
                    rows = conn.execute(query, (self.database,)).fetchall()
                except Exception:
                    return
                self.samples += 1
                self.waits.update(str(r[0]) for r in rows)

    def summary(self) -> dict[str, Any]:
        return {"samples": self.samples, "waits": dict(self.waits), "cpu_busy": self.cpu_busy}


def wait_profile(waits: dict[str, int]) -> dict[str, float]:
    """Shares of sampled active backends: heavyweight lock waits, WAL (write/flush, its LWLocks), other waits, CPU."""
    seen = sum(waits.values())
    if not seen:
        return {"lock": 0.0, "wal": 0.0, "client": 0.0, "other": 0.0, "cpu": 0.0}
    lock = sum(v for k, v in waits.items() if k.startswith("Lock:")) / seen
    wal = sum(v for k, v in waits.items() if k.startswith(("IO:WAL", "LWLock:WAL"))) / seen
    client = sum(v for k, v in waits.items() if k.startswith("Client:")) / seen
    cpu = waits.get("CPU", 0) / seen
    return {"lock": lock, "wal": wal, "client": client, "other": max(0.0, 1.0 - lock - wal - client - cpu), "cpu": cpu}


def _agenthub() -> list[str]:
    script = Path(sys.executable).parent / "agenthub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub.cli"]


def _wait_all(procs: list[subprocess.Popen[str]], timeout: float) -> list[tuple[int, str, str]]:
    deadline = time.monotonic() + timeout
    results: list[tuple[int, str, str]] = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:  # only the processes this run started, each by its own handle
                with contextlib.suppress(ProcessLookupError):
                    other.kill()
            raise
        results.append((proc.returncode, out, err))
    return results


# ---------------------------------------------------------------------------------------------------------------
# part 1: worker processes
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    instances: int
    runs: int
    store: tuple[int, int]
    workload: int
    store_runs: int
    timers: int
    timer_workers: tuple[int, ...]


FULL = Sizes(instances=2000, runs=3, store=(10_000, 1_000_000), workload=500, store_runs=5, timers=10_000,
             timer_workers=(1, 2))
QUICK = Sizes(instances=300, runs=1, store=(10_000, 100_000), workload=200, store_runs=2, timers=2_000,
              timer_workers=(1, 2))


def part_workers(cluster: Cluster, sizes: Sizes, runs: int) -> list[dict[str, Any]]:
    n = sizes.instances
    out: list[dict[str, Any]] = []
    for processes in (1, 2, 3):
        for r in range(runs):
            name = f"workers_{processes}_{r}"
            label = f"workers: {processes} process(es), run {r + 1}/{runs}"
            try:
                out.append(_one_worker_run(cluster, name, n, processes, explain=processes == 1 and r == 0)
                           | {"run": r})
                log(f"  {label}: {out[-1]['inst_per_s']:,.1f} instances/s")
            except Exception as exc:  # report it, go on
                out.append({"processes": processes, "run": r, "error": str(exc)[-800:]})
                log(f"  {label}: FAILED {exc}")
            finally:
                with contextlib.suppress(Exception):
                    cluster.drop_database(name)
    return out


def claim_sweep(cluster: Cluster, database: str, query: str, job_type: str, limit: int,
                backlogs: tuple[int, ...]) -> list[dict[str, Any]]:
    """The claim statement the engine ran (as auto_explain logged it, its parameters bound as literals), timed by
    EXPLAIN ANALYZE against growing backlogs of due jobs: the real ones, then synthetic ready rows added in a
    transaction that is rolled back."""
    from psycopg import sql

    if sorted(set(re.findall(r"\$(\d+)", query))) != ["1", "2", "3"]:
        return [{"backlog": 0, "error": f"unexpected parameters in the claim statement: {query[:200]}"}]
    out: list[dict[str, Any]] = []
    now = int(time.time() * 1000)
    with cluster.connect(database) as conn:
        have = int(conn.execute("SELECT count(*) FROM jobs WHERE state = 'ready' AND type = %s",
                                (job_type,)).fetchone()[0])
        values = {"1": sql.Literal(now), "2": sql.Literal(job_type), "3": sql.Literal(limit)}
        bound = re.sub(r"\$(\d+)", lambda m: values[m.group(1)].as_string(conn), query)
        try:
            with conn.transaction(force_rollback=True):
                _sweep(conn, bound, have, job_type, now, backlogs, out)
        except Exception as exc:  # extra: keep what was measured, report the rest
            out.append({"backlog": have, "error": str(exc).splitlines()[0][:300]})
            log(f"    claim sweep FAILED: {exc}")
        # The rolled-back rows are dead tuples in the jobs table: every claim's sequential scan would read their
        # pages until autovacuum came by. Clear them (and their statistics) before the workers start.
        conn.execute("VACUUM (ANALYZE) jobs")
    return out


def _sweep(conn: Any, bound: str, have: int, job_type: str, now: int, backlogs: tuple[int, ...],
           out: list[dict[str, Any]]) -> None:
    """Time the bound claim at each backlog, adding synthetic due jobs of ``job_type`` between steps."""
    for target in (have, *(b for b in backlogs if b > have)):
        if target > have:
            conn.execute(
                "INSERT INTO jobs (key, instance_key, element_instance, element_id, process_id, type,"
                " state, retries, due_at, lock_version, stalls, headers, created_at)"
                " SELECT 9000000000000 + g, 9100000000000 + g, 9200000000000 + g, 'synthetic',"
                " 'synthetic', %s, 'ready', 3, %s - g, 0, 0, '{}', %s - g"
                " FROM generate_series(%s::bigint, %s::bigint) AS g",
                (job_type, now - 1000, now - 1000, have + 1, target))
            conn.execute("ANALYZE jobs")
            have = target
        times: list[float] = []
        plan = ""
        for _ in range(3):
            lines = [str(r[0]) for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + bound,
                                                     prepare=False)]
            plan = "\n".join(lines)
            found = re.search(r"Execution Time: ([\d.]+) ms", plan)
            if found:
                times.append(float(found.group(1)))
        nodes = re.findall(r"((?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan) on \w+|"
                           r"Sort Method: [\w -]+?(?=  |$)|Incremental Sort)", plan, flags=re.M)
        out.append({"backlog": have, "ms": statistics.median(times) if times else None,
                    "nodes": ", ".join(dict.fromkeys(n.strip() for n in nodes)), "plan": plan})
        log(f"    claim with {have:,} due jobs: {out[-1]['ms']} ms ({out[-1]['nodes']})")


def _one_worker_run(cluster: Cluster, name: str, n: int, processes: int, explain: bool) -> dict[str, Any]:
    url = cluster.create_database(name)
    started = one("start", url, "scale_ab", str(n - 1), str(START_THREADS), "{}")
    log(f"    {n:,} instances started in {started['elapsed_s']:.1f} s ({started['per_s']:,.0f}/s, "
        f"{START_THREADS} threads)")
    claim_plan = None
    sweep: list[dict[str, Any]] = []
    if explain:  # the claim as the worker loop runs it, against a backlog of n ready jobs; the jobs are given back
        claim_plan = summarize_plans(capture_plans(cluster, name, "claim", url, "scale-a",
                                                   str(WORKER_CONCURRENCY)))["claim"]
        if claim_plan is not None:
            sweep = claim_sweep(cluster, name, claim_plan["query"], "scale-a", WORKER_CONCURRENCY, CLAIM_BACKLOGS)
    log(f"    launching {processes} worker process(es)")
    command = [*_agenthub(), "worker", "--workers", str(WORKERS_MODULE.relative_to(ROOT)), "--db", url,
               "--until-idle", "--concurrency", str(WORKER_CONCURRENCY)]
    launch_ms = int(time.time() * 1000)
    t0 = time.perf_counter()
    with Sampler(cluster, name) as sampler:
        procs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(processes)]
        results = _wait_all(procs, RUN_TIMEOUT_S)
    wall = time.perf_counter() - t0
    per_worker: list[int] = []
    for code, _out, err in results:
        if code != 0:
            raise RuntimeError(f"agenthub worker exit {code}: {err.strip()[-800:]}")
        found = re.search(r"(\d+) jobs completed", err)
        per_worker.append(int(found.group(1)) if found else -1)
    with cluster.connect(name) as conn:
        done, last_end = conn.execute(
            "SELECT count(*), max(ended_at) FROM instances WHERE status = 'completed'").fetchone()
        first_job, jobs = conn.execute(
            "SELECT min(at), count(*) FROM journal WHERE type = 'job_completed' AND at >= %s", (launch_ms,)).fetchone()
        left = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    if done != n:
        raise RuntimeError(f"{done} of {n} instances completed after the workers stopped ({left} job rows left)")
    active = (int(last_end) - int(first_job)) / 1000
    return {"processes": processes, "n": n, "jobs": int(jobs), "wall_s": wall, "active_s": active,
            "inst_per_s": n / active, "jobs_per_s": int(jobs) / active, "per_worker_jobs": per_worker,
            "start_per_s": started["per_s"], "pg": sampler.summary(), "claim_plan": claim_plan,
            "claim_sweep": sweep}


# ---------------------------------------------------------------------------------------------------------------
# part 2: cost per step against store size
# ---------------------------------------------------------------------------------------------------------------


class _Key:
    """A key of the template instance, as its offset from the instance key."""

    def __init__(self, offset: int) -> None:
        self.offset = offset


_MARK = re.compile(r'"\\u0000K(\d+)\\u0000"')


def _mark_keys(value: Any, keys: set[int], lo: int, skip: frozenset[str] = frozenset({"variables"})) -> Any:
    """``value`` with every int that is one of the template's keys replaced by a marker (variable values kept)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _Key(value - lo) if value in keys else value
    if isinstance(value, list):
        return [_mark_keys(v, keys, lo, skip) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in skip else _mark_keys(v, keys, lo, skip)) for k, v in value.items()}
    return value


def _template_sql(value: Any, quote: Any) -> str:
    """A SQL expression that renders ``value`` (with key markers) as the engine's compact JSON for base ``kb``."""

    def default(obj: Any) -> str:
        if isinstance(obj, _Key):
            return f"\x00K{obj.offset}\x00"
        raise TypeError(type(obj).__name__)

    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)
    parts: list[str] = []
    pos = 0
    for found in _MARK.finditer(text):
        parts.append(quote(text[pos:found.start()]))
        parts.append(f"(s.kb + {int(found.group(1))})")
        pos = found.end()
    parts.append(quote(text[pos:]))
    return "concat(" + ", ".join(parts) + ")"


@dataclass
class Template:
    """A finished instance and its journal, as SQL expressions over ``s.g`` (copy number) and ``s.kb`` (key base)."""

    key: int
    stride: int
    instance_sql: str
    journal_sql: str
    journal_rows: int


def build_template(conn: Any, key: int) -> Template:
    from psycopg import sql

    def quote(text: str) -> str:
        return sql.Literal(text).as_string(conn)

    row = conn.execute("SELECT process_id, definition_key, version, status, incidents, parent_instance, created_at, "
                       "ended_at, rev, state FROM instances WHERE key = %s", (key,)).fetchone()
    process_id, definition_key, version, status, incidents, parent, created_at, ended_at, rev, state_text = row
    journal = conn.execute("SELECT type, element_id, element_instance, data, at FROM journal WHERE instance_key = %s "
                           "ORDER BY id", (key,)).fetchall()
    state = json.loads(state_text)
    keys = {int(state["key"]), int(state["root"]), *(int(v[0]) for v in state["variables"])}
    for element in state["elements"]:
        keys.update(int(element[k]) for k in ("key", "parent", "job", "user_task") if element.get(k) is not None)
    for _type, _element, element_instance, data, _at in journal:
        if element_instance is not None:
            keys.add(int(element_instance))
        if data:
            keys.update(int(v) for k, v in json.loads(data).items() if k in ("job", "scope") and isinstance(v, int))
    lo, hi = min(keys), max(keys)
    if lo != key:
        raise RuntimeError(f"template instance {key}: a key below the instance key ({lo}): keys {sorted(keys)}")
    stride = hi - lo + 1
    marked = _mark_keys(state, keys, lo)
    marked["variables"] = [[_mark_keys(scope, keys, lo), values] for scope, values in state["variables"]]
    if parent is not None or incidents:
        raise RuntimeError("the template instance must be a finished root instance without incidents")
    created, ended = int(created_at), int(ended_at)
    instance_sql = (
        f"SELECT s.kb, {quote(process_id)}, {int(definition_key)}, {int(version)}, {quote(status)}, 0, NULL, "
        f"{created} - (s.last - s.g) * 40, {ended} - (s.last - s.g) * 40, {int(rev)}, "
        f"{_template_sql(marked, quote)} FROM s"
    )
    values: list[str] = []
    cases: list[str] = []
    for j, (type_, element_id, element_instance, data, at) in enumerate(journal):
        offset = "NULL" if element_instance is None else str(int(element_instance) - lo)
        values.append(f"({j}, {quote(type_)}, {quote(element_id) if element_id else 'NULL'}, {offset}::bigint, "
                      f"{int(at)}::bigint)")
        cases.append(f"WHEN {j} THEN " + (_template_sql(_mark_keys(json.loads(data), keys, lo), quote) if data
                                          else "NULL"))
    journal_sql = (
        "SELECT s.kb, t.type, t.element_id, s.kb + t.eoff, CASE t.j " + " ".join(cases) + " END, "
        "t.at - (s.last - s.g) * 40 FROM s CROSS JOIN (VALUES " + ", ".join(values) + ") AS t(j, type, element_id, "
        "eoff, at) ORDER BY s.g, t.j"
    )
    return Template(key=key, stride=stride, instance_sql=instance_sql, journal_sql=journal_sql,
                    journal_rows=len(journal))


def fill(cluster: Cluster, database: str, template: Template, count: int) -> float:
    """Add ``count`` finished copies of the template instance, by bulk SQL; returns seconds taken."""
    t0 = time.perf_counter()
    with cluster.connect(database) as conn:
        conn.execute("SET work_mem = '256MB'")  # the journal rows are sorted by instance: keep that sort in memory
        end = int(conn.execute("UPDATE key_blocks SET next_key = next_key + %s WHERE name = 'keys' RETURNING next_key",
                               (count * template.stride,)).fetchone()[0])
        base = end - count * template.stride  # keys [base, end) are ours: no engine process will hand them out
        done = 0
        while done < count:
            chunk = min(FILL_CHUNK, count - done)
            cte = (f"WITH s AS (SELECT g, {count - 1} AS last, {base} + g * {template.stride} AS kb "
                   f"FROM generate_series({done}, {done + chunk - 1}) AS g) ")
            with conn.transaction():
                conn.execute(cte + "INSERT INTO instances (key, process_id, definition_key, version, status, incidents,"
                             " parent_instance, created_at, ended_at, rev, state) " + template.instance_sql)
                conn.execute(cte + "INSERT INTO journal (instance_key, type, element_id, element_instance, data, at) "
                             + template.journal_sql)
            done += chunk
            log(f"    filled {done:,}/{count:,} ({time.perf_counter() - t0:.0f} s)")
        log("    VACUUM ANALYZE ...")
        conn.execute("VACUUM (ANALYZE) instances")
        conn.execute("VACUUM (ANALYZE) journal")
        conn.execute("VACUUM (ANALYZE) jobs")
    return time.perf_counter() - t0


def _read_log(cluster: Cluster, offset: int) -> str:
    with cluster.log.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", errors="replace")


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def parse_auto_explain(text: str) -> list[tuple[str, str]]:
    """(query text, plan) for every auto_explain entry in a stretch of the server log."""
    entries: list[tuple[str, str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if _LOG_LINE.match(line):
            if current is not None:
                entries.append(_split_entry(current))
            current = [] if "plan:" in line and "duration:" in line else None
        elif current is not None:
            current.append(line)
    if current is not None:
        entries.append(_split_entry(current))
    return entries


def _split_entry(lines: list[str]) -> tuple[str, str]:
    """An auto_explain entry: the query text (which may span lines), then the plan from its first costed node."""
    first = next((i for i, line in enumerate(lines) if "(cost=" in line), len(lines))
    query = " ".join(line.strip() for line in lines[:first] if line.strip())
    if query.startswith("Query Text:"):
        query = query[len("Query Text:"):].strip()
    return query, "\n".join(line.rstrip() for line in lines[first:])


def _normalize(query: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\b\d+\b|\$\d+|'[^']*'", "?", query)).strip()


def capture_plans(cluster: Cluster, database: str, *args: str) -> list[tuple[str, str]]:
    """Run ``--one ARGS`` with auto_explain (ANALYZE, BUFFERS) on for its sessions; the plans PostgreSQL used."""
    with cluster.connect("postgres") as conn:
        for setting in ("session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0",
                        "auto_explain.log_analyze = on", "auto_explain.log_buffers = on",
                        "auto_explain.log_timing = on"):
            conn.execute(f'ALTER DATABASE "{database}" SET {setting}')
    offset = cluster.log.stat().st_size
    try:
        one(*args)
    finally:
        with cluster.connect("postgres") as conn:
            conn.execute(f'ALTER DATABASE "{database}" RESET ALL')
    return parse_auto_explain(_read_log(cluster, offset))


def summarize_plans(entries: list[tuple[str, str]]) -> dict[str, Any]:
    """Distinct statements, the scans each used, and the plans of the claim and the instance load."""
    statements: dict[str, dict[str, Any]] = {}
    for query, plan in entries:
        norm = _normalize(query)
        if not norm or norm.upper().startswith(("BEGIN", "COMMIT", "SHOW", "SELECT PG_", "SET ")):
            continue
        info = statements.setdefault(norm, {"query": query, "plan": plan, "count": 0, "scans": set()})
        info["count"] += 1
        for found in re.finditer(r"((?:Parallel )?(?:Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan|"
                                 r"Bitmap Index Scan)(?: Backward)?(?: using \S+)?(?: on \S+)?)", plan):
            info["scans"].add(found.group(1))
    def pick(pattern: str) -> dict[str, Any] | None:
        for norm, info in statements.items():
            if re.search(pattern, norm):
                return info | {"norm": norm}
        return None

    seq = {norm: sorted(info["scans"]) for norm, info in statements.items()
           if any(s.startswith(("Seq Scan", "Parallel Seq Scan")) for s in info["scans"])}
    growing = {norm: scans for norm, scans in seq.items()
               if any(re.search(rf"Seq Scan on {table}\b", s) for s in scans for table in GROWING)}
    small = sorted({s.split(" on ")[-1] for scans in seq.values() for s in scans if "Seq Scan" in s} - set(GROWING))
    return {
        "statements": len(statements),
        "executions": sum(info["count"] for info in statements.values()),
        "seq_scans": seq,
        "seq_growing": growing,
        "seq_small": small,
        "claim": pick(r"FROM jobs WHERE \(\(state = 'ready'|FROM jobs WHERE \(\(state = \?"),
        "load": pick(r"SELECT state, rev FROM instances WHERE key = .* FOR UPDATE"),
        "load_unlocked": pick(r"^SELECT state, rev FROM instances WHERE key = \S+$"),
        "all": [(info["count"], norm[:110], ", ".join(sorted(info["scans"])) or "-")
                for norm, info in sorted(statements.items(), key=lambda kv: -kv[1]["count"])],
    }


def _store_stats(cluster: Cluster, database: str) -> dict[str, Any]:
    with cluster.connect(database) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM instances WHERE status = 'completed'), (SELECT count(*) FROM journal), "
            "pg_database_size(current_database()), pg_total_relation_size('instances'), "
            "pg_total_relation_size('journal')").fetchone()
    return {"finished": int(row[0]), "journal_rows": int(row[1]), "db_bytes": int(row[2]),
            "instances_bytes": int(row[3]), "journal_bytes": int(row[4])}


def _build_store(cluster: Cluster, name: str, target: int, level: dict[str, Any]) -> None:
    """A database holding ``target`` finished instances of scale_one: one real, the rest bulk copies of it."""
    url = cluster.create_database(name)
    seed = one("seed", url)
    with cluster.connect(name) as conn:
        template = build_template(conn, int(seed["instance"]))
    level["template_journal_rows"] = template.journal_rows
    log(f"  {name}: template instance {seed['instance']} ({seed['state']}, {template.journal_rows} journal rows, "
        f"{template.stride} keys); filling to {target:,} finished instances ...")
    level["fill_s"] = fill(cluster, name, template, target - 1)
    with cluster.connect(name) as conn:
        keys = [int(r[0]) for r in conn.execute(
            "(SELECT key FROM instances WHERE key > %s ORDER BY key LIMIT 1) UNION ALL "
            "(SELECT key FROM instances ORDER BY key DESC LIMIT 1)", (seed["instance"],)).fetchall()]
    one("verify", url, str(template.journal_rows), *(str(k) for k in keys))  # the engine reads them as its own
    level |= _store_stats(cluster, name)


def part_store(cluster: Cluster, sizes: Sizes, runs: int) -> dict[str, Any]:
    """Two databases, one per store size, built first; then the workload alternates between them, so that load
    from other processes drifting over time falls on both sizes alike."""
    levels: list[dict[str, Any]] = [{"target": t, "name": f"store_{t}", "runs": []} for t in sizes.store]
    for level in levels:
        try:
            _build_store(cluster, level["name"], level["target"], level)
        except Exception as exc:
            level["error"] = str(exc)[-1500:]
            log(f"  {level['name']}: FAILED {exc}")
    ready = [lv for lv in levels if "error" not in lv]
    for r in range(runs):
        for level in ready:
            try:
                with Sampler(cluster, level["name"]) as sampler:
                    measured = one("drive", cluster.url(level["name"]), str(sizes.workload))
                level["runs"].append(measured | {"pg": sampler.summary()})
                log(f"  store {level['target']:,}: run {r + 1}/{runs}: {measured['ms_per_inst']:.2f} ms/instance")
            except Exception as exc:
                level["error"] = str(exc)[-1500:]
                log(f"  store {level['target']:,}: run {r + 1}/{runs} FAILED {exc}")
    for level in ready:
        try:
            log(f"  store {level['target']:,}: capturing plans with auto_explain ...")
            level["plans"] = summarize_plans(capture_plans(cluster, level["name"], "drive", cluster.url(level["name"]),
                                                           str(min(sizes.workload, 50))))
        except Exception as exc:
            level["error"] = str(exc)[-1500:]
            log(f"  store {level['target']:,}: plan capture FAILED {exc}")
    for level in levels:
        with contextlib.suppress(Exception):
            cluster.drop_database(level["name"])
    journal_rows = next((lv["template_journal_rows"] for lv in levels if "template_journal_rows" in lv), 0)
    return {"template_journal_rows": journal_rows, "levels": levels}


# ---------------------------------------------------------------------------------------------------------------
# part 3: timers due in the same second
# ---------------------------------------------------------------------------------------------------------------


def part_timers(cluster: Cluster, sizes: Sizes) -> list[dict[str, Any]]:
    n = sizes.timers
    out: list[dict[str, Any]] = []
    cal = cluster.create_database("timers_cal")
    far = {"due": "2099-01-01T00:00:00Z"}
    calibration = one("start", cal, "scale_timer", "300", str(START_THREADS), json.dumps(far))
    cluster.drop_database("timers_cal")
    rate = float(calibration["per_s"])
    log(f"  timers: instances start at ~{rate:,.0f}/s here")
    for processes in sizes.timer_workers:
        name = f"timers_{processes}"
        try:
            out.append(_one_timer_run(cluster, name, n, processes, rate))
            log(f"  timers, {processes} process(es): all fired {out[-1]['last_after_due_s']:.2f} s after the due "
                f"second, {out[-1]['fires_per_s']:,.0f} fires/s")
        except Exception as exc:
            out.append({"processes": processes, "error": str(exc)[-800:]})
            log(f"  timers, {processes} process(es): FAILED {exc}")
        finally:
            with contextlib.suppress(Exception):
                cluster.drop_database(name)
    return out


def _one_timer_run(cluster: Cluster, name: str, n: int, processes: int, rate: float) -> dict[str, Any]:
    url = cluster.create_database(name)
    explain = processes == 1
    # creation time with a margin, the schema's creation, the plan capture, a worker's start-up
    lead = n / rate * 1.3 + 8.0 + (4.0 if explain else 0.0)
    due_ms = (int(time.time() + lead) + 1) * 1000
    due = _dt.datetime.fromtimestamp(due_ms / 1000, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    log(f"    creating {n:,} instances waiting until {due} ({lead:.0f} s ahead) ...")
    created = one("start", url, "scale_timer", str(n - 1), str(START_THREADS), json.dumps({"due": due}))
    with cluster.connect(name) as conn:
        timers, lo, hi = conn.execute("SELECT count(*), min(due_at), max(due_at) FROM timers").fetchone()
    if timers != n or lo != due_ms or hi != due_ms:
        raise RuntimeError(f"expected {n} timers all due at {due_ms}, found {timers} due {lo}..{hi}")
    plan = None
    if explain:  # fire_due_timers' select at the due second, in a transaction rolled back: nothing fires
        entries = capture_plans(cluster, name, "due-timers", url, str(due_ms), "100")
        plan = next(({"query": q, "plan": p} for q, p in entries if "FROM timers" in q and "due_at" in q), None)
    overran = time.time() * 1000 > due_ms - 1500
    log(f"    created in {created['elapsed_s']:.1f} s; {processes} timer worker process(es) wait for the due second")
    command = [sys.executable, str(Path(__file__).resolve()), "--one", "timer-worker", url, str(due_ms)]
    procs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    time.sleep(max(0.0, due_ms / 1000 - time.time()))  # sample from the due second on
    with Sampler(cluster, name) as sampler:
        results = _wait_all(procs, RUN_TIMEOUT_S)
    workers = []
    for code, out, err in results:
        if code != 0 or not out.strip():
            raise RuntimeError(f"timer worker exit {code}: {err.strip()[-800:]}")
        workers.append(json.loads(out.strip().splitlines()[-1]))
    with cluster.connect(name) as conn:
        done, first, last = conn.execute(
            "SELECT count(*), min(ended_at), max(ended_at) FROM instances WHERE status = 'completed'").fetchone()
        left = conn.execute("SELECT count(*) FROM timers").fetchone()[0]
        active = conn.execute("SELECT count(*) FROM instances WHERE status = 'active'").fetchone()[0]
    if done != n or left != 0:
        raise RuntimeError(f"{done} of {n} instances completed, {left} timers left, {active} still waiting")
    start_ms = max(due_ms, min(int(w["started_ms"]) for w in workers))
    all_done_ms = max(int(w["ended_ms"]) for w in workers)  # the last worker returned: every firing committed
    window = (all_done_ms - start_ms) / 1000
    return {"processes": processes, "n": n, "create_s": created["elapsed_s"], "overran": overran,
            "due_ms": due_ms, "first_after_due_ms": int(first) - due_ms,
            "last_fired_after_due_s": (int(last) - due_ms) / 1000,
            "last_after_due_s": (all_done_ms - due_ms) / 1000,
            "fires_per_s": n / window if window > 0 else None,
            "per_worker_fired": [int(w["fired"]) for w in workers], "pg": sampler.summary(), "due_plan": plan}


# ---------------------------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(headers)))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join(x.rstrip() for x in [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [float(r[key]) for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(values) if values else None


def _merged_waits(runs: list[dict[str, Any]]) -> Counter[str]:
    merged: Counter[str] = Counter()
    for r in runs:
        merged.update(r.get("pg", {}).get("waits", {}))
    return merged


def _pg(runs: list[dict[str, Any]]) -> str:
    """Wait profile over the runs: lock / WAL / other / CPU shares of active backends; median machine CPU use."""
    pgs = [r["pg"] for r in runs if "pg" in r]
    if not pgs:
        return "-"
    shares = wait_profile(_merged_waits(runs))
    busy = [p["cpu_busy"] for p in pgs if p.get("cpu_busy") is not None]
    machine = f"{statistics.median(busy):.0%}" if busy else "-"
    return (f"{shares['lock']:.0%} / {shares['wal']:.0%} / {shares['client']:.0%} / {shares['other']:.0%} / "
            f"{shares['cpu']:.0%}  {machine}")


def _top_waits(runs: list[dict[str, Any]], count: int = 4) -> str:
    merged = _merged_waits(runs)
    seen = sum(merged.values())
    return ", ".join(f"{k} {v / seen:.0%}" for k, v in merged.most_common(count)) if seen else "-"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


def render(sizes: Sizes, runs: int, cluster: Cluster, parts: dict[str, Any], total_s: float,
           load: tuple[float, float]) -> str:
    out: list[str] = []
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count() or 0
    out.append(f"# agenthub scale-out benchmark  {now}  python {platform.python_version()}  PostgreSQL "
               f"{cluster.version}  {cores} cores  {platform.machine()}  fsync=on synchronous_commit=on, "
               "127.0.0.1")
    out.append(f"# load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}: other processes skew absolute "
               "numbers; the ratios come from the same run")
    out.append(f"# this machine has {cores} cores: the worker processes, their handler threads and the PostgreSQL "
               "backends share them, so scaling past 2 processes is bounded by CPU")
    out.append("")

    if "workers" in parts:
        results: list[dict[str, Any]] = parts["workers"]
        base = _median([r for r in results if r.get("processes") == 1], "inst_per_s")
        rows: list[list[str]] = []
        for processes in (1, 2, 3):
            mine = [r for r in results if r.get("processes") == processes and "error" not in r]
            errors = [r["error"] for r in results if r.get("processes") == processes and "error" in r]
            inst = _median(mine, "inst_per_s")
            split = " / ".join(str(j) for j in mine[0]["per_worker_jobs"]) if mine else "-"
            rows.append([
                str(processes), f"{len(mine)}/{len(mine) + len(errors)}", fmt(_median(mine, "active_s"), 1),
                fmt(_median(mine, "wall_s"), 1), fmt(inst, 1), fmt(_median(mine, "jobs_per_s"), 1),
                fmt(ratio(inst, base), 2) + "x" if ratio(inst, base) is not None else "-", split,
                _pg(mine) + (f"  ERROR {errors[0][:90]}" if errors else ""),
            ])
        out.append(f"== 1. Worker processes: {sizes.instances:,} instances of start -> A -> B -> end started up front "
                   f"(2 jobs each, handlers sleep 1.5 ms), then `agenthub worker --until-idle --concurrency "
                   f"{WORKER_CONCURRENCY}` x P ==")
        out.append(table(["P", "runs ok", "active s", "wall s", "inst/s", "jobs/s", "ratio to 1",
                          "jobs by worker (run 1)", "PG lock / WAL / client / other / CPU  machine CPU"], rows,
                         right={1, 2, 3, 4, 5, 6}))
        out.append("  active s: first job completion to last instance end, from the database (interpreter start-up "
                   "excluded); inst/s and jobs/s use it. wall s: launch to last exit. Medians of the runs.")
        out.append("  PG: of the backends of this database caught running a statement (pg_stat_activity every 50 ms),"
                   " the share waiting on a heavyweight lock (Lock:*, a convoy shows here), on WAL (IO:WAL*, "
                   "LWLock:WAL*: the commit flush), on the client (Client:ClientRead inside a statement's protocol "
                   "exchange: the Python process is the bottleneck), on anything else, or running (CPU); machine CPU: "
                   "/proc/stat busy share of all cores over the run.")
        for processes in (1, 2, 3):
            mine = [r for r in results if r.get("processes") == processes and "error" not in r]
            out.append(f"  top waits, P={processes}: {_top_waits(mine)}")
        plan = next((r["claim_plan"] for r in results if r.get("claim_plan")), None)
        if plan is not None:
            out.append(f"  the job claim against a backlog of {sizes.instances:,} ready jobs (auto_explain, ANALYZE, "
                       f"BUFFERS; before the workers start): {plan['query'][:300]}")
            out.extend("     " + line.strip("\t").rstrip() for line in plan["plan"].splitlines() if line.strip())
        sweep = next((r["claim_sweep"] for r in results if r.get("claim_sweep")), None)
        if sweep:
            out.append("  the same claim statement (the logged text, parameters as literals) against a growing "
                       "backlog of due jobs of its type, EXPLAIN ANALYZE, median of 3 (synthetic rows beyond the "
                       "real ones, rolled back):")
            out.append("\n".join("    " + line for line in table(
                ["due jobs", "claim ms", "plan"],
                [[f"{s['backlog']:,}", fmt(s.get("ms"), 2), s.get("nodes", s.get("error", ""))] for s in sweep],
                right={0, 1}).splitlines()))
        out.append("")

    if "store" in parts:
        store: dict[str, Any] = parts["store"]
        levels: list[dict[str, Any]] = store["levels"]
        small = _median(levels[0].get("runs", []), "ms_per_inst") if levels else None
        rows = []
        for level in levels:
            level_runs = level.get("runs", [])
            ms = _median(level_runs, "ms_per_inst")
            rows.append([
                f"{level.get('finished', level['target']):,}", f"{level.get('journal_rows', 0):,}",
                _mib(level.get("db_bytes")), fmt(level.get("fill_s"), 0), fmt(ms, 2),
                fmt(_median(level_runs, "start_ms"), 2), fmt(_median(level_runs, "job_ms"), 2),
                fmt(ratio(ms, small), 2), _pg(level_runs) + (f"  ERROR {level['error'][:120]}" if "error" in level
                                                             else ""),
            ])
        out.append(f"== 2. Cost per step against store size: {sizes.workload} instances of start -> service task -> "
                   f"end (start, then activate_jobs(32)/complete_job, one process), median of {sizes.store_runs} ==")
        out.append(table(["finished instances", "journal rows", "database", "fill s", "ms/instance", "start ms",
                          "job ms", "ratio", "PG lock / WAL / client / other / CPU  machine CPU"], rows,
                         right=set(range(0, 8))))
        out.append("  finished instances: bulk copies of a real finished scale_one instance "
                   f"({store['template_journal_rows']} journal rows each), plus the workloads' own. "
                   "ratio = ms/instance / the first size's; target about 1.0 (flat).")
        for level in levels:
            plans = level.get("plans")
            if not plans:
                continue
            growing = plans["seq_growing"]
            out.append(f"  plans at {level.get('finished', level['target']):,} finished instances (auto_explain, "
                       f"{plans['executions']} executions of {plans['statements']} distinct statements): "
                       + ("no sequential scan of a table that grows with history (" + ", ".join(GROWING) + ")"
                          if not growing else f"SEQUENTIAL SCAN of a growing table in {len(growing)} statement(s)")
                       + (f"; seq scans only of small tables: {', '.join(plans['seq_small'])}"
                          if plans["seq_small"] else ""))
            for norm, scans in growing.items():
                out.append(f"    seq scan: {norm[:150]}  [{', '.join(scans)}]")
        last = next((lv for lv in reversed(levels) if lv.get("plans")), None)
        if last is not None:
            plans = last["plans"]
            out.append("")
            out.append(f"  EXPLAIN (ANALYZE, BUFFERS) as auto_explain logged them, at "
                       f"{last.get('finished', last['target']):,} finished instances:")
            for title, info in (("job claim", plans["claim"]), ("instance load (FOR UPDATE)", plans["load"]),
                                ("instance load (read only, activate_jobs)", plans["load_unlocked"])):
                if info is None:
                    out.append(f"  -- {title}: not seen in the log")
                    continue
                out.append(f"  -- {title} ({info['count']} executions): {info['query'][:400]}")
                out.extend("     " + line.strip("\t").rstrip() for line in info["plan"].splitlines() if line.strip())
            out.append("")
            out.append("  every statement of the workload (executions, normalized text, scans):")
            out.append("\n".join(f"    {count:5d}  {norm}  [{scans}]" for count, norm, scans in plans["all"]))
        out.append("")

    if "timers" in parts:
        results = parts["timers"]
        base_fires = next((r.get("fires_per_s") for r in results if r.get("processes") == 1), None)
        rows = []
        for r in results:
            if "error" in r:
                rows.append([str(r["processes"]), "-", "-", "-", "-", "-", "-", "-", "-", f"ERROR {r['error'][:120]}"])
                continue
            rows.append([
                str(r["processes"]), f"{r['n']:,}", fmt(r["create_s"], 1), f"{r['first_after_due_ms']:,} ms",
                f"{r['last_fired_after_due_s']:.2f} s", f"{r['last_after_due_s']:.2f} s"
                + (" (overran)" if r["overran"] else ""), fmt(r["fires_per_s"], 0),
                fmt(ratio(r["fires_per_s"], base_fires), 2) + "x" if ratio(r["fires_per_s"], base_fires) else "-",
                " / ".join(str(f) for f in r["per_worker_fired"]), _pg([r]),
            ])
        out.append(f"== 3. Timers: {sizes.timers:,} instances waiting at a timer catch event, all due in the same "
                   "second; P worker processes fire them (start -> timer -> end) ==")
        out.append(table(["P", "timers", "create s", "first fired", "last fired", "all committed", "fires/s",
                          "ratio to 1", "fired by worker", "PG lock / WAL / client / other / CPU  machine CPU"], rows,
                         right={1, 2, 3, 4, 5, 6, 7}))
        out.append("  first/last fired: instances.ended_at (the time the firing transaction began) minus the due "
                   "second; all committed: the last worker process returned (its last firing committed, nothing due) "
                   "minus the due second; fires/s = timers / all committed. Each worker imports and connects before "
                   "the due second and runs WorkerLoop(...).run(until_idle=True): fire_due_timers, 100 timers a "
                   "transaction.")
        for r in results:
            if "error" not in r:
                out.append(f"  top waits, P={r['processes']}: {_top_waits([r])}")
        plan = next((r["due_plan"] for r in results if r.get("due_plan")), None)
        if plan is not None:
            out.append(f"  the due-timer select of fire_due_timers with {sizes.timers:,} timers due (auto_explain, "
                       f"ANALYZE, BUFFERS; rolled back): {plan['query'][:300]}")
            out.extend("     " + line.strip("\t").rstrip() for line in plan["plan"].splitlines() if line.strip())
        out.append("")
    out.append(f"# total {total_s:.0f} s")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def cluster_at(keep: Path | None) -> Iterator[Cluster]:
    bindir = server_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's 'postgresql' package")
    if os.geteuid() == 0:
        ensure_postgres_user()
    if keep is not None:
        keep = keep.resolve()
        if keep.exists() and any(keep.iterdir()):
            raise SystemExit(f"--keep-cluster {keep}: the directory is not empty")
        keep.mkdir(parents=True, exist_ok=True)
        root = keep
    else:
        root = Path(tempfile.mkdtemp(prefix="agenthub-scale-pg-"))
    cluster = Cluster(bindir, root, keep is not None)
    try:
        log(f"starting PostgreSQL ({bindir}) in {root} ...")
        cluster.start()
        log(f"PostgreSQL {cluster.version} on 127.0.0.1:{cluster.port}")
        yield cluster
    finally:
        cluster.stop()
        if keep is not None:
            log(f"cluster kept in {root} (stopped); start it with: pg_ctl start -D {cluster.data} -l {cluster.log} "
                "-o '-p PORT'" + (" (as postgres: runuser -u postgres -- ...)" if cluster.as_postgres else ""))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        worker_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each: a smoke test (< 3 min)")
    parser.add_argument("--keep-cluster", type=Path, default=None, metavar="DIR",
                        help="build the cluster in DIR (empty or new) and leave it there, stopped")
    parser.add_argument("--runs", type=int, default=None, help="runs of part 1 (median; default 3, 1 if --quick)")
    parser.add_argument("--only", action="append", choices=["workers", "store", "timers"], default=None,
                        help="run only this part (repeatable)")
    parser.add_argument("--json", type=Path, default=None, help="also write every run's raw results here")
    opts = parser.parse_args(argv)
    sizes = QUICK if opts.quick else FULL
    runs = opts.runs or sizes.runs
    chosen = opts.only or ["workers", "store", "timers"]
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    parts: dict[str, Any] = {}
    with cluster_at(opts.keep_cluster) as cluster:
        if "workers" in chosen:
            log(f"== part 1: worker processes, {sizes.instances:,} instances, {runs} run(s) each ==")
            parts["workers"] = part_workers(cluster, sizes, runs)
        if "store" in chosen:
            log(f"== part 2: store size {sizes.store[0]:,} vs {sizes.store[1]:,} finished instances ==")
            parts["store"] = part_store(cluster, sizes, sizes.store_runs)
        if "timers" in chosen:
            log(f"== part 3: {sizes.timers:,} timers due in the same second ==")
            parts["timers"] = part_timers(cluster, sizes)
        report = render(sizes, runs, cluster, parts, time.perf_counter() - started, (load_before, os.getloadavg()[0]))
    print(report)
    if opts.json:
        opts.json.write_text(json.dumps(parts, indent=1, default=sorted))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
