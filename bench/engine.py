"""Engine benchmark: instances/s with durable SQLite commits, beside SpiffWorkflow and the raw SQLite commit rate.

Usage:
  .venv/bin/python bench/engine.py [--quick] [--runs 3] [--no-peer] [--spiff-python PATH] [--peers DIR] [--tmp DIR]

What it measures (every measurement in a fresh subprocess, the median of ``--runs`` runs):

  straight    (a) start -> FEEL script -> exclusive gateway (FEEL) -> service task (Python worker) -> end.
              ``engine.start`` for N instances, then the jobs: by ``WorkerLoop(...).run(until_idle=True)``
              (the headline) and by ``activate_jobs``/``complete_job`` directly, 32 jobs a claim; and by 16
              callers starting instances at once on threads while one worker loop (concurrency 16) runs the jobs:
              the callers' starts commit in groups and the loop's reports too (``callers``, group commit).
  parallel10  (b) a parallel split into 10 FEEL script tasks and a join (one ``engine.start`` each).
  mi100       (c) a 100-item parallel multi-instance FEEL script task (one ``engine.start`` each).
  usertask    (d) start -> user task -> end: N starts, then N ``complete_user_task``.
  memory      10,000 instances waiting at a user task: RSS before/after, the database on disk,
              then RSS after completing 1,000 of them.
  floor       raw SQLite INSERT + COMMIT per second on a file in the same temp dir as the engine's database.

Each engine scenario runs with SQLite in WAL mode and ``synchronous=FULL`` and ``NORMAL``. Engine transactions
are counted exactly by wrapping ``engine.store.transaction``: a transaction that changed rows is a durable
commit, one that changed none (readers, a claim that found nothing) is counted apart.

The SpiffWorkflow 3.2.0 peer (``../shared/peers/bench_spiff.py``) runs in its own virtual environment outside
the repository (``~/.cache/agenthub-bench/spiff-venv``, created once, or ``--spiff-python``).

A worker run is ``bench/engine.py --one KIND ARGS...`` and prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named engine.py: keep its folder off sys.path so that ``import engine`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from engine import Engine

MODELS = HERE / "models"
DEFAULT_PEERS = ROOT.parent / "shared" / "peers"
SPIFF_VERSION = "3.2.0"
SPIFF_VENV = Path.home() / ".cache" / "agenthub-bench" / "spiff-venv"
SYNCS = ("FULL", "NORMAL")
JOB_TYPE = "bench-work"
DIRECT_BATCH = 32
CALLERS = 16  # threads starting instances at once in the ``callers`` driver (REST or MCP clients in a hub)
PEER_TIMEOUT_S = 900
WORKER_TIMEOUT_S = 900


# ---------------------------------------------------------------------------------------------------------------
# worker side: one measurement, one JSON line
# ---------------------------------------------------------------------------------------------------------------


def _rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


@dataclass
class TxCounter:
    """Counts the engine's transactions: committed with changes, committed without, rolled back."""

    writes: int = 0
    empty: int = 0
    rolled_back: int = 0

    def install(self, engine: Engine) -> None:
        store = engine.store
        original = store.transaction

        @contextlib.contextmanager
        def counted() -> Iterator[Any]:
            with original() as tx:
                raw: Any = tx.conn.connection.dbapi_connection
                before = raw.total_changes
                try:
                    yield tx
                except BaseException:
                    self.rolled_back += 1
                    raise
                if raw.total_changes != before:
                    self.writes += 1
                else:
                    self.empty += 1

        store.transaction = counted  # type: ignore[method-assign]

    def snapshot(self) -> tuple[int, int, int]:
        return self.writes, self.empty, self.rolled_back


@contextlib.contextmanager
def _engine_at(tmp: Path, sync: str) -> Iterator[tuple[Engine, Path]]:
    from engine import Engine

    work = Path(tempfile.mkdtemp(prefix="agenthub-bench-", dir=tmp))
    db = work / "engine.db"
    engine = Engine.open(f"sqlite:///{db}", synchronous=sync)
    try:
        yield engine, db
    finally:
        engine.close()
        shutil.rmtree(work, ignore_errors=True)


