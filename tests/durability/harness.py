"""The durability harness: a database and a side-effect ledger, engine processes to run and kill against them,
and the invariants of RELIABILITY.md section 1.2 as checks on what they leave behind.

Processes are started with ``subprocess.Popen`` (RELIABILITY.md H1): the
``agenthub`` CLI itself, or ``tests/data/durability/driver.py`` where a test
needs to deploy, start and complete as well as work jobs. The checks read the
SQLite files directly, through their own connections, so they see exactly
what a restarted process would see.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import Engine

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "durability"
MODELS = DATA / "models"
DRIVER = DATA / "driver.py"
WORKERS = DATA / "workers.py"
GOLDEN = json.loads((DATA / "golden.json").read_text())
KILLED = -signal.SIGKILL

# (case, process id): how a test names an instance, since keys differ from run to run
Identity = tuple[str, str]


def migrated_database(root: Path) -> Path:
    """An empty database file at the schema's head revision, closed (no WAL left beside it)."""
    path = root / "migrated.db"
    Engine.open(f"sqlite:///{path}", synchronous="NORMAL").close()
    assert not Path(f"{path}-wal").exists()
    return path


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.02) -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


class Lines:
    """A process's stdout, read line by line on a thread: a test can wait for a line without blocking forever."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            with self._lock:
                self._lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout_s: float = 30) -> str:
        """The first line that starts with ``prefix``, once there is one."""
        wait_for(lambda: any(x.startswith(prefix) for x in self.lines()), timeout_s, f"a line {prefix!r}...")
        return next(x for x in self.lines() if x.startswith(prefix))

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def close(self, timeout_s: float = 30) -> list[str]:
        """Every line, once the process has exited and its stdout is drained."""
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the process's stdout was not closed"
        return self.lines()


@dataclass
class Sandbox:
    """One test's database file and ledger file, and the processes run against them."""

    root: Path
    synchronous: str = "NORMAL"
    template: Path | None = None  # an empty, migrated database to start from: saves each test a migration
    started: list[subprocess.Popen[str]] = field(default_factory=list)
    readers: list[Lines] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.template is not None and not self.db_path.exists():
            shutil.copyfile(self.template, self.db_path)

    @property
    def db_path(self) -> Path:
        return self.root / "engine.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.db"

    # --- processes -----------------------------------------------------------------------

    def env(self, crash: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "HUB_CRASH_AT"}
        env.update(
            AGENTHUB_DB=self.url,
            AGENTHUB_SQLITE_SYNCHRONOUS=self.synchronous,
            DURABILITY_LEDGER=str(self.ledger_path),
            PYTHONDONTWRITEBYTECODE="1",
            **extra,
        )
        if crash is not None:
            env["HUB_CRASH_AT"] = crash
        return env

    def spawn(self, args: list[str], *, crash: str | None = None, **extra: str) -> subprocess.Popen[str]:
        # stderr goes to a file: a pipe nobody reads could fill up and block the child
        log = (self.root / f"stderr-{time.monotonic_ns()}.log").open("w")
        with log:
            process = subprocess.Popen(
                args,
                cwd=REPO,
                env=self.env(crash, **extra),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.started.append(process)
        return process

    def read_lines(self, process: subprocess.Popen[str]) -> Lines:
        reader = Lines(process)
        self.readers.append(reader)
        return reader

    def stop_all(self) -> None:
        """Kill whatever this sandbox started and is still running (a test that failed halfway), and close pipes."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
        for process in self.started:
            process.wait(30)
        for reader in self.readers:
            reader.close()
        for process in self.started:
            if process.stdout is not None:
                process.stdout.close()

    def driver(self, mode: str, *args: str, crash: str | None = None, **extra: str) -> subprocess.Popen[str]:
        return self.spawn([sys.executable, str(DRIVER), mode, "--db", self.url, *args], crash=crash, **extra)

    def cli(self, *args: str, crash: str | None = None, **extra: str) -> subprocess.Popen[str]:
        return self.spawn([sys.executable, "-m", "hub.cli", *args, "--db", self.url], crash=crash, **extra)

    def worker(self, *args: str, crash: str | None = None, **extra: str) -> subprocess.Popen[str]:
        return self.cli("worker", "--workers", str(WORKERS), *args, crash=crash, **extra)

    def finish(self, process: subprocess.Popen[str], timeout_s: float = 60) -> tuple[int, str]:
        """Wait for a process (killing it if it overruns), and return its exit status and its stdout."""
        try:
            out, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
            raise AssertionError(f"{process.args!r} ran longer than {timeout_s} s; stderr: {self.stderr()}") from None
        return process.returncode, out

    def stderr(self) -> str:
        """The stderr of every process this sandbox started, for failure messages."""
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.root.glob("stderr-*.log")))

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        eng = Engine.open(self.url, synchronous=self.synchronous)
        try:
            yield eng
        finally:
            eng.close()

    # --- reading the files ---------------------------------------------------------------------

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with closing(sqlite3.connect(self.db_path, timeout=30)) as conn:
            return conn.execute(query, params).fetchall()

    def ledger(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if not self.ledger_path.exists():
            return []
        with closing(sqlite3.connect(self.ledger_path, timeout=30)) as conn:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'effects'").fetchall():
                return []
            return conn.execute(query, params).fetchall()

    def states(self) -> dict[int, dict[str, Any]]:
        """Every instance's stored state, by key."""
        return {int(k): json.loads(s) for k, s in self.sql("SELECT key, state FROM instances")}

    def journal(self) -> list[tuple[int, str, str | None, int | None, dict[str, Any]]]:
        rows = self.sql("SELECT instance_key, type, element_id, element_instance, data FROM journal ORDER BY id")
        return [(int(i), t, e, ei, json.loads(d) if d else {}) for i, t, e, ei, d in rows]

    def identities(self) -> dict[int, Identity]:
        """Instance key -> (case, process id); a called instance carries its caller's ``case`` variable."""
        found: dict[int, Identity] = {}
        for key, state in self.states().items():
            root = dict((k, v) for k, v in state["variables"]).get(state["root"], {})
            found[key] = (str(root.get("case")), state["process"])
        return found

    def open_jobs(self) -> int:
        return int(self.sql("SELECT count(*) FROM jobs WHERE state IN ('ready', 'locked')")[0][0])

    # --- invariants (RELIABILITY.md 1.2) -------------------------------------------------------------

    def assert_storage_healthy(self) -> None:
        """I12: the file is sound, and no job is left locked once nothing runs."""
        assert self.sql("PRAGMA integrity_check") == [("ok",)]
        assert self.sql("PRAGMA foreign_key_check") == []
        locked = self.sql("SELECT key, type, lock_owner FROM jobs WHERE state = 'locked'")
        assert locked == [], f"jobs still locked after every worker stopped: {locked}"

    def assert_state_matches_rows(self) -> None:
        """I1: an instance's stored state and the rows its steps wrote (jobs, tasks, incidents, children) agree.

        A step that committed half (the token moved but no job row, or a job
        row for a token that is gone) shows up here, whenever it is checked.
        """
        jobs: dict[int, set[int]] = defaultdict(set)
        for key, instance in self.sql("SELECT key, instance_key FROM jobs WHERE state IN ('ready', 'locked')"):
            jobs[int(instance)].add(int(key))
        tasks: dict[int, set[int]] = defaultdict(set)
        for key, instance in self.sql("SELECT key, instance_key FROM user_tasks WHERE state = 'created'"):
            tasks[int(instance)].add(int(key))
        incidents: dict[int, set[int]] = defaultdict(set)
        for key, instance in self.sql("SELECT key, instance_key FROM incidents WHERE state = 'open'"):
            incidents[int(instance)].add(int(key))
        rows = {int(k): (s, p) for k, s, p in self.sql("SELECT key, status, parent_instance FROM instances")}
        states = self.states()
        failed = {int(k) for (k,) in self.sql("SELECT key FROM jobs WHERE state = 'failed'")}
        for key, state in states.items():
            status, parent = rows[key]
            assert state["status"] == status, f"instance {key}: row says {status}, state says {state['status']}"
            assert parent == (state["parent"][0] if state["parent"] else None), f"instance {key}: parent {parent}"
            elements = state["elements"]
            with_job = {e["job"] for e in elements if "job" in e and "incident" not in e}
            assert with_job == jobs[key], f"instance {key}: tokens wait for jobs {with_job}, job rows {jobs[key]}"
            stuck = {e["job"] for e in elements if "job" in e and "incident" in e}
            assert stuck <= failed, f"instance {key}: jobs {stuck - failed} have an incident but are not failed"
            with_task = {e["user_task"] for e in elements if "user_task" in e}
            assert with_task == tasks[key], f"instance {key}: tokens wait for tasks {with_task}, rows {tasks[key]}"
            open_incidents = {int(k) for k, _ in state["incidents"]}
            assert open_incidents == incidents[key], f"instance {key}: incidents {open_incidents} vs {incidents[key]}"
            for element in elements:
                child = element.get("child_instance")
                if child is not None:
                    assert rows[child][1] == key and rows[child][0] == "active", f"instance {key}: child {child}"
            if state["parent"] is not None and status == "active":
                caller = states[state["parent"][0]]
                waiting = [e for e in caller["elements"] if e.get("child_instance") == key]
                assert waiting, f"instance {key} is active but its caller no longer waits for it"

    def assert_no_orphans(self) -> None:
        """I3: every unfinished instance waits for something: a job, a user task, an incident or a called instance."""
        orphans = self.sql(
            """
            SELECT i.key, i.process_id FROM instances i WHERE i.status = 'active'
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.instance_key = i.key AND j.state IN ('ready', 'locked'))
            AND NOT EXISTS (SELECT 1 FROM user_tasks t WHERE t.instance_key = i.key AND t.state = 'created')
            AND NOT EXISTS (SELECT 1 FROM incidents n WHERE n.instance_key = i.key AND n.state = 'open')
            AND NOT EXISTS (SELECT 1 FROM instances c WHERE c.parent_instance = i.key AND c.status = 'active')
            """
        )
        assert orphans == [], f"active instances with nothing to wait for: {orphans}"

    def assert_keys_unique(self) -> None:
        """I7: one key, one thing: instances, element instances, jobs, user tasks, incidents and deployments."""
        owners: dict[int, set[tuple[str, int]]] = defaultdict(set)  # key -> (what it names, in which instance)
        for (key,) in self.sql("SELECT key FROM instances"):
            owners[int(key)].add(("instance", int(key)))
        for instance, kind, _, element, data in self.journal():
            if element is not None:
                owners[int(element)].add(("element", instance))
            if kind == "job_created":
                owners[int(data["job"])].add(("job", instance))
        for table, what in (("jobs", "job"), ("user_tasks", "user task"), ("incidents", "incident")):
            for key, instance in self.sql(f"SELECT key, instance_key FROM {table}"):
                owners[int(key)].add((what, int(instance)))
        for table, what in (("deployments", "deployment"), ("definitions", "definition")):
            for (key,) in self.sql(f"SELECT key FROM {table}"):
                owners[int(key)].add((what, 0))
        clashes = {key: sorted(found) for key, found in owners.items() if len(found) > 1}
        assert not clashes, f"keys used for more than one thing: {dict(list(clashes.items())[:5])}"

    def assert_no_step_repeated(self) -> None:
        """Nothing committed is done twice: an element instance is activated, completed, and given a job once."""
        seen: Counter[tuple[str, int]] = Counter()
        for _, kind, _, element, data in self.journal():
            if kind in ("element_activated", "element_completed") and element is not None:
                seen[(kind, int(element))] += 1
            if kind == "job_created":
                seen[(kind, int(data["job"]))] += 1
        repeated = {k: n for k, n in seen.items() if n > 1}
        assert not repeated, f"steps recorded more than once: {repeated}"

    def assert_invariants(self) -> None:
        self.assert_storage_healthy()
        self.assert_state_matches_rows()
        self.assert_no_orphans()
        self.assert_keys_unique()
        self.assert_no_step_repeated()

    # --- outcomes, to compare a run with the golden one ------------------------------------------------

    def outcome(self) -> dict[Identity, dict[str, Any]]:
        """Each instance's end: state, variables, elements completed, and the distinct jobs its effects ran under."""
        identities = self.identities()
        assert len(set(identities.values())) == len(identities), f"two instances of one case: {identities}"
        completed: dict[int, Counter[str]] = defaultdict(Counter)
        for instance, kind, element_id, _, _ in self.journal():
            if kind == "element_completed":
                completed[instance][str(element_id)] += 1
        effects: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for job_type, job_key, instance in self.ledger("SELECT job_type, job_key, instance FROM effects"):
            effects[int(instance)][job_type].add(int(job_key))
        unknown = set(effects) - set(identities)
        assert not unknown, f"ledger effects for instances that do not exist: {unknown}"
        result: dict[Identity, dict[str, Any]] = {}
        for key, state in self.states().items():
            root = dict((k, v) for k, v in state["variables"]).get(state["root"], {})
            result[identities[key]] = {
                "state": state["status"],
                "variables": root,
                "completed": dict(completed[key]),
                "jobs": {job_type: len(keys) for job_type, keys in sorted(effects[key].items())},
            }
        return result

    def assert_effects_match_jobs(self) -> None:
        """H3: every effect ran under a job the engine created, of the type the engine gave it, at most once per job.

        Duplicate rows for one job key are allowed (at least once); an effect
        under a key the engine never created, or two distinct job keys for
        one element instance, would be a repeated step.
        """
        created = {int(d["job"]): (t, i, d["type"]) for i, t, _, _, d in self.journal() if t == "job_created"}
        for job_type, job_key, instance in self.ledger("SELECT job_type, job_key, instance FROM effects"):
            assert int(job_key) in created, f"effect of job {job_key} ({job_type}): the engine never created it"
            _, owner, created_type = created[int(job_key)]
            assert (created_type, owner) == (job_type, int(instance)), f"job {job_key}: effect does not match"

    def duplicates(self) -> int:
        """How many effect rows repeat one already there (the same job key): the price of at-least-once."""
        rows = self.ledger("SELECT count(*) - count(DISTINCT job_key) FROM effects")
        return int(rows[0][0]) if rows else 0


# --- any database: the event and soak tests run the same checks on SQLite and PostgreSQL (RELIABILITY.md H7) ----


@dataclass
class DbSandbox(Sandbox):
    """A sandbox whose engine database is ``db`` (a PostgreSQL URL), or its own SQLite file when ``db`` is empty.

    Its checks read the database through their own connection, as ``Sandbox``
    does: with sqlite3 for a file, through SQLAlchemy (no pool, so no session
    of its own stays open) for PostgreSQL.
    """

    db: str = ""
    workers: Path = WORKERS  # the module of job handlers ``worker`` loads
    _pg: Any = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return self.db or super().url

    @property
    def is_postgres(self) -> bool:
        return self.db.startswith("postgresql")

    @property
    def kind(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if not self.is_postgres:
            return super().sql(query, params)
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        if self._pg is None:
            self._pg = create_engine(self.db, poolclass=NullPool)
        with self._pg.connect() as conn:
            result = conn.exec_driver_sql(query.replace("?", "%s"), params)
            rows = [tuple(r) for r in result.all()] if result.returns_rows else []
            conn.commit()
            return rows

    @contextmanager
    def engine(self, clock: Any = None) -> Iterator[Engine]:
        eng = Engine.open(self.url, clock=clock, synchronous=self.synchronous)
        try:
            yield eng
        finally:
            eng.close()

    def worker(self, *args: str, crash: str | None = None, **extra: str) -> subprocess.Popen[str]:
        return self.cli("worker", "--workers", str(self.workers), *args, crash=crash, **extra)

    def stop_all(self) -> None:
        super().stop_all()
        if self._pg is not None:
            self._pg.dispose()
            self._pg = None

    def idle_in_transaction(self) -> list[Any]:
        """PostgreSQL sessions on this database left idle inside a transaction (none on SQLite)."""
        if not self.is_postgres:
            return []
        return self.sql(
            "SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
        )

    def assert_storage_healthy(self) -> None:
        """I12 on either database: SQLite's integrity and foreign key checks, and on PostgreSQL no session idle
        in a transaction (a killed client's backend may take a moment to notice); no job left locked."""
        if not self.is_postgres:
            super().assert_storage_healthy()
            return
        wait_for(
            lambda: not self.idle_in_transaction(),
            10,
            f"no idle-in-transaction sessions: {self.idle_in_transaction()}",
            interval_s=0.1,
        )
        locked = self.sql("SELECT key, type, lock_owner FROM jobs WHERE state = 'locked'")
        assert locked == [], f"jobs still locked after every worker stopped: {locked}"

    def assert_no_orphans(self) -> None:
        """I3 as RELIABILITY.md 1.2 states it: an unfinished instance waits for a job, a user task, an incident,
        a called instance, a timer or a message/signal subscription."""
        orphans = self.sql(
            """
            SELECT i.key, i.process_id FROM instances i WHERE i.status = 'active'
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.instance_key = i.key AND j.state IN ('ready', 'locked'))
            AND NOT EXISTS (SELECT 1 FROM user_tasks t WHERE t.instance_key = i.key AND t.state = 'created')
            AND NOT EXISTS (SELECT 1 FROM incidents n WHERE n.instance_key = i.key AND n.state = 'open')
            AND NOT EXISTS (SELECT 1 FROM instances c WHERE c.parent_instance = i.key AND c.status = 'active')
            AND NOT EXISTS (SELECT 1 FROM timers m WHERE m.instance_key = i.key)
            AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.instance_key = i.key)
            """
        )
        assert orphans == [], f"active instances with nothing to wait for: {orphans}"

    def completions(self, instance: int | None = None) -> Counter[str]:
        """How many times each element id completed (per the journal), in one instance or in all."""
        return Counter(
            str(e)
            for i, kind, e, _, _ in self.journal()
            if kind == "element_completed" and (instance is None or i == instance)
        )

    def run_to_quiescence(self, *worker_args: str, timeout_s: float = 60, **extra: str) -> None:
        """Run ``agenthub worker --until-idle`` (it fires due timers too), again until no job is open: jobs of
        killed workers wait out their lease first."""

        def quiet() -> bool:
            status, _ = self.finish(self.worker("--until-idle", *worker_args, **extra), timeout_s)
            assert status == 0, self.stderr()
            return self.open_jobs() == 0

        wait_for(quiet, timeout_s, "the last worker to finish every job", interval_s=0.2)


def db_sandbox(db_url: str, root: Path, template: Path | None, **kwargs: Any) -> DbSandbox:
    """A sandbox on ``db_url``'s kind of database: a copy of the migrated template for SQLite (the URL's own file
    is not used), the URL itself for PostgreSQL."""
    if db_url.startswith("postgresql"):
        return DbSandbox(root, db=db_url, **kwargs)
    return DbSandbox(root, template=template, **kwargs)
