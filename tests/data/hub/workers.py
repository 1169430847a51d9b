"""The job handlers the hub tests' processes use (loaded with --workers)."""

from __future__ import annotations

from typing import Any

from engine import Job, worker


@worker("echo")
def echo(job: Job) -> dict[str, Any]:
    return {"echoed": job.variables.get("text", "nothing")}