def _deploy(engine: Engine, model: str) -> str:
    path = MODELS / f"{model}.bpmn"
    return engine.deploy([(path.name, path.read_bytes())])[0].process_id


def _registry() -> Any:
    from engine import Job, WorkerRegistry, worker

    registry = WorkerRegistry()

    @worker(JOB_TYPE, registry=registry)
    def work(job: Job) -> dict[str, Any]:
        return {"y": job.variables["x"] + 1}

    return registry


def _drain_direct(engine: Engine, registry: Any) -> int:
    from engine import Job

    handler = registry.handlers[JOB_TYPE]
    done = 0
    while True:
        jobs = engine.activate_jobs([JOB_TYPE], "bench-direct", max_jobs=DIRECT_BATCH)
        if not jobs:
            return done
        for job in jobs:
            arg = Job(job.key, job.type, dict(job.variables), dict(job.headers), job.retries, job.instance,
                      job.element_id, job.process_id)
            engine.complete_job(job.key, handler(arg), worker=job.worker, lock_version=job.lock_version)
            done += 1


def _callers(engine: Engine, registry: Any, process_id: str, count: int) -> list[int]:
    """``count`` starts from ``CALLERS`` threads at once while a worker loop runs the jobs; then it drains the rest."""
    from engine import WorkerLoop, WorkerSettings

    settings = WorkerSettings(poll_interval_s=0.01, concurrency=CALLERS)
    loop = WorkerLoop(engine, registry, name="bench-callers", settings=settings)
    running = threading.Thread(target=loop.run, name="bench-loop")
    running.start()
    try:
        with ThreadPoolExecutor(CALLERS, thread_name_prefix="bench-caller") as pool:
            keys = list(pool.map(lambda _: engine.start(process_id).key, range(count)))
    finally:
        loop.stop()  # reports what runs and hands back what it holds; the second loop runs whatever is left
        running.join()
    WorkerLoop(engine, registry, name="bench-callers", settings=settings).run(until_idle=True)
    return keys


def _journal_rows(engine: Engine) -> int:
    with engine.store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM journal").scalar_one())


def run_engine(scenario: str, sync: str, n: int, driver: str, tmp: Path) -> dict[str, Any]:
    from sqlalchemy import event

    from engine import WorkerLoop, WorkerSettings

    model = "usertask" if scenario == "usertask" else scenario
    with _engine_at(tmp, sync) as (engine, _db):
        process_id = _deploy(engine, model)
        registry = _registry()
        settings = WorkerSettings(poll_interval_s=0.01)

        def one_round(count: int) -> list[int]:
            if driver == "callers":
                return _callers(engine, registry, process_id, count)
            keys = [engine.start(process_id).key for _ in range(count)]
            if scenario == "straight":
                if driver == "loop":
                    WorkerLoop(engine, registry, name="bench-loop", settings=settings).run(until_idle=True)
                else:
                    _drain_direct(engine, registry)
            elif scenario == "usertask":
                left = count
                while left:
                    tasks = engine.user_tasks(limit=min(left, 1000))
                    for task in tasks:
                        engine.complete_user_task(task.key, {"approved": True})
                    left -= len(tasks)
            return keys

        one_round(1)  # warm-up, not timed: first evaluation of each expression, first key block
        counter = TxCounter()
        counter.install(engine)
        statements = [0]

        def count_statement(*_args: Any) -> None:
            statements[0] += 1

        journal_before = _journal_rows(engine)
        # The store runs its hot statements on the driver's cursor, past SQLAlchemy's events: count them where
        # SQLite sees them, with a trace callback on every connection a transaction begins on (the SQLite writer's
        # stays checked out between transactions, so a checkout is not where to look).
        traced: dict[int, Any] = {}

        def trace(conn: Any) -> None:
            dbapi_connection = conn.connection.dbapi_connection
            if id(dbapi_connection) not in traced:
                dbapi_connection.set_trace_callback(count_statement)
                traced[id(dbapi_connection)] = dbapi_connection

        event.listen(engine.store.engine, "begin", trace)
        gc.collect()
        t0 = time.perf_counter()
        keys = one_round(n)
        elapsed = time.perf_counter() - t0
        event.remove(engine.store.engine, "begin", trace)
        for dbapi_connection in traced.values():
            dbapi_connection.set_trace_callback(None)
        journal_rows = _journal_rows(engine) - journal_before
        writes, empty, rolled_back = counter.snapshot()
        with engine.store.engine.connect() as conn:
            done = int(conn.exec_driver_sql("SELECT count(*) FROM instances WHERE status = 'completed'").scalar_one())
        if done != n + 1:
            raise SystemExit(f"{scenario}: {done} of {n + 1} instances completed")
        last = engine.instance(keys[-1])
        if last.state != "completed":
            raise SystemExit(f"{scenario}: the last instance is {last.state}, not completed")
        check: Callable[[dict[str, Any]], bool] = {
            "straight": lambda v: v.get("y") == 2,
            "parallel10": lambda v: all(v.get(f"v{i}") == i for i in range(1, 11)),
            "mi100": lambda v: v.get("results") == [i * 2 for i in range(100)],
            "usertask": lambda v: v.get("approved") is True,
        }[scenario]
        if not check(last.variables):
            raise SystemExit(f"{scenario}: unexpected variables {last.variables}")
        durability = engine.store.durability()
    return {
        "kind": "engine",
        "scenario": scenario,
        "sync": sync,
        "driver": driver,
        "n": n,
        "elapsed_s": elapsed,
        "inst_per_s": n / elapsed,
        "tx_writes": writes,
        "tx_empty": empty,
        "tx_rolled_back": rolled_back,
        "tx_per_inst": writes / n,
        "tx_per_s": writes / elapsed,
        "statements_per_inst": statements[0] / n,
        "journal_rows_per_inst": journal_rows / n,
        "durability": durability,
        "peak_rss_mb": round(_peak_rss_mib(), 1),
    }


