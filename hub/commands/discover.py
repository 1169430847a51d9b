"""``agenthub export`` and ``agenthub discover inventory | brief``: event logs out, and what they say.

``discover import`` reads another system's event log (XES, OCEL 2.0,
CSV) into tables of its own, and ``--log NAME`` runs the analyses on it.
``export`` streams the journal of a set of instances (a process, a version,
a start-time range) into a file as XES or OCEL 2.0 JSON (``discover``);
``discover inventory`` sums up every process, ``discover brief PROCESS``
says where one process loses time and what to automate first; ``discover
agents`` mines the agents' own decisions; ``discover
model`` mines a BPMN model from the log and ``discover conformance`` checks
the log against a deployed version (both with pm4py, the optional extra).
All of them only read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from discover import (
    DiscoverError,
    ExportFormat,
    LogFilter,
    agent_behaviour,
    brief,
    conformance,
    discover_model,
    export_to,
    inventory,
)
from discover.compare import compare_versions
from discover.export import epoch_millis
from discover.log_analysis import log_brief, log_conformance, log_model, log_summary
from engine import Engine, EngineError
from hub.commands.discover_agents import agent_lines
from hub.commands.discover_logs import delete_log, import_, list_logs, with_logs
from hub.commands.discover_text import compare_lines
from hub.console import AsJson, Db, database_url, fail, printable_url
from hub.tables import table

T = TypeVar("T")

app = typer.Typer(help="What the journal says: the process inventory and improvement briefs.", no_args_is_help=True)
app.command(name="import")(import_)
app.command(name="logs")(list_logs)
app.command(name="delete-log")(delete_log)


def _engine(db: str | None) -> Engine:
    url = database_url(db)
    try:
        return Engine.open(url)
    except EngineError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"cannot open database '{printable_url(url)}': {exc}")


def export(
    out: Annotated[Path, typer.Option("--out", help="The file to write (replaced when it exists).")],
    fmt: Annotated[str, typer.Option("--format", help="xes (IEEE 1849) or ocel (OCEL 2.0 JSON).")] = "xes",
    process: Annotated[str | None, typer.Option("--process", help="Only this process id.")] = None,
    version: Annotated[int | None, typer.Option("--version", min=1, help="Only this version (with --process).")] = None,
    started_from: Annotated[
        str | None, typer.Option("--from", help="Only instances started at or after this (ISO 8601, UTC).")
    ] = None,
    started_to: Annotated[str | None, typer.Option("--to", help="Only instances started before this.")] = None,
    db: Db = None,
) -> None:
    """Export the instances' journal as an event log: one trace per instance (XES), or events over objects (OCEL)."""
    if version is not None and process is None:
        fail("--version needs --process")
    engine = _engine(db)
    try:
        where = LogFilter(process_id=process, version=version,
                          started_from=None if started_from is None else epoch_millis(started_from, "--from"),
                          started_to=None if started_to is None else epoch_millis(started_to, "--to"))
        counts = export_to(engine, ExportFormat.parse(fmt), where, out)
    except DiscoverError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write '{out}': {exc.strerror or exc}")
    finally:
        engine.close()
    typer.echo(f"wrote {counts.events} events of {counts.traces} instances to {out}")


def _report(db: str | None, compute: Callable[[Engine], T], as_json: bool,
            lines: Callable[[T], Iterable[str]]) -> None:
    """Compute from the database, then print it as JSON or as ``lines`` (a DiscoverError: one line, exit 2)."""
    engine = _engine(db)
    try:
        found = compute(engine)
    except DiscoverError as exc:
        fail(str(exc))
    finally:
        engine.close()
    _print(found, as_json, lines)


def _print(found: T, as_json: bool, lines: Callable[[T], Iterable[str]]) -> None:
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for line in lines(found):
        typer.echo(line)


Log = Annotated[str | None, typer.Option("--log", help="An imported log (`discover import`) instead of our runs.")]


@app.command(name="inventory")
def inventory_(log: Log = None, as_json: AsJson = False, db: Db = None) -> None:
    """Every process: instances, completed, incidents, failure rate and cycle-time percentiles."""
    if log is not None:
        found = with_logs(db, lambda logs: [log_summary(logs, log)])
        _print(found, as_json, _inventory_lines)
        return
    _report(db, lambda engine: [s.to_json() for s in inventory(engine)], as_json, _inventory_lines)


