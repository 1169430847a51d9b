"""Job handlers for the event durability tests (timers, messages, compensation, soak); each writes a ledger row.

Same ledger as ``tests/data/durability/workers.py`` (``$DURABILITY_LEDGER``,
an ``effects`` table keyed by job key, committed before the handler
returns), so the harness reads both alike. Job types carry an ``ev_`` prefix.

``ev_c2`` (the compensation handler of A2 in ``e_compensation.bpmn``) kills
its own process with SIGKILL right after its side effect, the first time it
runs while ``$DURABILITY_KILL_MARKER`` names a file that does not exist yet:
the kill lands inside compensation, between the effect and the engine
hearing of it, and the job must run again under the same key.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from engine import BpmnError, Job, worker

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
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["DURABILITY_LEDGER"], timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        _local.conn = conn
    return conn


def _attempt(job: Job) -> None:
    delay = int(os.environ.get("DURABILITY_HANDLER_DELAY_MS", "0"))
    if delay:
        time.sleep(delay / 1000)
    _ledger().execute(
        "INSERT INTO attempts (job_type, job_key, pid) VALUES (?, ?, ?)", (job.type, job.key, os.getpid())
    )


def _effect(job: Job, result: dict[str, Any]) -> dict[str, Any]:
    _ledger().execute(
        "INSERT INTO effects (job_type, job_key, instance, element_id, loop_counter, case_id, pid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            job.type,
            job.key,
            job.instance,
            job.element_id,
            job.variables.get("loopCounter"),
            job.variables.get("case"),
            os.getpid(),
        ),
    )
    return result


def _simple(job_type: str, result: dict[str, Any]) -> None:
    def handler(job: Job) -> dict[str, Any]:
        _attempt(job)
        return _effect(job, dict(result))

    worker(job_type)(handler)


# --- timers and messages ---------------------------------------------------------------------------
_simple("ev_after_wait", {"waited": True})


@worker("ev_after_paid")
def after_paid(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"receipt": f"{job.variables.get('orderId')}:{job.variables.get('amount')}"})


# --- compensation: A1, A2 complete, A3 throws; C2 then C1 undo ------------------------------------------
_simple("ev_a1", {"a1": True})
_simple("ev_a2", {"a2": True})
_simple("ev_c1", {"c1": True})
_simple("ev_c3", {"c3": True})


@worker("ev_a3")
def a3(job: Job) -> dict[str, Any]:
    _attempt(job)
    raise BpmnError("A3_FAILED", "A3 cannot be done")


@worker("ev_c2")
def c2(job: Job) -> dict[str, Any]:
    _attempt(job)
    result = _effect(job, {"c2": True})
    marker = os.environ.get("DURABILITY_KILL_MARKER")
    if marker and not Path(marker).exists():
        Path(marker).write_text(str(job.key))
        os.kill(os.getpid(), signal.SIGKILL)  # as an OOM kill would: after the effect, before the report
    return result


# --- the soak model ----------------------------------------------------------------------------------


@worker("ev_charge")
def charge(job: Job) -> dict[str, Any]:
    _attempt(job)
    return _effect(job, {"charged": job.variables["amount"]})


_simple("ev_big", {"route": "big"})
_simple("ev_small", {"route": "small"})
_simple("ev_pack", {"packed": True})


@worker("ev_notify")
def notify(job: Job) -> dict[str, Any]:
    _attempt(job)
    v = job.variables
    return _effect(job, {"notified": f"{v['case']}:{v['charged']}:{v['route']}:{v['approved']}:{v['paid']}"})
