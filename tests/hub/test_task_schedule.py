"""Due and follow-up dates where people look: the REST task list sorted by them a page at a time, the CLI's
``tasks --sort``, and their JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.hub.harness import LiveHub

SCHEDULED = Path(__file__).resolve().parents[1] / "data" / "deadlines" / "scheduled_review.bpmn"
AGENTHUB = Path(sys.executable).parent / "agenthub"
DUES = ["2030-01-03T00:00:00Z", None, "2030-01-01T10:00:00+02:00", "2030-01-02T00:00:00Z"]
EARLIEST = ["2030-01-01T10:00:00+02:00", "2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", None]


def test_the_rest_task_list_sorts_by_due_date_and_pages_after_a_task_in_that_order(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        c.post("/api/v1/deployments", content=SCHEDULED.read_bytes(), headers={"Content-Type": "application/xml"})
        for due in DUES:
            c.post("/api/v1/process-instances",
                   json={"processId": "scheduled_review", "variables": {"due": due, "priority": 50}}
                   ).raise_for_status()
        items = c.get("/api/v1/user-tasks", params={"sort": "dueDate"}).json()["items"]
        assert [t["dueDate"] for t in items] == EARLIEST
        assert {t["followUpDate"] for t in items} == {"2030-02-01T09:00:00Z"}
        latest = c.get("/api/v1/user-tasks", params={"sort": "-dueDate"}).json()["items"]
        assert [t["dueDate"] for t in latest] == [*EARLIEST[2::-1], None]
        first = c.get("/api/v1/user-tasks", params={"sort": "dueDate", "limit": 2}).json()
        rest = c.get("/api/v1/user-tasks", params={"sort": "dueDate", "after": first["page"]["next"]}).json()
        assert [t["dueDate"] for t in first["items"] + rest["items"]] == EARLIEST
        wrong = c.get("/api/v1/user-tasks", params={"sort": "due"})
        assert wrong.status_code == 400 and "dueDate" in wrong.json()["detail"]
        described = c.get("/api/v1/openapi.json").json()
        [sort] = [p for p in described["paths"]["/api/v1/user-tasks"]["get"]["parameters"] if p["name"] == "sort"]
        assert "-dueDate" in sort["schema"]["enum"]


class _Cli:
    def __init__(self, workdir: Path) -> None:
        self.env = {**os.environ, "AGENTHUB_DB": f"sqlite:///{workdir / 'cli.db'}",
                    "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL"}
        self.workdir = workdir

    def __call__(self, *args: str) -> str:
        result = subprocess.run([str(AGENTHUB), *args], cwd=self.workdir, env=self.env, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, f"agenthub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))


def test_the_cli_lists_tasks_by_due_date_with_their_dates_in_the_json_and_the_table(tmp_path: Path) -> None:
    cli = _Cli(tmp_path)
    cli("deploy", str(SCHEDULED))
    for due in DUES:
        cli("start", "scheduled_review", "--vars", json.dumps({"due": due, "priority": 50}))
    assert [t["dueDate"] for t in cli.json("tasks", "--sort", "due")] == EARLIEST
    assert [t["dueDate"] for t in cli.json("tasks", "--sort", "due", "--desc")] == [*EARLIEST[2::-1], None]
    header, first, *_ = cli("tasks", "--sort", "due").splitlines()
    assert "DUE (UTC)" in header and "FOLLOW-UP (UTC)" in header and "PRIORITY" in header
    assert "2030-01-01 08:00:00" in first and "2030-02-01 09:00:00" in first  # shown in UTC
