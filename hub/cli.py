"""The ``agenthub`` command line.

Every command takes ``--db URL`` (default: ``$AGENTHUB_DB``, else
``sqlite:///agenthub.db``), so state lives across separate invocations. Bad
input exits with status 2 and one clear message that names the file, line,
element or field; nothing is changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from engine import Actor, Channel, DeploymentError, Engine, EngineError, strict_json
from engine.scheduler import WorkerLoop, WorkerRegistry, WorkerSettings
from engine.scheduler.timers import TimerDefinitionError, parse_duration
from hub.console import AsJson, Db, database_url, fail, open_registry, operator, printable_url
from hub.deploying import DeploymentFilesError, read_deployment
from hub.loading import WorkerModuleError, load_workers
from hub.logs import configure_logging
from hub.output import (
    deploy_progress,
    print_deploy_warnings,
    print_deployed,
    print_incidents,
    print_instance,
    print_instances,
    print_rejected,
    print_run_hints,
    print_tasks,
)
from hub.progress import LiveCount
from hub.settings import HubSettings, runtime_limits
from hub.stopping import stop_on_signals
from hub.tables import printable
from protocols.actors import actor_of
from protocols.task_access import Completion, TaskRefused, check_assign, check_complete, is_approval, may_complete
from registry import Principal, RegistryError

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
As = Annotated[
    str | None,
    typer.Option("--as", help="Act as this registry user, with their groups (default: you, the local admin)."),
]


def open_engine(db: str | None) -> Engine:
    url = database_url(db)
    synchronous = os.environ.get("AGENTHUB_SQLITE_SYNCHRONOUS", "FULL")
    try:
        limits = runtime_limits()
    except ValueError as exc:
        fail(str(exc))
    try:
        engine = Engine.open(url, synchronous=synchronous)
    except EngineError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"cannot open database '{printable_url(url)}': {exc}")
    engine.limits = limits
    return engine


def cli_principal() -> str:
    """Who starts instances from the command line: recorded as their owner (``startedBy``), like a token's name."""
    return operator().name


def parse_vars(raw: str | None, option: str = "--vars") -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = strict_json.loads(raw)
    except strict_json.JsonProblem as exc:
        fail(f"{option} is not valid JSON: {exc}" if exc.path is None else f"{option}: {exc}")
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
    """The BPMN files, with the model files their agents name beside them (stored with the deployment)."""
    try:
        return read_deployment(files)
    except DeploymentFilesError as exc:
        fail(str(exc))


def deploy_or_fail(engine: Engine, files: list[Path], *, expose: bool = False) -> list[Any]:
    """Deploy ``files`` (with the model files their agents name); problems end the command, warnings go to stderr."""
    return deploy_all_or_fail(engine, files, expose=expose)[0]


def deploy_all_or_fail(engine: Engine, files: list[Path], *, expose: bool = False) -> tuple[list[Any], list[Any]]:
    """``deploy_or_fail``, also answering the DMN decisions of the ``.dmn`` files."""
    resources = read_files(files)
    try:
        deployed, decisions = engine.deploy_all(resources, expose=expose, progress=deploy_progress(len(files)))
    except DeploymentError as exc:
        print_rejected(exc)
        raise typer.Exit(2) from None
    except EngineError as exc:
        fail(str(exc))
    print_deploy_warnings(deployed)
    return deployed, decisions


def engine_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except EngineError as exc:
        fail(str(exc))


# --- commands ---------------------------------------------------------------------------------


