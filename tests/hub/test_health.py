"""Liveness and readiness apart (/health/live, /health/ready, /health), and problem+json on every failure path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.scheduler import WorkerRegistry
from hub.settings import HubSettings
from registry import generate_token
from tests.hub.harness import LiveHub, start_hub
from tests.ports import free_port


@contextmanager
def _hub(tmp_path: Path, **settings: Any) -> Iterator[LiveHub]:
    port = free_port()
    admin = generate_token()
    server, thread = start_hub(
        HubSettings(db=f"sqlite:///{tmp_path / 'hub.db'}", port=port, admin_token=admin, **settings), WorkerRegistry()
    )
    try:
        yield LiveHub(url=f"http://127.0.0.1:{port}", port=port, admin=admin, app=server.config.app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _failed(answer: httpx.Response) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in answer.json()["checks"] if not c["ok"]}


def test_a_healthy_hub_is_live_and_ready_and_says_what_it_checked(live_hub: LiveHub) -> None:
    live = httpx.get(f"{live_hub.url}/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = httpx.get(f"{live_hub.url}/health/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok" and body["database"] == "sqlite" and body["worker"] == "running"
    assert {c["name"] for c in body["checks"]} == {"database", "write-lock", "disk", "worker"}
    assert all(c["ok"] for c in body["checks"])


def test_a_writer_stuck_on_the_write_lock_makes_the_hub_not_ready_but_still_live(tmp_path: Path) -> None:
    with _hub(tmp_path, ready_timeout_s=0.5) as hub:
        assert httpx.get(f"{hub.url}/health/ready").status_code == 200
        stuck = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
        try:
            stuck.execute("BEGIN IMMEDIATE")
            ready = httpx.get(f"{hub.url}/health/ready")
            assert ready.status_code == 503
            assert ready.headers["content-type"] == "application/problem+json"
            assert ready.json()["status"] == 503
            assert "write lock" in _failed(ready)["write-lock"] and "0.5 s" in _failed(ready)["write-lock"]
            assert "write lock" in ready.json()["detail"]
            assert httpx.get(f"{hub.url}/health").status_code == 503
            assert httpx.get(f"{hub.url}/health/live").status_code == 200
        finally:
            stuck.execute("ROLLBACK")
            stuck.close()
        assert httpx.get(f"{hub.url}/health/ready").status_code == 200
        assert httpx.get(f"{hub.url}/health").json() == {"status": "ok", "database": "sqlite", "worker": "running"}


def test_a_disk_with_less_free_space_than_the_threshold_makes_the_hub_not_ready(tmp_path: Path) -> None:
    with _hub(tmp_path, min_free_disk_mb=10**12) as hub:
        ready = httpx.get(f"{hub.url}/health/ready")
        assert ready.status_code == 503
        disk = _failed(ready)["disk"]
        assert str(tmp_path / "hub.db") in disk and "AGENTHUB_MIN_FREE_DISK_MB" in disk
        assert set(_failed(ready)) == {"disk"}
        assert httpx.get(f"{hub.url}/health/live").status_code == 200


def test_a_stopped_worker_loop_makes_the_hub_not_ready(live_hub: LiveHub) -> None:
    worker = live_hub.app.state.worker
    worker.loop.stop()
    worker.thread.join(timeout=30)
    ready = httpx.get(f"{live_hub.url}/health/ready")
    assert ready.status_code == 503
    assert "worker loop" in _failed(ready)["worker"]
    assert ready.json()["worker"] == "stopped"
    assert httpx.get(f"{live_hub.url}/health").status_code == 503


def test_an_unhandled_error_in_a_route_is_a_problem_not_plain_text(
    live_hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(live_hub.app.state.hub.engine, "definitions", broken)
    with live_hub.client() as c:
        answer = c.get("/api/v1/process-definitions")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 500 and "a bug" not in answer.text


def test_an_unhandled_error_in_the_guard_is_a_problem_not_plain_text(
    live_hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(token: str) -> None:
        raise RuntimeError("the registry is gone")

    monkeypatch.setattr(live_hub.app.state.hub.registry.tokens, "verify", broken)
    answer = httpx.get(f"{live_hub.url}/api/v1/incidents", headers={"Authorization": "Bearer " + generate_token()})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/thing", 404),
        ("DELETE", "/health/ready", 405),
        ("POST", "/api/v1/process-definitions", 405),
        ("GET", "/api/v1/process-instances/abc", 404),
    ],
)
def test_failures_outside_any_route_are_problems_too(live_hub: LiveHub, method: str, path: str, status: int) -> None:
    with live_hub.client() as c:
        answer = c.request(method, path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status


@pytest.mark.parametrize("path", ["/mcp/no/such/thing", "/a2a/nobody/tasks", "/a2a/message:send"])
def test_the_protocol_endpoints_fail_in_json_never_plain_text(live_hub: LiveHub, path: str) -> None:
    with live_hub.client() as c:
        answer = c.request("PUT", path, content=b"{")
    assert answer.status_code >= 400
    assert answer.headers["content-type"].startswith(("application/json", "application/problem+json"))
    answer.json()
