"""What the console's task, incident, registry and inspector tests set up over REST: models, people, instances."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.hub.harness import LiveHub

__all__ = ["DATA", "deploy", "person", "start", "tasks_of", "wait_for"]

DATA = Path(__file__).resolve().parents[2] / "data" / "web"
T = TypeVar("T")


def deploy(hub: LiveHub, *names: str) -> None:
    """Deploy files of ``tests/data/web`` together (a BPMN with its rules or form files)."""
    files = [("files", (n, (DATA / n).read_bytes(), "application/octet-stream")) for n in names]
    with hub.client() as c:
        c.post("/api/v1/deployments", files=files).raise_for_status()


def start(hub: LiveHub, process: str, variables: dict[str, Any] | None = None, token: str | None = None) -> int:
    with hub.client(token) as c:
        answer = c.post("/api/v1/process-instances", json={"processId": process, "variables": variables or {}})
        answer.raise_for_status()
        return int(answer.json()["instance"])


def person(hub: LiveHub, user: str, groups: list[str], scopes: list[str]) -> str:
    """A local user in ``groups`` and a token of theirs with ``scopes``."""
    with hub.client() as c:
        c.post("/api/v1/users", json={"id": user, "groups": groups}).raise_for_status()
        answer = c.post("/api/v1/tokens", json={"user": user, "name": f"{user}-laptop", "scopes": scopes})
        answer.raise_for_status()
        return str(answer.json()["token"])


def tasks_of(hub: LiveHub, instance: int, state: str = "created") -> list[dict[str, Any]]:
    with hub.client() as c:
        answer = c.get("/api/v1/user-tasks", params={"instance": instance, "state": state})
        answer.raise_for_status()
        return list(answer.json()["items"])


def wait_for(what: Callable[[], T | None], timeout: float = 30) -> T:
    """Poll ``what`` until it answers something (the hub works in its own threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("waited in vain")
