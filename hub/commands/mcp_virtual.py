"""``agenthub mcp-server virtual add | list | show | remove``: curated sets of tools served at ``/mcp/{name}``.

A virtual server offers only what it names: processes (of those exposed as
tools), federated upstream tools (``SERVER__TOOL``) and registered A2A agents,
to the users and groups it allows (and admins); with ``--a2a`` its processes
are also the skills of an A2A agent at ``/a2a/{name}``. Every call through it is
governed and audited as a call on ``/mcp`` (docs/GATEWAY.md). ``add`` on an
existing name replaces its definition whole.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hub.console import AsJson, Db, database_url, fail, open_registry, operator_record
from hub.tables import table
from registry import RegistryError, VirtualServer

app = typer.Typer(
    help="Virtual MCP servers: a curated set of processes, upstream tools and agents at /mcp/NAME, for chosen "
    "users and groups.",
    no_args_is_help=True,
)

Many = list[str] | None


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The server's name: it is served at /mcp/NAME.")],
    process: Annotated[Many, typer.Option("--process", help="A process id it offers (exposed). Repeatable.")] = None,
    tool: Annotated[Many, typer.Option("--tool", help="A federated tool, SERVER__TOOL. Repeatable.")] = None,
    agent: Annotated[Many, typer.Option("--agent", help="A registered A2A agent's name. Repeatable.")] = None,
    allow_user: Annotated[Many, typer.Option("--allow-user", help="A principal allowed in. Repeatable.")] = None,
    allow_group: Annotated[Many, typer.Option("--allow-group", help="A group allowed in. Repeatable.")] = None,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    a2a: Annotated[bool, typer.Option("--a2a", help="Also serve its processes as the skills of an A2A agent at "
                                      "/a2a/NAME, to the same users and groups.")] = False,
    db: Db = None,
) -> None:
    """Define (or replace) a virtual MCP server."""
    server = VirtualServer(
        name=name, description=description, processes=tuple(process or ()), tools=tuple(tool or ()),
        agents=tuple(agent or ()), allow_users=tuple(allow_user or ()), allow_groups=tuple(allow_group or ()),
        a2a=a2a,
    )
    registry = open_registry(database_url(db))
    try:
        saved, created = registry.virtual.put(server, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    finally:
        registry.close()
    typer.echo(f"{'defined' if created else 'replaced'} virtual MCP server '{name}' at /mcp/{name}: "
               f"{len(saved.processes)} process(es), {len(saved.tools)} tool(s), {len(saved.agents)} agent(s)"
               + (f"; and an A2A agent at /a2a/{name} with its processes as skills" if saved.a2a else ""))
    if not (saved.allow_users or saved.allow_groups):
        typer.echo("note: it allows no users or groups, so only admins may use it (--allow-user, --allow-group)")


@app.command(name="list")
def list_(as_json: AsJson = False, db: Db = None) -> None:
    """List the virtual MCP servers."""
    registry = open_registry(database_url(db))
    try:
        servers = registry.virtual.all()
    finally:
        registry.close()
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in servers], indent=2))
        return
    if not servers:
        typer.echo("no virtual MCP servers (define one with `agenthub mcp-server virtual add NAME --tool S__T ...`)")
        return
    rows = [[s.name, f"/mcp/{s.name}" + (f", /a2a/{s.name}" if s.a2a else ""), str(len(s.processes)),
             str(len(s.tools)), str(len(s.agents)),
             ", ".join([*s.allow_users, *(f"group:{g}" for g in s.allow_groups)]) or "(admins only)"]
            for s in servers]
    for line in table(["NAME", "PATH", "PROCESSES", "TOOLS", "AGENTS", "ALLOWED"], rows):
        typer.echo(line)


@app.command()
def show(name: Annotated[str, typer.Argument(help="The server's name.")], as_json: AsJson = False,
         db: Db = None) -> None:
    """Show one virtual MCP server's set and who may use it."""
    registry = open_registry(database_url(db))
    try:
        server = registry.virtual.get(name)
    except RegistryError as exc:
        fail(str(exc))
    finally:
        registry.close()
    if as_json:
        typer.echo(json.dumps(server.to_json(), indent=2))
        return
    typer.echo(f"virtual MCP server '{server.name}' at /mcp/{server.name}" +
               (f" and A2A agent at /a2a/{server.name}" if server.a2a else "") +
               (f": {server.description}" if server.description else ""))
    for label, values in (("processes", server.processes), ("tools", server.tools), ("agents", server.agents),
                          ("allowed users", server.allow_users), ("allowed groups", server.allow_groups)):
        typer.echo(f"  {label + ':':<16} {', '.join(values) or '-'}")


@app.command()
def remove(name: Annotated[str, typer.Argument(help="The server's name.")], db: Db = None) -> None:
    """Remove a virtual MCP server: /mcp/NAME answers 404 from the next request on."""
    registry = open_registry(database_url(db))
    try:
        registry.virtual.remove(name, actor=operator_record())
    except RegistryError as exc:
        fail(str(exc))
    finally:
        registry.close()
    typer.echo(f"removed virtual MCP server '{name}'")
