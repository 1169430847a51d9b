"""How the CLI prints instances, tasks, incidents and deployments, as text tables or JSON.

Text goes to stdout as tables with a header row and times in UTC; an empty
listing says so in words. ``--json`` prints the same data whole, in the
REST API's shapes. Hints and warnings go to stderr, so stdout stays the
result.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final

import typer

from engine import DeployedProcess, DeploymentError, IncidentView, InstanceView, TaskView
from engine.agent.turn import MODEL_JOB_TYPE
from engine.decisions import DeployedDecision
from hub.deployment_report import deployment_report
from hub.tables import RAW_IN_JSON, clip, compact, due_time, printable, table, utc_time
from protocols.mcp.roots import ROOTS_JOB_TYPE

# Job types the hub runs itself (`agenthub serve`, `agenthub worker`): a hint for them says so, not "write one".
_HUB_JOB_TYPES: Final = frozenset({"http", "io.camunda:http-json:1", "mcp", "a2a", MODEL_JOB_TYPE})
_CAMUNDA_CONNECTORS: Final = ("io.camunda:", "io.camunda.agenticai:", "io.camunda.connectors.")
_RAW_IN_JSON: Final = re.compile(f"[{RAW_IN_JSON}]")
_PROGRESS_ABOVE: Final = 5  # files: more than this many show progress even when stderr is not a terminal


def _json(value: Any) -> None:
    typer.echo(json_text(value))


def json_text(value: Any) -> str:
    """JSON for a terminal or a pipe: the same data, with C1 controls and bidi overrides as ``\\uXXXX`` escapes.

    ``json.dumps`` already escapes C0 controls (ESC included); these others are valid raw in JSON strings,
    where they can only occur, so escaping them changes no value a JSON reader sees.
    """
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, indent=2, ensure_ascii=False))


def echo(line: str, *, err: bool = False) -> None:
    """One line of text output, whose control characters are shown, never acted on (RELIABILITY G12)."""
    typer.echo(printable(line), err=err)


def _lines(lines: Sequence[str]) -> None:
    for line in lines:
        echo(line)


# --- instances ---------------------------------------------------------------------------------


def _waiting_line(waiting: dict[str, Any]) -> str:
    if "jobType" not in waiting:  # a message wait whose poller noted a failure (Camunda's A2A polling)
        later = f"; polled again at {due_time(waiting['nextCheck'])} UTC" if waiting.get("nextCheck") else ""
        return (f"waiting for message '{waiting['message']}': the last poll failed "
                f"({waiting.get('failures', 0)} in a row): {clip(str(waiting['lastError']), 160)}{later}")
    remote = waiting.get("remoteWait")
    if isinstance(remote, dict):  # no worker holds it on purpose: it waits on remote work (WaitRemote)
        return (f"waiting on {clip(str(remote['reason']), 120)}; checked next at {due_time(remote['nextCheck'])} UTC"
                f" (job {waiting['job']}, no worker slot held)")
    line = f"waiting for a worker of job type '{waiting['jobType']}' since {due_time(waiting['since'])} UTC"
    claims = int(waiting.get("claims", 0))
    if claims:
        line += f"; workers took it {claims} time(s) before"
    if waiting.get("lastError"):
        line += f", last error: {clip(str(waiting['lastError']), 120)}"
    return f"{line} (job {waiting['job']})"


def print_instance(view: InstanceView, as_json: bool, *, details: bool = False) -> None:
    if as_json:
        data = view.to_json()
        if details:
            data["version"] = view.version
            data["activeElements"] = view.active_elements
        _json(data)
        return
    created = f"  created {utc_time(view.created_at)} UTC" if view.created_at is not None else ""
    echo(f"instance {view.key}  process {view.process_id} v{view.version}  {view.state}{created}")
    for element in view.active_elements:
        marker = f"  incident {element['incident']}" if "incident" in element else ""
        echo(f"  at {element['elementId']} ({element['state']}){marker}")
        if "waitingFor" in element:
            echo(f"    {_waiting_line(element['waitingFor'])}")
    if view.variables:
        echo(f"  variables: {json.dumps(view.variables, ensure_ascii=False)}")


def _unclaimed(view: InstanceView) -> dict[str, str]:
    """The job types the instance waits on that no worker has taken yet, each with the earliest 'since'."""
    found: dict[str, str] = {}
    for element in view.active_elements:
        waiting = element.get("waitingFor")
        if waiting is not None and "jobType" in waiting and not waiting.get("claims"):
            job_type, since = str(waiting["jobType"]), str(waiting["since"])
            found[job_type] = min(since, found.get(job_type, since))
    return found


def _waiting_cell(view: InstanceView) -> str:
    waits = [f"worker for '{t}' since {due_time(since)}" for t, since in sorted(_unclaimed(view).items())]
    return clip("; ".join(waits), 100)


def print_instances(views: Sequence[InstanceView], as_json: bool) -> None:
    if as_json:
        _json([
            {**v.to_json(), "version": v.version, "createdAt": v.created_at, "activeElements": v.active_elements}
            for v in views
        ])
        return
    if not views:
        typer.echo("no instances")
        return
    rows = [
        [str(v.key), v.process_id, str(v.version), v.state, utc_time(v.created_at), _waiting_cell(v)] for v in views
    ]
    _lines(table(["INSTANCE", "PROCESS", "VERSION", "STATE", "CREATED (UTC)", "WAITING"], rows))


def _hint(instance: int, job_type: str) -> str:
    waits = f"hint: instance {instance} waits for a worker of job type '{job_type}'"
    if job_type == ROOTS_JOB_TYPE:
        return (f"{waits}, which asks the MCP client whose tool call started the instance: it runs in "
                "`agenthub serve` while that call waits, and fails at once, saying why, when none does")
    if job_type in _HUB_JOB_TYPES:
        return f"{waits}, which the hub runs itself: start `agenthub worker` or `agenthub serve` on this database"
    if job_type.startswith(_CAMUNDA_CONNECTORS):
        return (
            f"{waits}, a Camunda connector that agenthub does not run: write a worker for it "
            f'(@worker("{job_type}")) and run `agenthub worker --workers MODULE`'
        )
    return (
        f"{waits}: run `agenthub worker --workers MODULE` (or pass --workers MODULE here) "
        f'with a module that has @worker("{job_type}")'
    )


def print_run_hints(view: InstanceView) -> None:
    """On stderr, one hint per job type the instance waits on that no worker has taken: how to run one."""
    for job_type in sorted(_unclaimed(view)):
        echo(_hint(view.key, job_type), err=True)


# --- tasks and incidents -----------------------------------------------------------------------


def print_tasks(views: Sequence[TaskView], as_json: bool) -> None:
    if as_json:
        _json([t.to_json() for t in views])
        return
    if not views:
        typer.echo("no open user tasks")
        return
    rows = [
        [
            str(t.key),
            clip(t.name, 40),
            str(t.instance),
            clip(t.assignee or ", ".join(t.candidate_groups) or "anyone", 30),
            utc_time(t.created_at),
            due_time(t.due_date),
            due_time(t.follow_up_date),
            f"{t.priority} escalated" if t.escalated else str(t.priority),
            compact(t.inputs, 80),
        ]
        for t in views
    ]
    headers = ["ID", "NAME", "INSTANCE", "FOR", "CREATED (UTC)", "DUE (UTC)", "FOLLOW-UP (UTC)", "PRIORITY", "INPUTS"]
    _lines(table(headers, rows))


def print_incidents(views: Sequence[IncidentView], as_json: bool) -> None:
    if as_json:
        _json([i.to_json() for i in views])
        return
    if not views:
        typer.echo("no open incidents")
        return
    rows = [
        [str(i.key), str(i.instance), i.element_id, i.type, utc_time(i.created_at), clip(i.message, 200)]
        for i in views
    ]
    _lines(table(["ID", "INSTANCE", "ELEMENT", "TYPE", "CREATED (UTC)", "MESSAGE"], rows))


# --- deployments -------------------------------------------------------------------------------


def print_deployed(deployed: Sequence[DeployedProcess], as_json: bool, *, expose: bool,
                   decisions: Sequence[DeployedDecision] = ()) -> None:
    """One line per process and DMN decision on stdout (or the REST API's JSON); the warnings go to stderr when
    deploying."""
    report = deployment_report(deployed, expose=expose, decisions=decisions)
    if as_json:
        _json(report)
    else:
        for d in deployed:
            note = "" if d.is_new else " (unchanged)"
            exposed = ", exposed as a tool" if expose else ""
            echo(f"{d.process_id} version {d.version}{note}{exposed}")
        for decision in decisions:
            echo(f"decision {decision.decision_id} version {decision.version}"
                 f"{'' if decision.is_new else ' (unchanged)'}")


def print_deploy_warnings(deployed: Sequence[DeployedProcess]) -> None:
    """Each warning of a deployment once, on stderr: ``warning: FILE:LINE: element 'ID': ...``."""
    for warning in dict.fromkeys(str(w) for d in deployed for w in d.warnings):
        echo(f"warning: {warning}", err=True)


def print_rejected(exc: DeploymentError) -> None:
    echo(f"error: deployment rejected, {len(exc.problems)} problem(s):", err=True)
    for problem in exc.problems:
        echo(f"  {problem}", err=True)


def deploy_progress(total: int) -> Callable[[int, int, str], None] | None:
    """Progress on stderr while files are checked: on a terminal, or for more than a few files."""
    terminal = sys.stderr.isatty()
    if not terminal and total <= _PROGRESS_ABOVE:
        return None

    def report(number: int, count: int, resource: str) -> None:
        if terminal:  # one line, rewritten in place
            end = "\n" if number == count else ""
            typer.echo(f"\r\033[Kdeploying {number}/{count} {clip(resource, 60)}", err=True, nl=False)
            typer.echo(end, err=True, nl=False)
        elif number in (1, count) or number % max(1, count // 20) == 0:  # about twenty lines however many
            echo(f"deploying {number}/{count} {resource}", err=True)

    return report