def _count_waiting(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM user_tasks WHERE state = 'created'").fetchone()[0])
    finally:
        con.close()


def run_memory(n_wait: int, n_complete: int, sync: str, tmp: Path) -> dict[str, Any]:
    """Start ``n_wait`` instances that wait at a user task; RSS (after gc) every quarter, disk, then complete some."""
    with _engine_at(tmp, sync) as (engine, db):
        process_id = _deploy(engine, "usertask")
        warm = engine.start(process_id)
        engine.complete_user_task(engine.user_tasks(instance=warm.key)[0].key, {"approved": True})
        gc.collect()
        rss_before = _rss_mib()
        disk_before = _db_bytes(db)
        checkpoints: list[tuple[int, float]] = [(0, rss_before)]
        quarter = max(n_wait // 4, 1)
        start_s = 0.0
        for i in range(1, n_wait + 1):
            t0 = time.perf_counter()
            engine.start(process_id)
            start_s += time.perf_counter() - t0
            if i % quarter == 0 or i == n_wait:
                gc.collect()
                checkpoints.append((i, _rss_mib()))
        rss_waiting = checkpoints[-1][1]
        disk_waiting = _db_bytes(db)
        waiting = _count_waiting(db)
        complete_s = 0.0
        completed = 0
        while completed < n_complete:
            keys = [t.key for t in engine.user_tasks(limit=min(100, n_complete - completed))]
            if not keys:
                break
            t0 = time.perf_counter()
            for key in keys:
                engine.complete_user_task(key, {"approved": True})
            complete_s += time.perf_counter() - t0
            completed += len(keys)
        del keys
        gc.collect()
        rss_completed = _rss_mib()
        durability = engine.store.durability()
    half = next(c for c in checkpoints if c[0] >= n_wait // 2)
    marginal = (rss_waiting - half[1]) * 2**20 / max(n_wait - half[0], 1)
    return {
        "kind": "memory",
        "sync": sync,
        "n_wait": n_wait,
        "n_waiting_seen": waiting,
        "n_complete": completed,
        "rss_before_mib": rss_before,
        "rss_waiting_mib": rss_waiting,
        "rss_completed_mib": rss_completed,
        "rss_checkpoints": checkpoints,
        "rss_growth_bytes_per_inst": (rss_waiting - rss_before) * 2**20 / n_wait,
        "rss_marginal_bytes_per_inst": marginal,
        "disk_before_bytes": disk_before,
        "disk_waiting_bytes": disk_waiting,
        "disk_bytes_per_inst": (disk_waiting - disk_before) / n_wait,
        "start_ms": start_s * 1000 / n_wait,
        "complete_ms": complete_s * 1000 / max(completed, 1),
        "durability": durability,
        "peak_rss_mb": round(_peak_rss_mib(), 1),
    }


def run_floor(journal: str, sync: str, n: int, tmp: Path) -> dict[str, Any]:
    """bench_sqlite_floor.py's measurement: single-row INSERT (100-byte payload) + COMMIT."""
    fd, name = tempfile.mkstemp(prefix="agenthub-floor-", suffix=".db", dir=tmp)
    os.close(fd)
    con = sqlite3.connect(name)
    try:
        con.execute(f"PRAGMA journal_mode={journal}")
        con.execute(f"PRAGMA synchronous={sync}")
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        con.commit()
        t0 = time.perf_counter()
        for i in range(n):
            con.execute("INSERT INTO t VALUES (?, ?)", (i, "x" * 100))
            con.commit()
        elapsed = time.perf_counter() - t0
        mode = str(con.execute("PRAGMA journal_mode").fetchone()[0]).upper()
    finally:
        con.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name + suffix)
    return {"kind": "floor", "journal": mode, "sync": sync, "n": n, "commits_per_s": n / elapsed}


def worker_main(args: list[str]) -> None:
    kind, rest = args[0], args[1:]
    tmp = Path(os.environ.get("AGENTHUB_BENCH_TMP") or tempfile.gettempdir())
    if kind == "engine":
        scenario, sync, n, driver = rest
        out = run_engine(scenario, sync, int(n), driver, tmp)
    elif kind == "memory":
        n_wait, n_complete, sync = rest
        out = run_memory(int(n_wait), int(n_complete), sync, tmp)
    elif kind == "floor":
        journal, sync, n = rest
        out = run_floor(journal, sync, int(n), tmp)
    else:
        raise SystemExit(f"unknown worker kind {kind!r}")
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Sizes:
    straight: int
    parallel10: int
    mi100: int
    usertask: int
    floor: int
    mem_wait: int
    mem_complete: int
    peer_straight: int
    peer_parallel10: int
    peer_mi100: int
    peer_user: int
    peer_rollback: int  # the peer's rollback-journal runs commit ~10x an instance at the disk's fsync rate: slow


FULL_SIZES = Sizes(
    straight=1000, parallel10=500, mi100=100, usertask=1000, floor=2000, mem_wait=10_000, mem_complete=1000,
    peer_straight=1000, peer_parallel10=300, peer_mi100=100, peer_user=1000, peer_rollback=300,
)
QUICK_SIZES = Sizes(
    straight=150, parallel10=50, mi100=10, usertask=150, floor=300, mem_wait=1000, mem_complete=100,
    peer_straight=100, peer_parallel10=30, peer_mi100=10, peer_user=100, peer_rollback=50,
)


@dataclass
class Measured:
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def median(self, key: str) -> float | None:
        values = [float(r[key]) for r in self.runs if isinstance(r.get(key), (int, float))]
        return statistics.median(values) if values else None

    def first(self, key: str) -> Any:
        return self.runs[0].get(key) if self.runs else None


class Runner:
    def __init__(self, runs: int, tmp: Path) -> None:
        self.runs = runs
        self.tmp = tmp
        self.env = dict(os.environ, AGENTHUB_BENCH_TMP=str(tmp), TMPDIR=str(tmp))

    def measure(self, label: str, command: list[str], runs: int | None = None, timeout: int = WORKER_TIMEOUT_S,
                cwd: Path | None = None) -> Measured:
        result = Measured()
        total = runs or self.runs
        for r in range(total):
            log(f"  {label}: run {r + 1}/{total} ...")
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=timeout,
                                      cwd=cwd or ROOT, check=False)
            except subprocess.TimeoutExpired:
                result.error = f"timed out after {timeout} s"
                log(f"  {label}: {result.error}")
                break
            lines = proc.stdout.strip().splitlines()
            if proc.returncode != 0 or not lines:
                result.error = f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-1500:]}"
                log(f"  {label}: FAILED {result.error}")
                break
            try:
                data = json.loads(lines[-1])
            except json.JSONDecodeError:
                result.error = f"no JSON result: {lines[-1][:300]}"
                log(f"  {label}: FAILED {result.error}")
                break
            result.runs.append(data)
            rate = data.get("inst_per_s") or data.get("commits_per_s")
            shown = f"{rate:,.0f}/s" if isinstance(rate, (int, float)) else ""
            log(f"  {label}: run {r + 1}/{total} {shown} in {time.perf_counter() - t0:.1f} s")
        return result

    def ours(self, label: str, *args: str, runs: int | None = None) -> Measured:
        return self.measure(label, [sys.executable, str(Path(__file__).resolve()), "--one", *args], runs=runs)


