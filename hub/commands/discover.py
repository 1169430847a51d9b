"""``agenthub export`` and ``agenthub discover inventory | brief``: event logs out, and what they say.

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
from discover.export import epoch_millis
from engine import Engine, EngineError
from hub.commands.discover_agents import agent_lines
from hub.console import AsJson, Db, database_url, fail, printable_url
from hub.tables import table

T = TypeVar("T")

app = typer.Typer(help="What the journal says: the process inventory and improvement briefs.", no_args_is_help=True)


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
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for line in lines(found):
        typer.echo(line)


@app.command(name="inventory")
def inventory_(as_json: AsJson = False, db: Db = None) -> None:
    """Every process: instances, completed, incidents, failure rate and cycle-time percentiles."""
    _report(db, lambda engine: [s.to_json() for s in inventory(engine)], as_json, _inventory_lines)


@app.command(name="brief")
def brief_(
    process: Annotated[str, typer.Argument(help="The process id.")], as_json: AsJson = False, db: Db = None
) -> None:
    """Where one process loses time (bottlenecks, rework, incidents) and the automation opportunities, ranked."""
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
    db: Db = None,
) -> None:
    """Discover a BPMN model (with its diagram) from how the instances ran: pm4py's inductive miner."""
    if version is not None and process is None:
        fail("--version needs --process")
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


@app.command(name="conformance")
def conformance_(
    process: Annotated[str, typer.Argument(help="The process id.")],
    version: Annotated[int | None, typer.Option("--version", min=1, help="The version (default: the latest).")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """How well a deployed version's instances fit its model: fitness, precision and the instances that deviate."""
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
    yield (f"process {found['processId']} version {found['version']}: {found['instances']} instances, fitness "
           f"{found['fitness']:.2f} ({found['fittingInstances']:.0%} fit), precision {found['precision']:.2f}")
    for d in found["deviations"]:
        yield (f"  instance {d['instance']} (fitness {d['fitness']:.2f}): ran {', '.join(d['activities'])}"
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
