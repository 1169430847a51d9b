"""``agenthub agent add | list | show | approve | remove``: remote A2A agents, registered by their pinned card."""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

from hub.commands.tokens import _registry
from hub.console import AsJson, Db, fail, operator_record
from hub.tables import printable, table
from registry import RegistryError

if TYPE_CHECKING:
    from protocols.http import EgressPolicy

app = typer.Typer(help="Remote A2A agents that processes can call.", no_args_is_help=True)


def _egress() -> EgressPolicy:
    """The allow-list of the hub's calls (AGENTHUB_HTTP_ALLOW); a malformed one ends the command."""
    from protocols.http import ENV_VAR, EgressConfigError, EgressPolicy

    try:
        return EgressPolicy.from_env(os.environ.get(ENV_VAR))
    except EgressConfigError as exc:
        fail(str(exc))


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="The agent's URL (its card is read from /.well-known/agent-card.json).")],
    name: Annotated[str | None, typer.Option("--name", help="Name to call it by (default: from its card).")] = None,
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="Environment variable holding the agent's bearer token.")
    ] = None,
    db: Db = None,
) -> None:
    """Fetch the agent's card and pin it: a later change of card holds the agent until approved.

    The card is fetched only from an address the egress allow-list (AGENTHUB_HTTP_ALLOW) admits, as calls are.
    """
    from protocols.a2a import CardError, fetch_card  # httpx loads only for the commands that go out

    try:
        card = asyncio.run(fetch_card(url, egress=_egress(), token_env=token_env))
    except CardError as exc:
        fail(str(exc))
    chosen = name or "".join(c if c.isalnum() or c in "-_." else "-" for c in str(card["name"])).strip("-")[:64]
    try:
        agent = _registry(db).agents.add(chosen, url, card, token_env=token_env, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    skills = ", ".join(s for s in agent.to_json()["skills"] if s) or "none listed"
    typer.echo(printable(f"agent '{agent.name}' added: {card.get('description', '')} (skills: {skills})"))


@app.command(name="list")
def list_(as_json: AsJson = False, db: Db = None) -> None:
    agents = _registry(db).agents.all()
    if as_json:
        typer.echo(json.dumps([a.to_json() for a in agents], indent=2))
        return
    if not agents:
        typer.echo("no agents")
        return
    rows = [[a.name, a.state, "yes" if a.callable else "no", a.url] for a in agents]
    for line in table(["NAME", "STATE", "CALLABLE", "URL"], rows):
        typer.echo(line)


@app.command()
def show(name: Annotated[str, typer.Argument()], db: Db = None) -> None:
    """Print the agent's pinned card."""
    try:
        agent = _registry(db).agents.get(name)
    except RegistryError as exc:
        fail(str(exc))
    typer.echo(json.dumps({**agent.to_json(), "card": agent.card}, indent=2))


@app.command()
def approve(name: Annotated[str, typer.Argument()], db: Db = None) -> None:
    """Fetch the agent's card again and approve it as it is now."""
    from protocols.a2a import CardError, fetch_card

    registry = _registry(db)
    try:
        agent = registry.agents.get(name)
        card = asyncio.run(fetch_card(agent.url, egress=_egress(), token_env=agent.token_env))
        registry.agents.refresh(name, card, actor=operator_record())
        registry.agents.approve(name, actor=operator_record())
    except (RegistryError, CardError) as exc:
        fail(str(exc))
    typer.echo(f"agent '{name}' approved")


@app.command()
def remove(name: Annotated[str, typer.Argument()], db: Db = None) -> None:
    try:
        _registry(db).agents.remove(name, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    typer.echo(f"agent '{name}' removed")
