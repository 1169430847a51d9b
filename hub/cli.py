"""The ``agenthub`` command line.

Every command takes ``--db URL`` (default: ``$AGENTHUB_DB``, else
``sqlite:///agenthub.db``), so state lives across separate invocations. Bad
input exits with status 2 and one clear message that names the file, line,
element or field; nothing is changed.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from engine import DeploymentError, Engine, EngineError
from engine.scheduler import WorkerLoop, WorkerSettings, default_registry
from engine.scheduler.timers import TimerDefinitionError, parse_duration
from hub.console import AsJson, Db, database_url, fail
from hub.loading import WorkerModuleError, load_workers
from hub.output import print_incidents, print_instance, print_instances, print_tasks

app = typer.Typer(
    name="agenthub",
    help="agenthub: durable BPMN processes, AI agents, people and systems on one engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Vars = Annotated[str | None, typer.Option("--vars", help="Variables as a JSON object.")]
Workers = Annotated[
    list[str] | None,
    typer.Option("--workers", help="Module (dotted name or .py path) whose @worker handlers to register."),
]


def open_engine(db: str | None) -> Engine:
    url = database_url(db)
    synchronous = os.environ.get("AGENTHUB_SQLITE_SYNCHRONOUS", "FULL")
    try:
        return Engine.open(url, synchronous=synchronous)
    except EngineError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"cannot open database '{url}': {exc}")


def parse_vars(raw: str | None, option: str = "--vars") -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"{option} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    if not isinstance(value, dict):
        fail(f"{option} must be a JSON object like '{{\"amount\": 10}}', not {type(value).__name__}")
    return value


def register_workers(modules: list[str] | None) -> None:
    for module in modules or []:
        try:
            load_workers(module)
        except WorkerModuleError as exc:
            fail(str(exc))


def read_files(files: list[Path]) -> list[tuple[str, bytes]]:
    resources = []
    for path in files:
        try:
            resources.append((str(path), path.read_bytes()))
        except OSError as exc:
            fail(f"cannot read '{path}': {exc.strerror}")
    return resources


def deploy_or_fail(engine: Engine, files: list[Path], *, expose: bool = False) -> list[Any]:
    try:
        return engine.deploy(read_files(files), expose=expose)
    except DeploymentError as exc:
        typer.echo(f"error: deployment rejected, {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None


def engine_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except EngineError as exc:
        fail(str(exc))


# --- commands ---------------------------------------------------------------------------------


@app.command()
def deploy(
    files: Annotated[list[Path], typer.Argument(help="BPMN files.")],
    expose: Annotated[
        bool, typer.Option("--expose", help="Offer the processes as MCP tools and A2A skills (as <agenthub:tool/>).")
    ] = False,
    db: Db = None,
) -> None:
    """Deploy BPMN files; prints each process id and version."""
    engine = open_engine(db)
    for deployed in deploy_or_fail(engine, files, expose=expose):
        note = "" if deployed.is_new else " (unchanged)"
        exposed = ", exposed as a tool" if expose else ""
        typer.echo(f"{deployed.process_id} version {deployed.version}{note}{exposed}")


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="BPMN file.")],
    process: Annotated[str | None, typer.Option("--process", help="Process id, when the file has several.")] = None,
    vars: Vars = None,
    workers: Workers = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Deploy FILE, start one instance and drive it until it completes or waits for something outside."""
    variables = parse_vars(vars)
    register_workers(workers)
    engine = open_engine(db)
    deployed = [d for d in deploy_or_fail(engine, [file])]
    ids = [d.process_id for d in deployed]
    if process is None:
        if len(ids) != 1:
            fail(
                f"'{file}' has {len(ids)} executable processes ({', '.join(ids) or 'none'}): choose one with --process"
            )
        process = ids[0]
    elif process not in ids:
        fail(f"'{file}' has no executable process '{process}' (it has: {', '.join(ids)})")
    started = engine_call(engine.start, process, variables)
    WorkerLoop(engine, default_registry).run(until_idle=True)
    print_instance(engine_call(engine.instance, started.key), as_json)


