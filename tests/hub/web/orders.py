"""The console's process and instance tests' helpers: the ``order`` model (tests/data/web) and moving it along."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.hub.harness import LiveHub

__all__ = ["WEB", "complete_review", "deploy", "fail_ship", "start_order"]

WEB = Path(__file__).resolve().parents[2] / "data" / "web"


def deploy(hub: LiveHub, *names: str) -> None:
    files = [("files", (n, (WEB / n).read_bytes(), "application/xml")) for n in names or ("order.bpmn",)]
    with hub.client() as c:
        c.post("/api/v1/deployments", files=files).raise_for_status()


def start_order(hub: LiveHub, **variables: Any) -> int:
    with hub.client() as c:
        answer = c.post("/api/v1/process-instances", json={"processId": "order", "variables": variables})
        answer.raise_for_status()
        return int(answer.json()["instance"])


def complete_review(hub: LiveHub, instance: int) -> None:
    with hub.client() as c:
        [task] = c.get("/api/v1/user-tasks", params={"instance": instance}).json()["items"]
        c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {}}).raise_for_status()


def fail_ship(hub: LiveHub) -> None:
    """The next ``web-ship`` job fails with no retries left: an incident on ``ship``."""
    with hub.client() as c:
        [job] = c.post("/api/v1/jobs/activate", json={"type": "web-ship", "maxJobs": 1}).json()["jobs"]
        c.post(f"/api/v1/jobs/{job['key']}/fail", json={
            "errorMessage": "the carrier said no", "retries": 0, "worker": job["worker"],
            "lockVersion": job["lockVersion"],
        }).raise_for_status()
