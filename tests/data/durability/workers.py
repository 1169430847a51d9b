"""Job handlers for the durability tests; every side effect goes to a ledger (RELIABILITY.md H3).

The ledger is a SQLite file of its own (``$DURABILITY_LEDGER``), written on
its own connection and committed before the handler returns, as a real
side effect would be: a crash after the handler and before the engine hears
of it leaves the row there, and the job runs again (at least once). Each row
carries the job key, the idempotency key a real handler would pass on.

Handlers return variables computed from their inputs only, so a run that
crashed and recovered must end with exactly the variables of a run that did
not. ``$DURABILITY_HANDLER_DELAY_MS`` makes each handler take that long, so
random kills land inside handlers too.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from engine import Job, worker

_SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_type TEXT NOT NULL,
    job_key INTEGER NOT NULL,
    instance INTEGER NOT NULL,
    element_id TEXT NOT NULL,
    loop_counter INTEGER,
    case_id TEXT,
    pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_type TEXT NOT NULL,
    job_key INTEGER NOT NULL,
    pid INTEGER NOT NULL
);
"""


_local = threading.local()


def _ledger() -> sqlite3.Connection:
    """This thread's connection to the ledger, in autocommit mode: each row is committed by its INSERT.

    It stays open: closing the last connection to a WAL file checkpoints it,
    which costs an fsync per job.
    """
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["DURABILITY_LEDGER"], timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # survives the SIGKILLs of these tests; power loss is not tested
        conn.executescript(_SCHEMA)
        _local.conn = conn
    return conn


def _attempt(job: Job, *, slow: bool = True) -> int:
    """Record that a handler started on this job; returns how many attempts it has had, this one included."""
    delay = int(os.environ.get("DURABILITY_HANDLER_DELAY_MS", "0"))
    if delay and slow:
        time.sleep(delay / 1000)
    conn = _ledger()
    conn.execute("INSERT INTO attempts (job_type, job_key, pid) VALUES (?, ?, ?)", (job.type, job.key, os.getpid()))
    return int(conn.execute("SELECT count(*) FROM attempts WHERE job_key = ?", (job.key,)).fetchone()[0])


def _effect(job: Job, result: dict[str, Any]) -> dict[str, Any]:
    """The side effect, keyed by the job key (the idempotency key), then the variables to complete with."""
    _ledger().execute(
        "INSERT INTO effects (job_type, job_key, instance, element_id, loop_counter, case_id, pid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (job.type, job.key, job.instance, job.element_id, job.variables.get("loopCounter"), job.variables.get("case"),
         os.getpid()),
    )
    return result


@worker("charge")
def charge(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"charged": job.variables.get("amount", 0)})


@worker("pack")
def pack(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"packed": True})


@worker("notify")
def notify(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"notified": f"{job.variables['case']}:{job.variables['charged']}"})


@worker("score")
def score(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"score": job.variables["amount"] // 10})


@worker("big")
def big(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"route": "big"})


@worker("small")
def small(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"route": "small"})


@worker("a")
def branch_a(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"a": 1})


@worker("b")
def branch_b(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"b": 2})


@worker("after")
def after(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"sum": job.variables["a"] + job.variables["b"]})


@worker("announce")
def announce(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"announcement": f"approved by {job.variables['approver']}"})


@worker("inner")
def inner(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"inner": job.variables["local"] * 3})


@worker("finish")
def finish(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"finished": job.variables["result"]})


@worker("ship")
def ship(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"shipped": f"{job.variables['item']['sku']}-{job.variables['loopCounter']}"})


@worker("invoice")
def invoice(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"invoiced": len(job.variables["results"])})


@worker("child_work")
def child_work(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"childScore": job.variables["age"] * 2})


@worker("report")
def report(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"reported": job.variables["score"]})


@worker("flaky")
def flaky(job: Job) -> dict[str, Any]:
    """Fails its first attempt at each job, then succeeds."""
    if _attempt(job) == 1:
        raise RuntimeError("the first attempt fails on purpose")
    return _effect(job, {"flakyDone": True})


@worker("confirm")
def confirm(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"confirmed": job.variables["flakyDone"]})


@worker("poison")
def poison(job: Job) -> dict[str, Any]:
    """Kills its worker process every time, as a segfault or an OOM kill in a native library would.

    It takes no time: the other handlers of its batch (slowed down by
    ``$DURABILITY_HANDLER_DELAY_MS``) are still running when it kills them.
    """
    _attempt(job, slow=False)
    os._exit(137)
