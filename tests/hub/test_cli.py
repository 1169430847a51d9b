"""The `agenthub` CLI as a user drives it: separate invocations sharing one database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
AGENTHUB = Path(sys.executable).parent / "agenthub"


class Cli:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {
            **os.environ,
            "AGENTHUB_DB": f"sqlite:///{workdir / 'cli.db'}",
            "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL",
            "PAY_BROKEN": str(workdir / "bank-closed"),
        }

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(AGENTHUB), *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if ok:
            assert result.returncode == 0, f"agenthub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_run_drives_an_instance_to_completion_and_prints_the_json_shape(cli: Cli) -> None:
    out = cli.json(
        "run",
        str(DATA / "scenarios" / "straight.bpmn"),
        "--vars",
        '{"amount": 60}',
        "--workers",
        str(DATA / "scenarios" / "charge_workers.py"),
    )
    assert out == {
        "instance": out["instance"],
        "process": "straight",
        "state": "completed",
        "variables": {"amount": 60, "total": 130, "charged": True},
        "startedBy": f"cli:{os.environ.get('USER') or 'local'}",  # who ran the command owns the instance
    }


def test_deploy_prints_versions_and_running_instances_stay_on_their_version(cli: Cli, tmp_path: Path) -> None:
    model = tmp_path / "approval.bpmn"
    model.write_text((DATA / "cli" / "approval.bpmn").read_text())
    assert cli("deploy", str(model)).stdout.strip() == "approval version 1"
    assert "unchanged" in cli("deploy", str(model)).stdout
    first = cli.json("start", "approval")
    model.write_text(model.read_text().replace('name="Review expense"', 'name="Check expense"'))
    assert cli("deploy", str(model)).stdout.strip() == "approval version 2"
    second = cli.json("start", "approval")
    tasks = {t["instance"]: t for t in cli.json("tasks")}
    assert tasks[first["instance"]]["name"] == "Review expense"
    assert tasks[second["instance"]]["name"] == "Check expense"
    assert cli.json("instance", str(first["instance"]))["version"] == 1


def test_a_person_completes_a_task_and_a_worker_finishes_the_instance(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "approval.bpmn"))
    started = cli.json("start", "approval", "--vars", '{"amount": 42}')
    assert started["state"] == "active"
    tasks = cli.json("tasks")
    assert [{k: t[k] for k in ("instance", "element", "name", "assignee", "candidateGroups")} for t in tasks] == [
        {
            "instance": started["instance"],
            "element": "Review",
            "name": "Review expense",
            "assignee": None,
            "candidateGroups": ["finance"],
        }
    ]
    cli("complete", str(tasks[0]["id"]), "--vars", '{"approved": true}')
    assert cli.json("tasks") == []
    cli("worker", "--workers", str(DATA / "cli" / "pay_workers.py"), "--until-idle")
    final = cli.json("instance", str(started["instance"]))
    assert final["state"] == "completed"
    assert final["variables"]["approved"] is True
    assert final["variables"]["paidWith"].startswith("transfer-")
    assert [i["state"] for i in cli.json("instances", "--state", "completed")] == ["completed"]


def test_a_failing_job_becomes_an_incident_that_retry_resolves(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "bank-closed").touch()
    cli("deploy", str(DATA / "cli" / "approval.bpmn"))
    started = cli.json("start", "approval")
    task = cli.json("tasks")[0]
    cli("complete", str(task["id"]), "--vars", '{"approved": true}')
    cli("worker", "--workers", str(DATA / "cli" / "pay_workers.py"), "--until-idle")
    assert cli.json("instance", str(started["instance"]))["state"] == "incident"
    incidents = cli.json("incidents")
    assert len(incidents) == 1
    assert incidents[0]["element"] == "Pay"
    assert "the bank is closed" in incidents[0]["message"]
    assert [i["instance"] for i in cli.json("instances", "--state", "incident")] == [started["instance"]]
    (tmp_path / "bank-closed").unlink()
    cli("retry", str(incidents[0]["id"]))
    cli("worker", "--workers", str(DATA / "cli" / "pay_workers.py"), "--until-idle")
    assert cli.json("instance", str(started["instance"]))["state"] == "completed"
    assert cli.json("incidents") == []


def test_task_variables_keep_a_draft_in_the_task_s_own_scope_as_whoever_may_complete_it(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "approval.bpmn"))
    started = cli.json("start", "approval", "--vars", '{"amount": 42}')
    task = cli.json("tasks")[0]
    said = cli("task-variables", str(task["id"]), "--vars", '{"draft": "receipt checked"}')
    assert said.stdout.strip() == f"set draft on user task {task['id']}"
    cli("user", "add", "gus", "--groups", "sales")
    refused = cli("task-variables", str(task["id"]), "--vars", '{"draft": "mine now"}', "--as", "gus", ok=False)
    assert refused.returncode == 2 and "finance" in refused.stderr
    cli("user", "add", "fay", "--groups", "finance")
    cli("task-variables", str(task["id"]), "--vars", '{"note": "fine"}', "--as", "fay")
    journal = cli.json("journal", str(started["instance"]))
    sets = [e for e in journal if e["type"] == "variables_set"]
    assert [(e["data"]["variables"], e["data"]["local"]) for e in sets] == [(["draft"], True), (["note"], True)]
    assert "fay" in json.dumps(sets[1]) and "gus" not in json.dumps(journal)
    assert "draft" not in cli.json("instance", str(started["instance"]))["variables"]  # the task's, not the process's
    empty = cli("task-variables", str(task["id"]), ok=False)
    assert empty.returncode == 2 and "--vars" in empty.stderr


def test_completing_a_task_twice_is_refused(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "approval.bpmn"))
    cli.json("start", "approval")
    task = cli.json("tasks")[0]
    cli("complete", str(task["id"]), "--vars", '{"approved": false}')
    again = cli("complete", str(task["id"]), ok=False)
    assert again.returncode == 2
    assert "no longer open" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["start", "nope"], "process 'nope' is not deployed"),
        (["start", "approval", "--vars", "{bad json"], "--vars is not valid JSON"),
        (["start", "approval", "--vars", "[1, 2]"], "--vars must be a JSON object"),
        (["instance", "424242"], "process instance 424242 does not exist"),
        (["complete", "424242"], "user task 424242 does not exist"),
        (["retry", "424242"], "incident 424242 does not exist"),
        (["worker", "--workers", "no_such_module_here"], "workers module 'no_such_module_here' not found"),
        (["instances", "--state", "sleeping"], "unknown instance state 'sleeping'"),
    ],
)
def test_bad_input_exits_non_zero_with_one_clear_message(cli: Cli, args: list[str], message: str) -> None:
    cli("deploy", str(DATA / "cli" / "approval.bpmn"))
    result = cli(*args, ok=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("bad_feel.bpmn", ["bad_feel.bpmn:", "F2"]),
        ("dangling.bpmn", ["dangling.bpmn:", "Nowhere", "complexGateway"]),
        ("broken.xml.bpmn", ["broken.xml.bpmn:"]),
    ],
)
def test_a_bad_model_is_rejected_naming_file_line_and_element_and_changes_nothing(
    cli: Cli, file: str, expected: list[str]
) -> None:
    result = cli("deploy", str(DATA / "cli" / file), ok=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr
    assert cli("instances").stdout.strip() == "no instances"
    assert cli("start", "bad_feel", ok=False).returncode == 2


def test_publish_correlates_a_message_by_key_and_a_message_id_is_refused_twice(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "payment.bpmn"))
    waiting = cli.json("start", "payment", "--vars", '{"orderId": "o-1", "price": 10}')
    out = cli("publish", "payment-received", "--key", "o-1", "--vars", '{"amount": 12}').stdout
    assert f"correlated to 1 instance(s) {waiting['instance']}" in out
    assert cli.json("instance", str(waiting["instance"]))["variables"]["amount"] == 12
    buffered = cli.json(
        "publish", "payment-received", "--key", "o-2", "--vars", '{"amount": 30}', "--ttl", "PT1H", "--id", "pay-2"
    )
    assert buffered["correlatedInstances"] == [] and buffered["buffered"] is True
    again = cli("publish", "payment-received", "--key", "o-2", "--ttl", "PT1H", "--id", "pay-2", ok=False)
    assert again.returncode == 2 and "already published" in again.stderr
    later = cli.json("start", "payment", "--vars", '{"orderId": "o-2", "price": 10}')
    assert later["variables"]["amount"] == 30  # the buffered message met the subscription when it opened
    assert cli("publish", "payment-received", "--ttl", "soon", ok=False).returncode == 2


def test_signal_reaches_every_waiting_instance_and_cancel_ends_one(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "payment.bpmn"))
    first = cli.json("start", "payment", "--vars", '{"orderId": "a", "price": 1}')
    second = cli.json("start", "payment", "--vars", '{"orderId": "b", "price": 1}')
    third = cli.json("start", "payment", "--vars", '{"orderId": "c", "price": 1}')
    for order in ("a", "b", "c"):
        cli("publish", "payment-received", "--key", order, "--vars", '{"amount": 5}')
    cli("cancel", str(third["instance"]))
    assert cli.json("instance", str(third["instance"]))["state"] == "terminated"
    assert "reached 2 waiting element(s)" in cli("signal", "shutdown").stdout
    for view in (first, second):
        assert cli.json("instance", str(view["instance"]))["state"] == "completed"
    assert cli("cancel", str(first["instance"]), ok=False).returncode == 2


def test_an_expression_incident_is_repaired_by_setting_variables_and_retrying(cli: Cli) -> None:
    cli("deploy", str(DATA / "cli" / "payment.bpmn"))
    started = cli.json("start", "payment", "--vars", '{"orderId": "x", "price": 10}')
    cli("publish", "payment-received", "--key", "x", "--vars", '{"amount": 3}')
    assert cli.json("instance", str(started["instance"]))["state"] == "incident"
    incident = cli.json("incidents")[0]
    assert incident["element"] == "Enough" and "no condition is true" in incident["message"]
    cli("variables", str(started["instance"]), "--vars", '{"amount": 10}')
    cli("retry", str(incident["id"]))
    assert cli.json("instance", str(started["instance"]))["activeElements"][0]["elementId"] == "Stop"


def test_help_lists_every_command_and_a_mistyped_one_is_refused_with_suggestions(cli: Cli) -> None:
    """The CLI builds only the command named (start-up); the whole app is there for help and for mistakes."""
    top = cli("--help").stdout
    for name in ("run", "deploy", "instances", "serve", "worker", "user", "token", "mcp-server", "agent", "decide"):
        assert f" {name} " in top, name
    assert "Usage: agenthub instances" in cli("instances", "--help").stdout
    group = cli("user", "--help").stdout
    assert "add" in group and "list" in group and "remove" in group
    wrong = cli("instancez", ok=False)
    assert wrong.returncode == 2 and "No such command 'instancez'" in wrong.stderr
    assert "instances" in wrong.stderr  # the suggestion
    assert cli("user", "list").stdout.strip() == "no users"


def test_cancel_says_when_the_instance_waits_for_canceling_listeners(cli: Cli) -> None:
    cli("deploy", str(DATA / "listeners" / "assigning.bpmn"))
    started = cli.json("start", "assigning", "--vars", '{"firstReviewer": "bob"}')
    workers = DATA / "cli" / "listener_workers.py"
    cli("worker", "--workers", str(workers), "--until-idle")  # the creating and assigning listeners
    said = cli("cancel", str(started["instance"]))
    assert said.stdout.strip() == (f"canceling instance {started['instance']}: it ends once the canceling listeners "
                                   "of its user tasks have run (a worker of withdraw-review)")
    assert cli.json("instance", str(started["instance"]))["state"] == "active"
    cli("worker", "--workers", str(workers), "--until-idle")
    assert cli.json("instance", str(started["instance"]))["state"] == "terminated"
