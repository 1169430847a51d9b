"""``agenthub token create | list | revoke``: API tokens for the REST API, /mcp and A2A."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hub.console import AsJson, Db, database_url, fail, open_registry, operator_record
from hub.tables import table, utc_time
from registry import SCOPES, Registry, RegistryError

app = typer.Typer(help="API tokens: bearer secrets with scopes, stored hashed.", no_args_is_help=True)


def _registry(db: str | None) -> Registry:
    return open_registry(database_url(db))


@app.command()
def create(
    scopes: Annotated[str, typer.Option("--scopes", help=f"Comma separated: {', '.join(SCOPES)}.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "token",
    user: Annotated[
        str | None, typer.Option("--user", help="Issue it to this user (`agenthub user add`): it acts as them.")
    ] = None,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Create a token and print it once: it cannot be shown again."""
    registry = _registry(db)
    try:
        info, secret = registry.tokens.create(name, scopes, user=user, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({**info.to_json(), "token": secret}, indent=2))
        return
    typer.echo(secret)
    owner = f" for user {info.user}" if info.user else ""
    typer.echo(f"token {info.id} '{info.name}'{owner} with scopes {', '.join(info.scopes)}: store it now", err=True)


@app.command(name="list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """List tokens (never their secrets)."""
    tokens = _registry(db).tokens.all(include_revoked=all_)
    if as_json:
        typer.echo(json.dumps([t.to_json() for t in tokens], indent=2))
        return
    if not tokens:
        typer.echo("no tokens")
        return
    rows = [
        [t.id, f"{t.name} (user {t.user})" if t.user else t.name, ",".join(t.scopes), utc_time(t.created_at),
         utc_time(t.last_used_at),
         "revoked " + utc_time(t.revoked_at) if t.revoked_at else "active"]
        for t in tokens
    ]
    for line in table(["ID", "NAME", "SCOPES", "CREATED (UTC)", "LAST USED (UTC)", "STATE"], rows):
        typer.echo(line)


@app.command()
def revoke(
    token: Annotated[str, typer.Argument(help="The token's id (from `token list`) or name.")], db: Db = None
) -> None:
    """Revoke a token at once (hubs that cached it stop accepting it within two seconds)."""
    try:
        ids = _registry(db).tokens.revoke(token, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    typer.echo(f"revoked {', '.join(ids)}")