@app.command()
def start(
    process_id: Annotated[str, typer.Argument(help="Process id.")],
    vars: Vars = None,
    version: Annotated[int | None, typer.Option("--version", help="A specific version (default: latest).")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Start an instance of a deployed process."""
    variables = parse_vars(vars)
    engine = open_engine(db)
    print_instance(engine_call(engine.start, process_id, variables, version=version), as_json)


@app.command()
def instance(
    instance_id: Annotated[int, typer.Argument(help="Instance id.")], as_json: AsJson = False, db: Db = None
) -> None:
    """Show one process instance."""
    engine = open_engine(db)
    print_instance(engine_call(engine.instance, instance_id), as_json, details=True)


@app.command()
def instances(
    state: Annotated[str | None, typer.Option("--state", help="active, completed, terminated or incident.")] = None,
    process: Annotated[str | None, typer.Option("--process", help="Only this process id.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """List process instances."""
    engine = open_engine(db)
    print_instances(engine_call(engine.instances, state=state, process_id=process, limit=limit), as_json)


@app.command()
def tasks(
    group: Annotated[str | None, typer.Option("--group", help="Only tasks for this candidate group.")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """List open user tasks."""
    engine = open_engine(db)
    print_tasks(engine_call(engine.user_tasks, candidate_group=group), as_json)


@app.command()
def complete(task_id: Annotated[int, typer.Argument(help="User task id.")], vars: Vars = None, db: Db = None) -> None:
    """Complete a user task; the instance moves on."""
    variables = parse_vars(vars)
    engine = open_engine(db)
    engine_call(engine.complete_user_task, task_id, variables)
    typer.echo(f"completed user task {task_id}")


@app.command()
def incidents(as_json: AsJson = False, db: Db = None) -> None:
    """List open incidents."""
    engine = open_engine(db)
    print_incidents(engine_call(engine.incidents), as_json)


@app.command()
def retry(incident_id: Annotated[int, typer.Argument(help="Incident id.")], db: Db = None) -> None:
    """Resolve an incident: retry the failed job or expression (fix the cause first)."""
    engine = open_engine(db)
    engine_call(engine.resolve_incident, incident_id)
    typer.echo(f"resolved incident {incident_id}; retrying")


@app.command()
def cancel(instance_id: Annotated[int, typer.Argument(help="Instance id.")], db: Db = None) -> None:
    """Cancel a process instance, with everything it started."""
    engine = open_engine(db)
    engine_call(engine.cancel, instance_id)
    typer.echo(f"canceled instance {instance_id}")


@app.command()
def journal(
    instance_id: Annotated[int, typer.Argument(help="Instance id.")], as_json: AsJson = False, db: Db = None
) -> None:
    """Print an instance's journal: every step it took, agents' model calls, tool calls and approvals included."""
    engine = open_engine(db)
    entries = engine_call(engine.journal, instance_id, limit=100_000)
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
        return
    from hub.journal_text import journal_line

    for entry in entries:
        typer.echo(journal_line(entry))


@app.command()
def worker(
    workers: Workers = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop when no job is due.")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Jobs run at once.")] = 4,
    lease: Annotated[float, typer.Option("--lease", help="Job lease in seconds (a heartbeat extends it).")] = 10.0,
    db: Db = None,
) -> None:
    """Run the worker loop: execute due jobs with the registered handlers."""
    register_workers(workers)
    engine = open_engine(db)
    loop = WorkerLoop(
        engine, default_registry, settings=WorkerSettings(concurrency=concurrency, lease_ms=int(lease * 1000))
    )
    handled = ", ".join(default_registry.types()) or "no job types (pass --workers MODULE)"
    typer.echo(f"worker {loop.name}: firing timers; handling {handled}", err=True)
    try:
        loop.run(until_idle=until_idle)
    except KeyboardInterrupt:
        loop.stop()
    typer.echo(
        f"worker {loop.name}: {loop.completed} jobs completed, {loop.failed} failed attempts, "
        f"{loop.fired} timers fired",
        err=True,
    )


def parse_ttl(raw: str | None) -> int:
    if raw is None:
        return 0
    if raw.isdigit():
        return int(raw) * 1000
    try:
        delta = parse_duration(raw)
    except TimerDefinitionError as exc:
        fail(f"--ttl: {exc}")
    start = datetime(2000, 1, 1, tzinfo=UTC)
    return int(((start + delta) - start).total_seconds() * 1000)


@app.command()
def publish(
    name: Annotated[str, typer.Argument(help="Message name.")],
    key: Annotated[str, typer.Option("--key", help="Correlation key.")] = "",
    vars: Vars = None,
    ttl: Annotated[str | None, typer.Option("--ttl", help="Time to live: ISO 8601 duration (PT1H) or seconds.")] = None,
    message_id: Annotated[str | None, typer.Option("--id", help="Message id: publishing it again is refused.")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Publish a message to the instances waiting for it (or buffer it for its time to live)."""
    variables = parse_vars(vars)
    ttl_ms = parse_ttl(ttl)
    engine = open_engine(db)
    result = engine_call(engine.publish_message, name, key, variables, ttl_ms=ttl_ms, message_id=message_id)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    reached = result["correlatedInstances"]
    note = f"; buffered for {ttl}" if result["buffered"] else ""
    typer.echo(
        f"published message '{name}' (key '{key}'): correlated to {len(reached)} instance(s)"
        f"{' ' + ', '.join(map(str, reached)) if reached else ''}{note}"
    )


@app.command()
def signal(name: Annotated[str, typer.Argument(help="Signal name.")], vars: Vars = None, db: Db = None) -> None:
    """Broadcast a signal to every instance and start event waiting for it."""
    variables = parse_vars(vars)
    engine = open_engine(db)
    count = engine_call(engine.broadcast_signal, name, variables)
    typer.echo(f"broadcast signal '{name}': reached {count} waiting element(s)")


@app.command()
def variables(
    instance_id: Annotated[int, typer.Argument(help="Instance id.")], vars: Vars = None, db: Db = None
) -> None:
    """Set variables of an instance (for example to fix the cause of an incident before `retry`)."""
    values = parse_vars(vars)
    if not values:
        fail("give the variables to set with --vars '{\"name\": value}'")
    engine = open_engine(db)
    engine_call(engine.set_variables, instance_id, values, local=False)
    typer.echo(f"updated {', '.join(sorted(values))} on instance {instance_id}")


def _add_command_groups() -> None:
    """The command groups that live in modules of their own (they import this module's helpers)."""
    from hub.commands import agents, mcp_servers, serve, tokens

    app.command()(serve.serve)
    app.command(name="mcp")(serve.mcp)
    app.add_typer(tokens.app, name="token")
    app.add_typer(mcp_servers.app, name="mcp-server")
    app.add_typer(agents.app, name="agent")


_add_command_groups()


def main() -> None:
    sys.path.insert(0, os.getcwd())
    app()


if __name__ == "__main__":
    main()