@app.command()
def deploy(
    files: Annotated[list[Path], typer.Argument(help="BPMN, .dmn (DMN decisions) and .form (Camunda Forms) files.")],
    expose: Annotated[
        bool, typer.Option("--expose", help="Offer the processes as MCP tools and A2A skills (as <agenthub:tool/>).")
    ] = False,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Deploy BPMN files; prints each process id and version, and warns (on stderr) about what a model uses
    that the engine accepts but will not act on."""
    engine = open_engine(db)
    deployed, decisions = deploy_all_or_fail(engine, files, expose=expose)
    print_deployed(deployed, as_json, expose=expose, decisions=decisions)


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="BPMN file.")],
    process: Annotated[str | None, typer.Option("--process", help="Process id, when the file has several.")] = None,
    vars: Vars = None,
    workers: Workers = None,
    as_user: As = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Deploy FILE, start one instance and drive it until it completes or waits for something outside."""
    variables = parse_vars(vars)
    register_workers(workers)
    by = cli_actor(db, as_user)
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
    started = engine_call(engine.start, process, variables, owner=as_user or cli_principal(), by=by)
    with job_types(engine, database_url(db)) as handlers:
        WorkerLoop(engine, handlers).run(until_idle=True)
    view = engine_call(engine.instance, started.key)
    print_instance(view, as_json)
    print_run_hints(view)


@app.command()
def start(
    process_id: Annotated[str, typer.Argument(help="Process id.")],
    vars: Vars = None,
    version: Annotated[int | None, typer.Option("--version", help="A specific version (default: latest).")] = None,
    as_user: As = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Start an instance of a deployed process (with --as, on that user's behalf: it is theirs)."""
    variables = parse_vars(vars)
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    view = engine_call(engine.start, process_id, variables, version=version, owner=as_user or cli_principal(), by=by)
    print_instance(view, as_json)


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


def acting(db: str | None, user_id: str | None) -> Principal:
    """Who a task command acts as: the local operator (an admin), or with ``--as`` a user with their groups."""
    if user_id is None:
        return Principal(cli_principal(), frozenset({"admin"}))
    try:
        user = open_registry(database_url(db)).users.get(user_id)
    except RegistryError as exc:
        fail(str(exc))
    return Principal(user.id, frozenset({"tasks"}), groups=frozenset(user.groups), person=True,
                     display_name=user.name)


def cli_actor(db: str | None, user_id: str | None) -> Actor:
    """The journal's record of a command made here: the local operator, or with ``--as`` that user (who must
    exist in the registry), with the operator recorded as who entered it."""
    if user_id is None:
        return actor_of(operator(), Channel.CLI)
    return actor_of(acting(db, user_id), Channel.CLI, operator=operator().name)


_TASK_SORTS = {"created": "created", "due": "dueDate", "follow-up": "followUpDate", "priority": "priority"}


@app.command()
def tasks(
    group: Annotated[str | None, typer.Option("--group", help="Only tasks for this candidate group.")] = None,
    sort: Annotated[str, typer.Option("--sort", help="Order: created (the default), due, follow-up or priority; "
                                      "tasks without a due or follow-up date come last.")] = "created",
    descending: Annotated[bool, typer.Option("--desc", help="Descending: latest due first, highest priority "
                                             "(escalated approvals) first.")] = False,
    as_user: As = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """List open user tasks: all of them, or with --as those that user may complete (theirs and their groups')."""
    if sort not in _TASK_SORTS:
        fail(f"unknown --sort '{sort}': use {', '.join(_TASK_SORTS)}")
    who = acting(db, as_user)
    engine = open_engine(db)
    order = f"-{_TASK_SORTS[sort]}" if descending else _TASK_SORTS[sort]
    views = engine_call(engine.user_tasks, candidate_group=group, sort=order)
    print_tasks(views if as_user is None else [v for v in views if may_complete(who, v)], as_json)


@app.command()
def claim(
    task_id: Annotated[int, typer.Argument(help="User task id.")],
    user: Annotated[str, typer.Option("--user", help="Assign the task to this user (or machine) id.")],
    as_user: As = None,
    db: Db = None,
) -> None:
    """Assign a user task to someone; only they may complete it then (with --as, under that user's rules)."""
    held = _assign(db, task_id, user, as_user)
    typer.echo(f"user task {task_id} {held}assigned to {user}")


@app.command()
def unclaim(task_id: Annotated[int, typer.Argument(help="User task id.")], as_user: As = None,
            db: Db = None) -> None:
    """Unassign a user task: it is offered to its candidates again."""
    held = _assign(db, task_id, None, as_user)
    typer.echo(f"user task {task_id} {held}unassigned")


def _assign(db: str | None, task_id: int, assignee: str | None, as_user: str | None) -> str:
    """Assign; says "to be " when the task's assigning listeners hold the assignment until their jobs have run."""
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    if as_user is not None:  # the local operator may assign any task; a user only as the task rules allow
        try:
            check_assign(acting(db, as_user), engine_call(engine.user_task, task_id), assignee)
        except TaskRefused as exc:
            fail(str(exc))
    engine_call(engine.claim_user_task, task_id, assignee, by=by)
    listener = engine_call(engine.user_task, task_id).details.get("listener") or {}
    return "to be " if listener.get("state") == "assigning" else ""


@app.command()
def complete(
    task_id: Annotated[int, typer.Argument(help="User task id.")], vars: Vars = None, as_user: As = None,
    db: Db = None,
) -> None:
    """Complete a user task; the instance moves on. Not yours to complete: recorded as your (admin) override."""
    variables = parse_vars(vars)
    engine, done, by = _completer(db, as_user, task_id)
    engine_call(engine.complete_user_task, task_id, variables, by=by)
    after = engine_call(engine.user_task, task_id)
    if after.state == "created":  # an approval that needs more distinct approvers than it has so far
        typer.echo(f"approved user task {task_id}: {len(after.details.get('approvedBy') or [])} of "
                   f"{after.details.get('approvers')} approvals, it waits for the others")
        return
    typer.echo(f"completed user task {task_id}" + (f" as {done.completed_by}" if done.override else ""))


def _completer(db: str | None, as_user: str | None, task_id: int) -> tuple[Engine, Completion, Actor]:
    """The engine, and who acts on task ``task_id`` as whoever may complete it (exits saying why not)."""
    who = acting(db, as_user)
    engine = open_engine(db)
    task = engine_call(engine.user_task, task_id)
    try:
        done = check_complete(who, task)
    except TaskRefused as exc:
        hint = " (approve as a person: --as USER_ID)" if as_user is None and is_approval(task) else ""
        fail(f"{exc}{hint}")
    # With --as the approver is that user (four eyes and distinct approvers count them), through the CLI.
    by = actor_of(who, Channel.CLI, override=done.override, operator=operator().name if as_user else None)
    return engine, done, by


@app.command(name="task-variables")
def task_variables(
    task_id: Annotated[int, typer.Argument(help="User task id.")], vars: Vars = None, as_user: As = None,
    db: Db = None,
) -> None:
    """Set variables in an open user task's own scope (a draft kept with the task), as whoever may complete it;
    its updating listeners run first and may deny them."""
    values = parse_vars(vars)
    if not values:
        fail("give the variables to set with --vars '{\"name\": value}'")
    engine, _, by = _completer(db, as_user, task_id)
    engine_call(engine.set_user_task_variables, task_id, values, by=by)
    names = ", ".join(sorted(values))
    if engine_call(engine.user_task, task_id).held("updating"):
        typer.echo(f"user task {task_id}: {names} wait for its updating listeners (a worker runs them; one may "
                   "deny them)")
        return
    typer.echo(f"set {names} on user task {task_id}")


@app.command()
def incidents(as_json: AsJson = False, db: Db = None) -> None:
    """List open incidents."""
    engine = open_engine(db)
    print_incidents(engine_call(engine.incidents), as_json)


@app.command()
def retry(incident_id: Annotated[int, typer.Argument(help="Incident id.")], as_user: As = None,
          db: Db = None) -> None:
    """Resolve an incident: retry the failed job or expression (fix the cause first)."""
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    engine_call(engine.resolve_incident, incident_id, by=by)
    typer.echo(f"resolved incident {incident_id}; retrying")


@app.command()
def cancel(instance_id: Annotated[int, typer.Argument(help="Instance id.")], as_user: As = None,
           db: Db = None) -> None:
    """Cancel a process instance, with everything it started."""
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    view = engine_call(engine.cancel, instance_id, by=by)
    if view.state == "terminated":
        typer.echo(f"canceled instance {instance_id}")
        return
    waits = [e.get("waitingFor") or {} for e in view.active_elements]
    listeners = sorted({w["jobType"] for w in waits if "jobType" in w})
    typer.echo(f"canceling instance {instance_id}: it ends once the canceling listeners of its user tasks have run"
               + (f" (a worker of {', '.join(listeners)})" if listeners else ""))


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
        typer.echo(printable(journal_line(entry)))


@app.command()
def worker(
    workers: Workers = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop when no job is due.")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Jobs run at once.")] = 4,
    lease: Annotated[float, typer.Option("--lease", help="Job lease in seconds (a heartbeat extends it).")] = 10.0,
    db: Db = None,
) -> None:
    """Run the worker loop: execute due jobs, the hub's built-in job types (agents' model steps, http, mcp, a2a)
    and the @worker handlers of --workers, and fire due timers; beside it, as serve does, poll the A2A tasks of
    Camunda's polling catch events and cancel the remote tasks of withdrawn a2a waits."""
    # The signals are caught from the start: one that comes while the worker loads (its imports, the database,
    # the handlers: seconds on a busy machine) stops the loop before it claims anything.
    loops: list[WorkerLoop] = []
    asked = threading.Event()

    def stop() -> None:
        asked.set()
        for loop in loops:
            loop.stop()

    def say(line: str) -> None:
        typer.echo(f"worker {loops[0].name if loops else os.getpid()}: {line}", err=True)

    def counts(loop: WorkerLoop) -> str:
        return (f"worker {loop.name}: {loop.completed} jobs completed, {loop.failed} failed attempts, "
                f"{loop.fired} timers fired")

    try:
        with stop_on_signals(stop, say):
            register_workers(workers)
            engine = open_engine(db)
            with job_types(engine, database_url(db)) as handlers:
                from hub.job_types import running_sweeps  # loaded with the job types: the protocols' SDKs

                loop = WorkerLoop(
                    engine, handlers, settings=WorkerSettings(concurrency=concurrency, lease_ms=int(lease * 1000))
                )
                loops.append(loop)
                if asked.is_set():
                    loop.stop()
                typer.echo(f"worker {loop.name}: firing timers; handling {', '.join(handlers.types())}", err=True)

                with LiveCount(lambda: counts(loop)), running_sweeps(handlers, engine):
                    loop.run(until_idle=until_idle)
                typer.echo(counts(loop), err=True)
    except KeyboardInterrupt:  # a second signal: stopped at once
        stop()
        if loops:
            typer.echo(counts(loops[0]), err=True)


@contextlib.contextmanager
def job_types(engine: Engine, url: str) -> Iterator[WorkerRegistry]:
    """Every job type ``serve`` runs, with the same settings, then the ``@worker`` handlers loaded.

    The protocols' SDKs (MCP, A2A, litellm) load only here, for the commands that run jobs.
    """
    from hub.job_types import close_handlers, hub_policies, job_handlers
    try:
        settings = HubSettings.from_env(db=url)
        engine.agent_policies = hub_policies(settings.agent_policies)
    except ValueError as exc:
        fail(str(exc))
    if settings.otel:  # AGENTHUB_OTEL: traces and metrics by OTLP (a worker serves no /metrics)
        from hub.telemetry import install

        install()
    registry = open_registry(url)
    try:
        handlers = job_handlers(registry, settings, engine=engine)
    except ValueError as exc:  # a malformed AGENTHUB_HTTP_ALLOW, AGENTHUB_HTTP_ROUTES, secrets file ...
        registry.close()
        fail(str(exc))
    try:
        yield handlers
    finally:
        close_handlers(handlers)
        registry.close()


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
    as_user: As = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Publish a message to the instances waiting for it (or buffer it for its time to live)."""
    variables = parse_vars(vars)
    ttl_ms = parse_ttl(ttl)
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    result = engine_call(engine.publish_message, name, key, variables, ttl_ms=ttl_ms, message_id=message_id, by=by)
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
def signal(name: Annotated[str, typer.Argument(help="Signal name.")], vars: Vars = None, as_user: As = None,
           db: Db = None) -> None:
    """Broadcast a signal to every instance and start event waiting for it."""
    variables = parse_vars(vars)
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    count = engine_call(engine.broadcast_signal, name, variables, by=by)
    typer.echo(f"broadcast signal '{name}': reached {count} waiting element(s)")


@app.command()
def variables(
    instance_id: Annotated[int, typer.Argument(help="Instance id.")], vars: Vars = None, as_user: As = None,
    db: Db = None,
) -> None:
    """Set variables of an instance (for example to fix the cause of an incident before `retry`)."""
    values = parse_vars(vars)
    if not values:
        fail("give the variables to set with --vars '{\"name\": value}'")
    by = cli_actor(db, as_user)
    engine = open_engine(db)
    engine_call(engine.set_variables, instance_id, values, local=False, by=by)
    typer.echo(f"updated {', '.join(sorted(values))} on instance {instance_id}")


def _add_command_groups() -> None:
    """The command groups that live in modules of their own (they import this module's helpers)."""
    from hub.commands import agents, audit, decide, discover, drafts, inbound, mcp_servers, serve, tokens, users

    app.command()(serve.serve)
    app.command(name="audit")(audit.audit)
    app.command(name="decide")(decide.decide)
    app.command(name="mcp")(serve.mcp)
    app.add_typer(tokens.app, name="token")
    app.add_typer(users.app, name="user")
    app.add_typer(mcp_servers.app, name="mcp-server")
    app.add_typer(agents.app, name="agent")
    app.add_typer(inbound.app, name="inbound")
    app.command(name="export")(discover.export)
    app.add_typer(discover.app, name="discover")
    app.add_typer(drafts.app, name="draft")


_add_command_groups()


def _build_only_the_command_run(args: list[str]) -> None:
    """Typer builds every command's parameters on each run (~0.2 s for all of them); build only the one named.

    ``agenthub --help``, a mistyped name and anything else not naming exactly
    one command or group keep the whole app. Typer runs a lone command as the
    app itself, so a hidden placeholder keeps ``agenthub NAME ...`` a subcommand.
    """
    if not args or args[0].startswith("-"):
        return
    name = args[0]
    commands = [c for c in app.registered_commands
                if (c.name or (c.callback.__name__.lower().replace("_", "-") if c.callback else "")) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return
    app.registered_commands = commands
    app.registered_groups = groups
    if commands:
        app.command(name=" ", hidden=True)(_placeholder)


def _placeholder() -> None:
    """Never run: it only keeps a one-command app a group."""


def main() -> None:
    sys.path.insert(0, os.getcwd())
    configure_logging()
    commands, groups = list(app.registered_commands), list(app.registered_groups)
    _build_only_the_command_run(sys.argv[1:])
    try:
        app()
    finally:  # the app whole again, for a caller that runs main() more than once in one process
        app.registered_commands, app.registered_groups = commands, groups


if __name__ == "__main__":
    main()
