"""Liveness and readiness: ``/health/live``, ``/health/ready`` and ``/health``, public (no token).

- ``GET /health/live``: 200 ``{"status": "ok"}`` whenever the process answers
  HTTP at all. An orchestrator restarts the hub when this fails.
- ``GET /health/ready``: 200 ``{"status": "ok", "database", "worker", "checks": [...]}``
  when the hub can do its work, else 503 ``application/problem+json`` whose
  ``detail`` names what failed and whose ``checks`` say each check's outcome.
  An orchestrator stops sending traffic while this fails.
- ``GET /health``: the same checks as ready; 200 with the body it always had
  (``{"status": "ok", "database", "worker"}``), 503 with ready's problem.

The checks (``Check.name``):

- ``database``: the database answers a read (through the hub's own pool).
- ``write-lock`` (SQLite file only): a write transaction can begin within
  ``ready_timeout_s``; a writer holding SQLite's write lock longer than that
  (a stuck transaction, RELIABILITY.md X8) makes the hub not ready.
- ``disk`` (SQLite file only): the disk holding the database has at least
  ``min_free_disk_mb`` free.
- ``worker``: the worker loop thread is alive (when the hub runs one).

The database and disk checks block, so they run on a daemon thread of their
own, never on the event loop, and are waited for a bounded time. One run at a
time: a probe that arrives while a run is under way waits for that run, and a
run stuck past its bound is reported as such (and not started again) until it
returns, so a wedged database cannot pile up threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine.store import SqlStore

__all__ = ["Check", "Readiness", "routes"]

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


class Worker(Protocol):
    """What readiness needs of the hub's worker loop thread (``hub.app.WorkerThread``)."""

    error: BaseException | None

    @property
    def alive(self) -> bool: ...


class Readiness:
    """The readiness checks over one store; ``await checks(worker)`` runs them."""

    def __init__(self, store: SqlStore, *, timeout_s: float, min_free_disk_mb: int) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.min_free_disk_mb = min_free_disk_mb
        database = make_url(store.url).database if store.dialect == "sqlite" else None
        self.sqlite_file = (
            Path(database) if database and database != ":memory:" and not database.startswith("file:") else None
        )
        self._run: concurrent.futures.Future[list[Check]] | None = None
        self._done: list[Check] = []
        self._started = 0.0

    @property
    def planned(self) -> list[str]:
        return ["database", "write-lock", "disk"] if self.sqlite_file is not None else ["database"]

    async def checks(self, worker: Worker | None) -> list[Check]:
        return [*await self._blocking_checks(), *([] if worker is None else [_worker_check(worker)])]

    async def _blocking_checks(self) -> list[Check]:
        if self._run is None or self._run.done():
            self._done = []
            self._started = time.monotonic()
            self._run = concurrent.futures.Future()
            thread = threading.Thread(
                target=self._run_checks, args=(self._run, self._done), name="agenthub-ready", daemon=True
            )
            thread.start()
        run, done = self._run, self._done
        remaining = self._started + 2 * self.timeout_s + 1.0 - time.monotonic()
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(run)), max(remaining, 0.0))
        except TimeoutError:
            return self._so_far(done)

    def _so_far(self, done: list[Check]) -> list[Check]:
        """The checks finished, then the one that has not returned, then those not reached."""
        result = list(done)
        waited = time.monotonic() - self._started
        for index, name in enumerate(self.planned[len(result) :]):
            if index == 0:
                detail = f"has not answered after {waited:.1f} s: the database (or its disk) is not responding"
            else:
                detail = "not run: the check before it has not returned"
            result.append(Check(name, False, detail))
        return result

    def _run_checks(self, run: concurrent.futures.Future[list[Check]], done: list[Check]) -> None:
        try:
            done.append(self._database())
            if self.sqlite_file is not None:
                done.append(self._write_lock(self.sqlite_file))
                done.append(self._disk(self.sqlite_file))
            run.set_result(list(done))
        except BaseException as exc:  # a check that fails in an unforeseen way is a failed check, not a 500
            failed = Check(self.planned[len(done)], False, f"the check itself failed: {exc!r}")
            run.set_result([*done, failed])

    def _database(self) -> Check:
        began = time.monotonic()
        try:
            with self.store.reader() as tx:
                tx.conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except Exception as exc:
            return Check("database", False, f"the database did not answer a read: {exc}")
        return Check("database", True, f"answered a read in {(time.monotonic() - began) * 1000:.0f} ms")

    def _write_lock(self, path: Path) -> Check:
        began = time.monotonic()
        try:
            conn = sqlite3.connect(path, timeout=self.timeout_s, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return Check(
                    "write-lock",
                    False,
                    f"another writer has held the database's write lock for more than {self.timeout_s:g} s "
                    f"(AGENTHUB_READY_TIMEOUT_S): a transaction is stuck or far too long; find the process "
                    f"holding {path} open",
                )
            return Check("write-lock", False, f"a write transaction could not begin on {path}: {exc}")
        return Check("write-lock", True, f"a write transaction began in {(time.monotonic() - began) * 1000:.0f} ms")

    def _disk(self, path: Path) -> Check:
        free = shutil.disk_usage(path.parent).free
        if free < self.min_free_disk_mb * _MB:
            return Check(
                "disk",
                False,
                f"the disk holding {path} has {free // _MB} MB free, less than AGENTHUB_MIN_FREE_DISK_MB="
                f"{self.min_free_disk_mb}: free some space or move the database",
            )
        return Check("disk", True, f"{free // _MB} MB free")


def _worker_check(worker: Worker) -> Check:
    if worker.alive:
        return Check("worker", True, "the worker loop is running")
    why = f": {worker.error!r}" if worker.error is not None else ""
    return Check("worker", False, f"the worker loop thread has stopped{why}; restart the hub (see its log)")


def _worker_state(worker: Worker | None) -> str:
    return "off" if worker is None else ("running" if worker.alive else "stopped")


async def _report(request: Request) -> tuple[list[Check], dict[str, Any]]:
    readiness: Readiness = request.app.state.readiness
    worker: Worker | None = request.app.state.worker
    checks = await readiness.checks(worker)
    facts = {"database": readiness.store.dialect, "worker": _worker_state(worker)}
    return checks, facts


def _not_ready(checks: list[Check], facts: dict[str, Any]) -> Response | None:
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.ok]
    if not failed:
        return None
    body = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "the hub is not ready: " + "; ".join(failed),
        **facts,
        "checks": [asdict(c) for c in checks],
    }
    return JSONResponse(body, status_code=503, media_type="application/problem+json")


async def live(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    checks, facts = await _report(request)
    return _not_ready(checks, facts) or JSONResponse({"status": "ok", **facts, "checks": [asdict(c) for c in checks]})


async def health(request: Request) -> Response:
    """Readiness, answered in the shape /health always had when all is well."""
    checks, facts = await _report(request)
    return _not_ready(checks, facts) or JSONResponse({"status": "ok", **facts})


routes: list[BaseRoute] = [
    Route("/health", health, methods=["GET"]),
    Route("/health/live", live, methods=["GET"]),
    Route("/health/ready", ready, methods=["GET"]),
]
