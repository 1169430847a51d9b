"""I6 over REST: every report on a job carries the lease it was activated with.

Two external workers share one job through ``/api/v1/jobs``: A activates it,
A's lease runs out (a manual clock, no sleeping), B activates it again. A
report from A, with no lease or with its old one, never overwrites B's work.
The routes run in a minimal Starlette app whose middleware sets the caller's
principal, as the hub's guard does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from engine import Engine, WorkerRegistry
from engine.ports import ManualClock
from hub.api import jobs
from hub.api.common import Hub, problem_handlers
from hub.settings import HubSettings
from registry import Principal
from tests.hub.harness import AsPrincipal

EXTERNAL = Path(__file__).resolve().parents[1] / "data" / "hub" / "external.bpmn"


class Workers:
    """One engine on a manual clock, the job routes, and a client for each worker."""

    def __init__(self, root: Path) -> None:
        url = f"sqlite:///{root / 'agenthub.db'}"
        self.clock = ManualClock()
        self.engine = Engine.open(url, clock=self.clock)
        app = Starlette(
            routes=jobs.routes,
            exception_handlers=problem_handlers,
            middleware=[Middleware(AsPrincipal, principal=Principal("workers", frozenset({"jobs"})))],
        )
        app.state.hub = Hub(engine=self.engine, registry=None, workers=WorkerRegistry(), settings=HubSettings())  # type: ignore[arg-type]
        self.client = TestClient(app)

    def activate(self, worker: str) -> list[dict[str, Any]]:
        answer = self.client.post(
            "/api/v1/jobs/activate", json={"type": "remote-work", "worker": worker, "leaseSeconds": 1}
        )
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["jobs"]
        return found

    def report(self, job: dict[str, Any], verb: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1/jobs/{job['key']}/{verb}", json=body)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    opened = Workers(tmp_path)
    with opened.client:
        yield opened
    opened.engine.close()


def _taken_over(workers: Workers) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """An instance whose job A activated, then B activated again after A's lease ran out."""
    workers.engine.deploy([("external.bpmn", EXTERNAL.read_bytes())])
    instance = workers.engine.start("external", {"n": 1}).key
    [a] = workers.activate("A")
    workers.clock.advance(timedelta(seconds=2))
    [b] = workers.activate("B")
    assert b["key"] == a["key"] and b["lockVersion"] > a["lockVersion"]
    return instance, a, b


def _lease(job: dict[str, Any]) -> dict[str, Any]:
    return {"worker": job["worker"], "lockVersion": job["lockVersion"]}


def _is_problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


def test_a_stale_worker_that_omits_its_lease_cannot_overwrite_the_new_owners_result(workers: Workers) -> None:
    instance, a, b = _taken_over(workers)
    for verb, body in [
        ("complete", {"variables": {"by": "A"}}),
        ("fail", {"errorMessage": "A gave up", "retries": 0}),
        ("error", {"errorCode": "REJECTED"}),
        ("complete", {"variables": {"by": "A"}, "worker": "B"}),
        ("complete", {"variables": {"by": "A"}, "lockVersion": b["lockVersion"]}),
    ]:
        detail = _is_problem(workers.report(a, verb, body), 400)["detail"]
        assert "'worker'" in detail and "'lockVersion'" in detail and "activate" in detail

    stale = workers.report(a, "complete", {"variables": {"by": "A"}, **_lease(a)})
    assert "no longer locked by worker 'A'" in _is_problem(stale, 409)["detail"]
    assert _is_problem(workers.report(a, "fail", {"errorMessage": "A gave up", **_lease(a)}), 409)
    assert _is_problem(workers.report(a, "error", {"errorCode": "REJECTED", **_lease(a)}), 409)

    done = workers.report(b, "complete", {"variables": {"by": "B"}, **_lease(b)})
    assert done.status_code == 200, done.text
    late = workers.report(a, "complete", {"variables": {"by": "A"}, **_lease(a)})
    assert _is_problem(late, 404)  # B's completion ended the instance, and its jobs with it
    finished = workers.engine.instance(instance)
    assert finished.state == "completed" and finished.variables == {"n": 1, "by": "B"}


def test_a_worker_with_its_old_lock_version_under_the_same_name_gets_a_conflict(workers: Workers) -> None:
    """Two workers sharing a name (the default, ``rest:<token name>``) are told apart by the lock version."""
    workers.engine.deploy([("external.bpmn", EXTERNAL.read_bytes())])
    instance = workers.engine.start("external", {"n": 1}).key
    [first] = workers.activate("same")
    workers.clock.advance(timedelta(seconds=2))
    [second] = workers.activate("same")
    assert _is_problem(workers.report(first, "complete", {"variables": {"by": "first"}, **_lease(first)}), 409)
    assert workers.report(second, "complete", {"variables": {"by": "second"}, **_lease(second)}).status_code == 200
    assert workers.engine.instance(instance).variables == {"n": 1, "by": "second"}
