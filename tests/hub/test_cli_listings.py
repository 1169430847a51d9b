"""What the CLI shows a newcomer: tables with headers and UTC times, ``--json`` for every listing, nothing
that waits without a word, deployment warnings and progress on stderr (stdout stays the result).

Each test drives the real ``agenthub`` executable; where a test needs state to look at (an incident, a
claimed job) it makes it through the engine on the same database first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine import Engine

DATA = Path(__file__).resolve().parents[1] / "data"
AGENTHUB = Path(sys.executable).parent / "agenthub"
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
ORDER = '{"order": {"customer": "ada", "total": 120, "reason": "never arrived"}}'


class Cli:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db = f"sqlite:///{workdir / 'cli.db'}"
        self.env = {**os.environ, "AGENTHUB_DB": self.db, "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL"}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(AGENTHUB), *args], cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"agenthub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def lines(self, *args: str) -> list[str]:
        return self(*args).stdout.splitlines()

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def engine(self) -> Engine:
        return Engine.open(self.db, synchronous="NORMAL")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def _columns(header: str) -> list[str]:
    return header.split()


def test_empty_listings_say_so_in_words_and_as_empty_json(cli: Cli) -> None:
    assert cli.lines("instances") == ["no instances"]
    assert cli.lines("tasks") == ["no open user tasks"]
    assert cli.lines("incidents") == ["no open incidents"]
    for listing in (["instances"], ["tasks"], ["incidents"], ["token", "list"], ["agent", "list"],
                    ["mcp-server", "list"]):
        assert cli.json(*listing) == [], listing


def test_an_instance_waiting_for_a_worker_says_so_in_instance_instances_and_their_json(cli: Cli) -> None:
    cli("deploy", str(DATA / "hub" / "external.bpmn"))
    key = cli.json("start", "external")["instance"]
    shown = cli.lines("instance", str(key))
    assert shown[1] == "  at work (active)"
    assert re.fullmatch(rf"    waiting for a worker of job type 'remote-work' since {TIME} UTC \(job \d+\)", shown[2])
    [waiting] = [e["waitingFor"] for e in cli.json("instance", str(key))["activeElements"]]
    assert waiting["jobType"] == "remote-work" and waiting["claims"] == 0
    header, row = cli.lines("instances")
    assert _columns(header) == ["INSTANCE", "PROCESS", "VERSION", "STATE", "CREATED", "(UTC)", "WAITING"]
    assert re.fullmatch(
        rf"{key}\s+external\s+1\s+active\s+{TIME}\s+worker for 'remote-work' since {TIME}", row
    ), row
    [listed] = cli.json("instances")
    assert listed["version"] == 1 and isinstance(listed["createdAt"], int)
    assert listed["activeElements"][0]["waitingFor"] == waiting


def test_once_a_worker_took_the_job_the_instance_no_longer_waits_for_one(cli: Cli) -> None:
    cli("deploy", str(DATA / "hub" / "external.bpmn"))
    key = cli.json("start", "external")["instance"]
    engine = cli.engine()
    try:
        engine.activate_jobs(["remote-work"], "elsewhere", lease_ms=600_000)
    finally:
        engine.close()
    assert "waiting for a worker" not in cli("instance", str(key)).stdout
    assert "worker for" not in cli.lines("instances")[1]


def test_tasks_show_who_they_are_for_when_they_were_created_and_are_due_and_what_they_ask(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "refund_review.bpmn"))
    key = cli.json("start", "refund_review", "--vars", ORDER)["instance"]
    header, row = cli.lines("tasks")
    assert _columns(header) == ["ID", "NAME", "INSTANCE", "FOR", "CREATED", "(UTC)", "DUE", "(UTC)", "FOLLOW-UP",
                                "(UTC)", "PRIORITY", "INPUTS"]
    assert re.fullmatch(
        rf"\d+\s+Review the refund\s+{key}\s+finance\s+{TIME}\s+2030-01-02 10:30:00\s+50\s+"
        r'customer="ada", refund=\{"amount": 60, "reason": "never arrived"\}',
        row,
    ), row
    [task] = cli.json("tasks")
    assert task["inputs"] == {"customer": "ada", "refund": {"amount": 60, "reason": "never arrived"}}
    assert task["dueDate"] == "2030-01-02T12:30:00+02:00" and isinstance(task["createdAt"], int)


def test_incidents_show_element_type_creation_time_and_the_message(cli: Cli) -> None:
    cli("deploy", str(DATA / "hub" / "external.bpmn"))
    key = cli.json("start", "external")["instance"]
    engine = cli.engine()
    try:
        [job] = engine.activate_jobs(["remote-work"], "w")
        engine.fail_job(job.key, "the bank is closed\nuntil Monday", retries=0, worker="w",
                        lock_version=job.lock_version)
    finally:
        engine.close()
    header, row = cli.lines("incidents")
    assert _columns(header) == ["ID", "INSTANCE", "ELEMENT", "TYPE", "CREATED", "(UTC)", "MESSAGE"]
    assert re.fullmatch(rf"\d+\s+{key}\s+work\s+job\s+{TIME}\s+the bank is closed until Monday", row), row
    [incident] = cli.json("incidents")
    assert incident["message"] == "the bank is closed\nuntil Monday" and isinstance(incident["createdAt"], int)


def test_deploy_warns_on_stderr_about_what_will_not_be_acted_on_and_keeps_stdout_the_result(cli: Cli) -> None:
    result = cli("deploy", str(DATA / "deploy" / "unacted.bpmn"))
    assert result.stdout == "unacted version 1\n"
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3 and all(w.startswith("warning: ") for w in warnings)
    assert re.match(r"warning: .*unacted\.bpmn:\d+: element 'agent': adHocSubProcess with zeebe:taskDefinition "
                    r"type 'my-planner': ad-hoc subprocesses implemented by a job worker are not supported, so no "
                    r"job is created", warnings[0])
    assert "element 'fetch'" in warnings[1] and "element 'hook'" in warnings[2]
    report = cli.json("deploy", str(DATA / "deploy" / "unacted.bpmn"))
    assert [p["processId"] for p in report["processes"]] == ["unacted"] and report["processes"][0]["isNew"] is False
    assert [w["element"] for w in report["warnings"]] == ["agent", "fetch", "hook"]
    assert cli("deploy", str(DATA / "cli" / "approval.bpmn")).stderr == ""


def test_deploying_many_files_shows_progress_on_stderr(cli: Cli, tmp_path: Path) -> None:
    files = []
    for i in range(7):
        path = tmp_path / f"model{i}.bpmn"
        path.write_text((DATA / "hub" / "straight.bpmn").read_text().replace('id="straight"', f'id="straight{i}"'))
        files.append(str(path))
    result = cli("deploy", *files)
    assert result.stdout.splitlines() == [f"straight{i} version 1" for i in range(7)]
    progress = result.stderr.splitlines()
    assert progress[0] == f"deploying 1/7 {files[0]}" and progress[-1] == f"deploying 7/7 {files[6]}"
    assert cli("deploy", files[0]).stderr == ""  # a few files: no progress


def test_token_list_is_a_table_with_when_each_token_was_created_and_last_used(cli: Cli) -> None:
    cli("token", "create", "--scopes", "read,start", "--name", "ci")
    header, row = cli.lines("token", "list")
    assert header.split() == ["ID", "NAME", "SCOPES", "CREATED", "(UTC)", "LAST", "USED", "(UTC)", "STATE"]
    assert re.fullmatch(rf"\S+\s+ci\s+read,start\s+{TIME}\s+active", row), row
    [token] = cli.json("token", "list")
    assert token["name"] == "ci" and token["scopes"] == ["read", "start"]
