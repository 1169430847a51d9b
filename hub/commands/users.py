"""``agenthub user add | list | remove``: the local users (people) of an embedded hub, with their groups.

A user's token (``agenthub token create --user ID``) authenticates as the user, with the user's groups as
they are when the token is checked. Removing a user revokes their tokens.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hub.console import AsJson, Db, database_url, fail, open_registry, operator_record
from hub.tables import table, utc_time
from registry import Registry, RegistryError

app = typer.Typer(help="Local users: people with a display name and groups.", no_args_is_help=True)


def _registry(db: str | None) -> Registry:
    return open_registry(database_url(db))


@app.command()
def add(
    user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id: letters, digits, '.', '_', '@', '-'.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the id).")] = None,
    groups: Annotated[str | None, typer.Option("--groups", help="Comma separated group names.")] = None,
    update: Annotated[
        bool, typer.Option("--update", help="Change an existing user: the --name and --groups given replace theirs.")
    ] = False,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Add a user (or, with --update, change one; their tokens see the change at once)."""
    registry = _registry(db)
    try:
        if update:
            user = registry.users.update(user_id, name=name, groups=groups, actor=operator_record())
        else:
            user = registry.users.add(user_id, name, groups or (), actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(user.to_json(), indent=2))
        return
    in_groups = f"in groups {', '.join(user.groups)}" if user.groups else "in no groups"
    typer.echo(f"{'updated' if update else 'added'} user {user.id} '{user.name}' {in_groups}")


@app.command(name="list")
def list_(as_json: AsJson = False, db: Db = None) -> None:
    """List the users with their groups."""
    users = _registry(db).users.all()
    if as_json:
        typer.echo(json.dumps([u.to_json() for u in users], indent=2))
        return
    if not users:
        typer.echo("no users")
        return
    rows = [[u.id, u.name, ",".join(u.groups), utc_time(u.created_at)] for u in users]
    for line in table(["ID", "NAME", "GROUPS", "CREATED (UTC)"], rows):
        typer.echo(line)


@app.command()
def remove(user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id.")], db: Db = None) -> None:
    """Remove a user and revoke their tokens (hubs that cached one stop accepting it within two seconds)."""
    try:
        revoked = _registry(db).users.remove(user_id, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    tokens = f"; revoked token{'s' if len(revoked) > 1 else ''} {', '.join(revoked)}" if revoked else ""
    typer.echo(f"removed user {user_id}{tokens}")