# --- the peer --------------------------------------------------------------------------------------------------


def _spiff_ok(python: Path) -> bool:
    if not python.exists():
        return False
    probe = "from importlib.metadata import version; import SpiffWorkflow; print(version('SpiffWorkflow'))"
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == SPIFF_VERSION


def spiff_python(given: str | None) -> tuple[Path | None, str]:
    """The python of a venv with SpiffWorkflow 3.2.0: the given one, or ~/.cache/agenthub-bench/spiff-venv."""
    if given:
        python = Path(given)
        if _spiff_ok(python):
            return python, f"--spiff-python {python}"
        return None, f"{python} cannot import SpiffWorkflow {SPIFF_VERSION}"
    python = SPIFF_VENV / "bin" / "python"
    marker = SPIFF_VENV / ".agenthub-bench-ok"
    if marker.exists() and _spiff_ok(python):
        return python, f"cached venv {SPIFF_VENV}"
    log(f"creating {SPIFF_VENV} with SpiffWorkflow=={SPIFF_VERSION} (once) ...")
    shutil.rmtree(SPIFF_VENV, ignore_errors=True)
    SPIFF_VENV.parent.mkdir(parents=True, exist_ok=True)
    base = shutil.which("python3") or sys.executable
    steps = [
        [base, "-m", "venv", str(SPIFF_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"SpiffWorkflow=={SPIFF_VERSION}"],
    ]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            shutil.rmtree(SPIFF_VENV, ignore_errors=True)
            return None, f"could not install SpiffWorkflow: {' '.join(step[:4])} failed: {proc.stderr.strip()[-500:]}"
    if not _spiff_ok(python):
        return None, f"{python} cannot import SpiffWorkflow {SPIFF_VERSION} after installing it"
    marker.write_text(f"SpiffWorkflow=={SPIFF_VERSION}\n")
    return python, f"new venv {SPIFF_VENV}"


# The peer script offers rollback journal + FULL and WAL + NORMAL. For WAL + FULL (our FULL setting) this shim
# runs its own run_one with the connection switched to synchronous=FULL after its open_db set WAL + NORMAL.
_WAL_FULL_SHIM = """
import json, sys
sys.path.insert(0, sys.argv[1])
import bench_spiff as b
_open = b.open_db
def open_db(wal):
    con, path = _open(wal)
    con.execute("PRAGMA synchronous=FULL")
    assert con.execute("PRAGMA synchronous").fetchone()[0] == 2
    return con, path
b.open_db = open_db
out = b.run_one(sys.argv[2], int(sys.argv[3]))
out["scenario"] += "+full"
print(json.dumps(out))
"""


# --- formatting ------------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def mark(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if value >= target else "MISS"


def table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(headers)))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                                  strict=True)))

    return "\n".join(x.rstrip() for x in [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


# --- main ------------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        worker_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N, one run: a smoke test")
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (median; default 3; 1 if --quick)")
    parser.add_argument("--no-peer", action="store_true", help="skip SpiffWorkflow")
    parser.add_argument("--spiff-python", help="python of a venv with SpiffWorkflow 3.2.0 (default: a cached venv)")
    parser.add_argument("--peers", type=Path, default=DEFAULT_PEERS, help=f"peer scripts (default {DEFAULT_PEERS})")
    parser.add_argument("--tmp", type=Path, default=None, help="where databases go (default: the system temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write every run's raw results here")
    opts = parser.parse_args(argv)

    sizes = QUICK_SIZES if opts.quick else FULL_SIZES
    runs = opts.runs or (1 if opts.quick else 3)
    tmp = (opts.tmp or Path(tempfile.gettempdir())).resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    runner = Runner(runs, tmp)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]

    # --- the peer, first: its venv may need creating --------------------------------------------------------
    peer: dict[str, Measured] = {}
    peer_note = "skipped (--no-peer)"
    spiff: Path | None = None
    if not opts.no_peer:
        script = opts.peers / "bench_spiff.py"
        if not script.exists():
            peer_note = f"not run: {script} is missing (give --peers DIR)"
        else:
            spiff, how = spiff_python(opts.spiff_python)
            peer_note = f"SpiffWorkflow {SPIFF_VERSION} via {how}" if spiff else f"not run: {how}"
    if spiff is not None:
        script = opts.peers / "bench_spiff.py"
        plan = [
            ("sql_straight_task", sizes.peer_rollback),
            ("sql_straight_task_wal", sizes.peer_straight),
            ("mem_straight", sizes.peer_straight),
            ("mem_parallel10", sizes.peer_parallel10),
            ("mem_mi100", sizes.peer_mi100),
            ("sql_user", sizes.peer_rollback),
            ("sql_user_wal", sizes.peer_user),
        ]
        for name, n in plan:
            peer[name] = runner.measure(f"peer {name} N={n}", [str(spiff), str(script), "--one", name, str(n)],
                                        timeout=PEER_TIMEOUT_S, cwd=opts.peers)
        n = sizes.peer_straight
        peer["sql_straight_task_wal+full"] = runner.measure(
            f"peer sql_straight_task WAL+FULL N={n}",
            [str(spiff), "-c", _WAL_FULL_SHIM, str(opts.peers), "sql_straight_task_wal", str(n)],
            timeout=PEER_TIMEOUT_S, cwd=opts.peers,
        )
    elif not opts.no_peer:
        log(f"NOTE: the SpiffWorkflow peer is {peer_note}; our numbers follow without it")

    # --- the physical limit ---------------------------------------------------------------------------------
    floor: dict[str, Measured] = {}
    for journal, sync in (("DELETE", "FULL"), ("WAL", "FULL"), ("WAL", "NORMAL")):
        floor[f"{journal}+{sync}"] = runner.ours(f"raw SQLite {journal}+{sync} N={sizes.floor}", "floor", journal,
                                                 sync, str(sizes.floor))

    # --- ours -------------------------------------------------------------------------------------------------
    plan_ours = [
        ("straight", "loop", sizes.straight),
        ("straight", "direct", sizes.straight),
        ("straight", "callers", sizes.straight),
        ("parallel10", "start", sizes.parallel10),
        ("mi100", "start", sizes.mi100),
        ("usertask", "start+complete", sizes.usertask),
    ]
    ours: dict[tuple[str, str, str], Measured] = {}
    for scenario, driver, n in plan_ours:
        for sync in SYNCS:
            ours[(scenario, driver, sync)] = runner.ours(f"engine {scenario} ({driver}) WAL+{sync} N={n}", "engine",
                                                         scenario, sync, str(n), driver)
    memory = runner.ours(f"engine memory: {sizes.mem_wait:,} waiting at a user task", "memory",
                         str(sizes.mem_wait), str(sizes.mem_complete), "NORMAL", runs=1)
    total_s = time.perf_counter() - started
    load = (load_before, os.getloadavg()[0])

    report = render(sizes, runs, tmp, peer_note, peer, floor, ours, plan_ours, memory, total_s, load)
    print(report)
    if opts.json:
        raw = {
            "peer": {k: v.runs for k, v in peer.items()},
            "floor": {k: v.runs for k, v in floor.items()},
            "ours": {"/".join(k): v.runs for k, v in ours.items()},
            "memory": memory.runs,
        }
        opts.json.write_text(json.dumps(raw, indent=1))
    return 0


def render(
    sizes: Sizes,
    runs: int,
    tmp: Path,
    peer_note: str,
    peer: dict[str, Measured],
    floor: dict[str, Measured],
    ours: dict[tuple[str, str, str], Measured],
    plan_ours: list[tuple[str, str, int]],
    memory: Measured,
    total_s: float,
    load: tuple[float, float],
) -> str:
    out: list[str] = []
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.append(
        f"# agenthub engine benchmark  {now}  python {platform.python_version()}  sqlite {sqlite3.sqlite_version}  "
        f"{os.cpu_count()} cores  {platform.machine()}  median of {runs} run(s)  databases in {tmp}"
    )
    out.append(f"# peer: {peer_note}")
    out.append(f"# load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}: other processes skew absolute "
               "numbers; the ratios come from the same run")
    out.append("")

    raw = {k: v.median("commits_per_s") for k, v in floor.items()}
    out.append(f"== Raw SQLite commits/s on this disk (single-row INSERT + COMMIT, N={sizes.floor}) ==")
    out.append(table(
        ["journal + synchronous", "commits/s"],
        [[k.replace("DELETE", "rollback journal (DELETE)").replace("+", " + "), fmt(v)] for k, v in raw.items()],
    ))
    out.append("")

    def inst(key: tuple[str, str, str]) -> float | None:
        return ours[key].median("inst_per_s") if key in ours else None

    rows: list[list[str]] = []
    for scenario, driver, n in plan_ours:
        full, normal = ours[(scenario, driver, "FULL")], ours[(scenario, driver, "NORMAL")]
        tx_full, tx_normal = full.median("tx_per_s"), normal.median("tx_per_s")
        r_full, r_normal = ratio(tx_full, raw["WAL+FULL"]), ratio(tx_normal, raw["WAL+NORMAL"])
        err = full.error or normal.error
        rows.append([
            scenario, driver, f"{n:,}",
            fmt(full.median("inst_per_s")), fmt(normal.median("inst_per_s")),
            fmt(full.median("tx_per_inst"), 2), fmt(full.median("statements_per_inst"), 1),
            fmt(full.median("journal_rows_per_inst"), 0),
            fmt(tx_full), f"{fmt(r_full, 2)} {mark(r_full, 0.5)}",
            fmt(tx_normal), f"{fmt(r_normal, 2)} {mark(r_normal, 0.5)}",
            fmt(full.median("peak_rss_mb"), 0) + (f"  ERROR {err[:80]}" if err else ""),
        ])
    out.append("== Engine, instances/s with durable SQLite commits (WAL; FULL and NORMAL) ==")
    out.append(table(
        ["scenario", "driver", "N", "FULL inst/s", "NORMAL inst/s", "commits/inst", "SQL/inst", "journal/inst",
         "FULL tx/s", "÷ raw WAL+FULL", "NORMAL tx/s", "÷ raw WAL+NORMAL", "peak RSS MiB"],
        rows, right=set(range(2, 13)),
    ))
    out.append("  commits/inst: engine transactions that changed rows, per instance, counted exactly (transactions "
               "that changed nothing, e.g. a claim that found no job, are not counted); tx/s = those commits per "
               "second.")
    out.append("  SQL/inst: statements sent to SQLite per instance (BEGIN included); journal/inst: journal rows "
               "written per instance.")
    out.append("  target: engine commits/s >= 0.5 x raw commits/s at the same setting.")
    out.append("")

    def p(name: str) -> float | None:
        return peer[name].median("inst_per_s") if name in peer else None

    straight_full, straight_normal = ("straight", "loop", "FULL"), ("straight", "loop", "NORMAL")
    comparisons: list[tuple[str, str, str, float | None, tuple[str, str, str]]] = [
        ("straight", "commit/task, WAL+FULL (shim: synchronous=FULL)",
         "sql_straight_task_wal+full", 3.0, straight_full),
        ("straight", "commit/task, WAL+NORMAL (peer's _wal)", "sql_straight_task_wal", 3.0,
         straight_normal),
        ("straight", "commit/task, rollback journal+FULL (default)", "sql_straight_task", None,
         straight_full),
        ("straight", "in memory, nothing persisted", "mem_straight", None, straight_normal),
        ("parallel10", "in memory, nothing persisted", "mem_parallel10", None,
         ("parallel10", "start", "FULL")),
        ("parallel10", "in memory, nothing persisted", "mem_parallel10", None,
         ("parallel10", "start", "NORMAL")),
        ("mi100", "in memory, nothing persisted", "mem_mi100", None, ("mi100", "start", "FULL")),
        ("mi100", "in memory, nothing persisted", "mem_mi100", None,
         ("mi100", "start", "NORMAL")),
        ("usertask", "2 commits/inst, rollback journal+FULL", "sql_user", None,
         ("usertask", "start+complete", "FULL")),
        ("usertask", "2 commits/inst, WAL+NORMAL", "sql_user_wal", None,
         ("usertask", "start+complete", "NORMAL")),
    ]
    rows = []
    for scenario, what, name, target, key in comparisons:
        ours_v, peer_v = inst(key), p(name)
        rv = ratio(ours_v, peer_v)
        err = peer[name].error if name in peer else None
        commits = ratio(peer[name].median("commits"), peer[name].median("n")) if name in peer else None
        rows.append([
            scenario, what, fmt(peer_v), fmt(commits, 1),
            f"{key[1]}, WAL+{key[2]}", fmt(ours_v), f"{fmt(rv, 1)}x" if rv is not None else "-",
            (f">= {target:g}x {mark(rv, target)}" if target else "") + (f"  ERROR {err[:60]}" if err else ""),
        ])
    out.append(f"== Against SpiffWorkflow {SPIFF_VERSION} (same machine, same temp dir; ratio = ours / peer) ==")
    out.append(table(["scenario", "peer measurement", "peer inst/s", "peer commits/inst", "ours", "ours inst/s",
                      "ratio", "target"], rows, right={2, 3, 5, 6}))
    out.append("")

    out.append("== SQLite durability as the engine's store reports it (SqlStore.durability()) ==")
    for sync in SYNCS:
        got = ours[("straight", "loop", sync)].first("durability")
        out.append(f"  Engine.open(..., synchronous={sync!r}) -> {got}")
    out.append("")

    m = memory.runs[0] if memory.runs else None
    out.append(f"== Memory: {sizes.mem_wait:,} instances waiting at a user task (one process, WAL + NORMAL) ==")
    if m is None:
        out.append(f"  not measured: {memory.error}")
    else:
        growth = m["rss_waiting_mib"] - m["rss_before_mib"]
        disk = (m["disk_waiting_bytes"] - m["disk_before_bytes"]) / 2**20
        share = ratio(m["rss_marginal_bytes_per_inst"], m["disk_bytes_per_inst"])
        verdict = "PASS" if share is not None and share <= 0.1 else "MISS"
        curve = ", ".join(f"{n:,}: {rss:.1f}" for n, rss in m["rss_checkpoints"])
        half = m["n_wait"] // 2
        out.append(table(["measure", "value"], [
            ["RSS after deploy + 1 instance", f"{m['rss_before_mib']:.1f} MiB"],
            [f"RSS with {m['n_waiting_seen']:,} waiting", f"{m['rss_waiting_mib']:.1f} MiB (+{growth:.1f} MiB, "
                                                         f"{m['rss_growth_bytes_per_inst']:,.0f} B/instance)"],
            ["RSS (MiB) by instances waiting", curve],
            [f"RSS per instance from {half:,} to {m['n_wait']:,}",
             f"{m['rss_marginal_bytes_per_inst']:,.1f} B/instance"],
            [f"RSS after completing {m['n_complete']:,}", f"{m['rss_completed_mib']:.1f} MiB"],
            ["database on disk (file + WAL)", f"{m['disk_waiting_bytes'] / 2**20:.1f} MiB (+{disk:.1f} MiB, "
                                              f"{m['disk_bytes_per_inst']:,.0f} B/instance)"],
            ["start, per instance", f"{m['start_ms']:.2f} ms ({1000 / m['start_ms']:,.0f}/s)"],
            ["complete_user_task, per task", f"{m['complete_ms']:.2f} ms ({1000 / m['complete_ms']:,.0f}/s)"],
            ["target: RSS per added instance <= 10% of its disk",
             f"{fmt(share * 100 if share is not None else None, 1)}% {verdict}"],
        ], right=set()))
        out.append("  The first thousands fill SQLite's page cache (2 MiB by default) and SQLAlchemy's statement cache;"
                   " after that RSS stays flat while the database grows.")
        out.append(f"  durability: {m['durability']}")
    out.append("")
    out.append(f"# total {total_s:.0f} s")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
