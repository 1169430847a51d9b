"""``agenthub audit``: the registry's audit, who changed a token, a user, an MCP server or tool, or an A2A agent.

Each change is recorded (``registry.RegistryStore.audit``) in the transaction that made it, with the principal's
id and, in ``data.by``, how it arrived (the journal's ``by``: ``alice via rest``, ``cli:ops via cli``). What an
instance did, and who made it, is ``agenthub journal``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from engine import Actor
from hub.console import AsJson, Db, database_url, open_registry
from hub.tables import compact, table, utc_time


def audit(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only changes of this: user:ID, token:ID, mcp:SERVER, agent:NAME.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many, newest first.")] = 100,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Show the registry's audit, newest first: what changed, and who changed it how."""
    registry = open_registry(database_url(db))
    try:
        events = registry.store.events(subject, limit)
    finally:
        registry.close()
    if as_json:
        typer.echo(json.dumps(events, indent=2))
        return
    if not events:
        typer.echo("no registry changes recorded")
        return
    rows = [[utc_time(e["at"]), e["kind"], e["subject"], who(e), compact(_details(e))] for e in events]
    for line in table(["AT (UTC)", "CHANGE", "SUBJECT", "BY", "DETAILS"], rows):
        typer.echo(line)


def who(event: dict[str, Any]) -> str:
    """``alice via rest``: the actor as the journal labels it; an older row has only the id (or no one)."""
    by = (event.get("data") or {}).get("by")
    if isinstance(by, dict):
        return Actor.from_json(by).label()
    return str(event.get("actor") or "-")


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (event.get("data") or {}).items() if k != "by"}
