"""What every ``agenthub`` command shares: the ``--db`` option and how errors end a command."""

from __future__ import annotations

import os
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from engine import Channel
from engine.store import sqlite_template
from hub.settings import DEFAULT_DB
from hub.tables import printable
from protocols.actors import actor_of
from registry import Principal, Registry

Db = Annotated[str | None, typer.Option("--db", help="Database URL (default: $AGENTHUB_DB or sqlite:///agenthub.db).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def database_url(db: str | None) -> str:
    return db or os.environ.get("AGENTHUB_DB") or DEFAULT_DB


def operator() -> Principal:
    """Who the command line runs as: the local operator, an admin named ``cli:$USER`` (owner of what it starts)."""
    return Principal(f"cli:{os.environ.get('USER') or 'local'}", frozenset({"admin"}))


def operator_record() -> dict[str, Any]:
    """The audit's record of a registry change made here (the journal's ``by``: id and channel ``cli``)."""
    return actor_of(operator(), Channel.CLI).to_json()


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command with one clear message on stderr and exit status 2."""
    typer.echo(printable(f"error: {message}"), err=True)
    raise typer.Exit(code)


def printable_url(url: str) -> str:
    """A database URL fit to print: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_registry(url: str) -> Registry:
    """The registry on the database at ``url``, or the end of the command with one message."""
    try:
        return Registry.open(url, templates=sqlite_template)
    except Exception as exc:
        fail(f"cannot open database '{printable_url(url)}': {exc}")
