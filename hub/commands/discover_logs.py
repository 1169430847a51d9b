"""``agenthub discover import | logs | delete-log``: event logs from other systems in, kept apart from our runs.

``import`` reads an XES, OCEL 2.0 JSON or CSV file into the hub's database
(``discover.log_store``); the analyses then take the log by name with
``--log`` (``discover inventory | brief | model | conformance``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from discover.exceptions import DiscoverError
from discover.log_import import CsvColumns, ImportFormat, LogReader
from discover.log_store import ImportedLogs
from hub.console import AsJson, Db, database_url, fail, open_registry, operator
from hub.tables import table

__all__ = ["default_log_name", "delete_log", "import_", "list_logs", "with_logs"]

T = TypeVar("T")


def default_log_name(file_name: str) -> str:
    """A log's name from its file's: ``orders.xes.gz`` -> ``orders``."""
    stem = Path(file_name).name.split(".")[0]
    return re.sub(r"[^A-Za-z0-9._-]", "-", stem).strip("-._")[:64] or "log"


def with_logs(db: str | None, work: Callable[[ImportedLogs], T]) -> T:
    """``work`` on the imported logs of the database (a DiscoverError: one line, exit 2)."""
    registry = open_registry(database_url(db))
    try:
        return work(ImportedLogs(registry.store))
    except DiscoverError as exc:
        fail(str(exc))
    finally:
        registry.close()


def import_(
    file: Annotated[Path, typer.Argument(help="The log: .xes (or .xes.gz), OCEL 2.0 .json, or .csv.")],
    fmt: Annotated[str | None, typer.Option("--format", help="xes, ocel or csv (default: from the file's name).")
                   ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The log's name (default: the file's, without "
                                                             "suffixes).")] = None,
    case_column: Annotated[str | None, typer.Option("--case-column", help="CSV: the case id's column.")] = None,
    activity_column: Annotated[str | None, typer.Option("--activity-column", help="CSV: the activity's column.")
                               ] = None,
    timestamp_column: Annotated[str | None, typer.Option("--timestamp-column", help="CSV: the time's column "
                                                                                     "(ISO 8601).")] = None,
    resource_column: Annotated[str | None, typer.Option("--resource-column", help="CSV: who did it.")] = None,
    case_type: Annotated[str | None, typer.Option("--case-type", help="OCEL: the object type whose objects are the "
                                                                       "cases (default: the most frequent).")] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Import an event log from another system (XES, OCEL 2.0 or CSV), kept apart from the hub's own runs."""
    columns = CsvColumns(case_column, activity_column, timestamp_column, resource_column)
    try:
        kind = ImportFormat.parse(fmt) if fmt else ImportFormat.of_file(file.name)
        stream = file.open("rb")
    except DiscoverError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read '{file}': {exc.strerror or exc}")
    with stream:
        reader = LogReader(stream, kind, source=file.name, columns=columns, case_type=case_type)
        log = with_logs(db, lambda logs: logs.add(name or default_log_name(file.name), reader, by=operator().name))
    if as_json:
        typer.echo(json.dumps(log.to_json(), indent=2))
        return
    typer.echo(f"imported {log.events} events of {log.cases} cases ({len(log.activities)} activities) from "
               f"{file.name} as log '{log.name}'" + (f"; skipped {log.skipped} events" if log.skipped else "")
               + (f"; cases are the '{log.case_type}' objects" if log.case_type else ""))


def list_logs(as_json: AsJson = False, db: Db = None) -> None:
    """The imported event logs."""
    found = with_logs(db, lambda logs: logs.all())
    if as_json:
        typer.echo(json.dumps([log.to_json() for log in found], indent=2))
        return
    if not found:
        typer.echo("no imported logs: agenthub discover import FILE")
        return
    for line in table(["LOG", "FORMAT", "SOURCE", "CASES", "EVENTS", "ACTIVITIES"],
                      [[log.name, log.format, log.source, str(log.cases), str(log.events), str(len(log.activities))]
                       for log in found]):
        typer.echo(line)


def delete_log(name: Annotated[str, typer.Argument(help="The imported log's name.")], db: Db = None) -> None:
    """Delete an imported event log (the hub's own journal is never touched)."""
    with_logs(db, lambda logs: logs.delete(name))
    typer.echo(f"deleted log '{name}'")