@app.command(name="brief")
def brief_(
    process: Annotated[str | None, typer.Argument(help="The process id (none with --log).")] = None,
    log: Log = None,
    compare: Annotated[tuple[int, int] | None, typer.Option(
        "--compare", help="OLD NEW: two versions side by side on the same measures.")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Where one process loses time (bottlenecks, rework, incidents) and the automation opportunities, ranked."""
    if (process is None) == (log is None):
        fail("name a process, or an imported log with --log")
    if log is not None:
        if compare is not None:
            fail("--compare compares two versions of a process: an imported log has none")
        _print(with_logs(db, lambda logs: log_brief(logs, log)), as_json, _brief_lines)
        return
    assert process is not None
    if compare is not None:
        old, new = compare
        _report(db, lambda engine: compare_versions(engine, process, old, new), as_json, compare_lines)
        return
    _report(db, lambda engine: brief(engine, process), as_json, _brief_lines)


@app.command(name="agents")
def agents_(
    process: Annotated[str | None, typer.Argument(help="Only this process id.")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Each agent region's own decisions: tool sequences and graph, loops, denials, overrules, cost, drift."""
    _report(db, lambda engine: agent_behaviour(engine, process), as_json, agent_lines)


@app.command(name="model")
def model_(
    out: Annotated[Path, typer.Option("--out", help="The BPMN file to write (replaced when it exists).")],
    process: Annotated[str | None, typer.Option("--process", help="Only this process id.")] = None,
    version: Annotated[int | None, typer.Option("--version", min=1, help="Only this version (with --process).")] = None,
    noise: Annotated[float, typer.Option("--noise", help="Leave out behaviour rarer than this share (0 to 1).")] = 0.0,
    log: Log = None,
    db: Db = None,
) -> None:
    """Discover a BPMN model (with its diagram) from how the instances ran: pm4py's inductive miner."""
    if version is not None and process is None:
        fail("--version needs --process")
    if log is not None:
        if process is not None:
            fail("--log mines an imported log: leave out --process")
        xml = with_logs(db, lambda logs: log_model(logs, log, noise=noise))
        _write(out, xml)
        return
    engine = _engine(db)
    try:
        xml = discover_model(engine, LogFilter(process_id=process, version=version), noise=noise)
        out.write_bytes(xml)
    except DiscoverError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write '{out}': {exc.strerror or exc}")
    finally:
        engine.close()
    typer.echo(f"wrote the discovered model to {out}")


def _write(out: Path, xml: bytes) -> None:
    try:
        out.write_bytes(xml)
    except OSError as exc:
        fail(f"cannot write '{out}': {exc.strerror or exc}")
    typer.echo(f"wrote the discovered model to {out}")


@app.command(name="conformance")
def conformance_(
    process: Annotated[str, typer.Argument(help="The process id.")],
    version: Annotated[int | None, typer.Option("--version", min=1, help="The version (default: the latest).")] = None,
    log: Annotated[str | None, typer.Option("--log", help="Check an imported log's cases against the process "
                                                          "instead of its instances.")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """How well a deployed version's instances fit its model: fitness, precision and the instances that deviate."""
    if log is not None:
        _report(db, lambda engine: with_logs(db, lambda logs: log_conformance(engine, logs, log, process, version)),
                as_json, _conformance_lines)
        return
    _report(db, lambda engine: conformance(engine, process, version), as_json, _conformance_lines)


def _inventory_lines(found: list[dict[str, Any]]) -> Iterator[str]:
    if not found:
        yield "no instances yet"
        return
    rows = [[p["processId"], str(p["instances"]), str(p["completed"]), str(p["terminated"]), str(p["active"]),
             str(p["incidents"]), _ms(p["cycleTimeMs"].get("p50")), _ms(p["cycleTimeMs"].get("p90"))] for p in found]
    yield from table(["PROCESS", "INSTANCES", "COMPLETED", "TERMINATED", "ACTIVE", "INCIDENTS", "CYCLE P50",
                      "CYCLE P90"], rows)


def _conformance_lines(found: dict[str, Any]) -> Iterator[str]:
    yield ((f"log {found['log']} against " if "log" in found else "")
           + f"process {found['processId']} version {found['version']}: {found['instances']} "
           + ("cases" if "log" in found else "instances") + ", fitness "
           f"{found['fitness']:.2f} ({found['fittingInstances']:.0%} fit), precision {found['precision']:.2f}")
    what = "case" if "log" in found else "instance"
    for d in found["deviations"]:
        yield (f"  {what} {d['instance']} (fitness {d['fitness']:.2f}): ran {', '.join(d['activities'])}"
               + (f"; not allowed there: {', '.join(d['unexpected'])}" if d["unexpected"] else "")
               + (f"; skipped: {', '.join(d['skipped'])}" if d["skipped"] else ""))


def _ms(value: Any) -> str:
    if value is None:
        return "-"
    ms = int(value)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms / size:.1f} {unit}"
    return f"{ms} ms"


def _brief_lines(b: dict[str, Any]) -> list[str]:
    cycle = b["cycleTimeMs"]
    lines = [f"process {b['processId']}: {b['instances']} instances, {b['completed']} completed, "
             f"{b['terminated']} terminated, {b['active']} active, {b['incidents']} with incidents; "
             f"cycle time p50 {_ms(cycle.get('p50'))}, p90 {_ms(cycle.get('p90'))}", "", "bottlenecks:"]
    lines += table(["ELEMENT", "TYPE", "PASSES", "TOTAL", "SHARE", "P50", "P90"], [
        [f"{e['name']} ({e['elementId']})", e["type"], str(e["passes"]), _ms(e["totalMs"]), f"{e['share']:.0%}",
         _ms(e["waitMs"].get("p50")), _ms(e["waitMs"].get("p90"))] for e in b["bottlenecks"]]) \
        if b["bottlenecks"] else ["  none"]
    lines += ["", "rework loops:"] + ([f"  {r['name']} ({r['elementId']}): again in {r['instances']} instances, "
                                       f"{r['extraPasses']} extra passes" for r in b["reworkLoops"]] or ["  none"])
    lines += ["", "exception hot spots:"] + ([f"  {h['name']} ({h['elementId']}): {h['incidents']} incidents, "
                                              f"{h['errors']} errors" for h in b["exceptionHotSpots"]] or ["  none"])
    lines += ["", "automation opportunities (by expected impact):"]
    lines += [f"  {o['rank']}. {o['kind']} at {o['name']} ({o['elementId']}), {o['impact']}: {o['evidence']}"
              for o in b["opportunities"]] or ["  none"]
    return lines
