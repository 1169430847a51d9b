"""``agenthub mcp-server add | list | tools | approve | remove``: upstream MCP servers and their pinned tools.

``add`` connects, fetches the tools, prints each with its hash and registers
the server with those tools approved: running it is the admin's approval, so
it shows exactly what will run (the URL, or the argv list that is executed
without a shell). Later, ``tools`` fetches the list again and shows what
changed; a changed or new tool stays blocked until ``approve``.

Secrets are never printed: headers show their names, credentials the name of
the environment variable they are read from.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from hub.commands import mcp_virtual
from hub.console import AsJson, Db, database_url, fail, open_registry, operator_record
from hub.tables import table
from protocols.mcp.client_output import clean_text
from protocols.mcp.client_review import STATE_LABELS, review
from registry import McpServer, Registry, RegistryError, RegistryNotFound, tool_hash
from registry.mcp import check_server

app = typer.Typer(
    help="Upstream MCP servers whose tools processes may call; each tool is pinned by a hash of its definition.",
    no_args_is_help=True,
)
app.add_typer(mcp_virtual.app, name="virtual")  # agenthub mcp-server virtual ...: curated sets at /mcp/NAME

@contextmanager
def _registry(db: str | None) -> Iterator[Registry]:
    """The registry, with its errors and the client's ending the command with one message."""
    from protocols.http import EgressConfigError, EgressDenied
    from protocols.mcp.client import McpClientError  # the MCP SDK loads only for this command group

    registry = open_registry(database_url(db))
    try:
        yield registry
    except (RegistryError, McpClientError, EgressDenied, EgressConfigError) as exc:
        fail(str(exc))
    finally:
        registry.close()


def _fetch_tools(server: McpServer) -> list[dict[str, Any]]:
    """The server's tools, once its URL passed the egress allow-list (``AGENTHUB_HTTP_ALLOW``): the same rule as
    the hub's calls. A refused address ends the command, naming it and the setting, before anything is contacted."""
    from protocols.http import ENV_VAR, ConnectionFailed, EgressPolicy
    from protocols.mcp.client import McpConnectError, list_tools
    from protocols.mcp.client_egress import admit_server

    async def fetch() -> list[dict[str, Any]]:
        egress = EgressPolicy.from_env(os.environ.get(ENV_VAR))
        try:
            await admit_server(server, egress)
        except ConnectionFailed as exc:
            raise McpConnectError(f"MCP server '{server.name}': {exc}") from None
        return await list_tools(server, egress=egress)

    return asyncio.run(fetch())


def _headers(values: list[str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--header '{name}': write NAME=VALUE, or NAME=env:VAR to read the value from a variable at call time")
        headers[name.strip()] = value.strip()
    return headers


def _argv(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        fail(f"--command: {exc} (quote arguments as in a POSIX shell; nothing in it is run by a shell)")
    if not argv:
        fail("--command is empty: give the program and its arguments")
    return argv


def _describe(server: McpServer) -> str:
    from protocols.mcp.client import display_target

    if server.transport == "stdio":
        return f"stdio, argv run without a shell: {json.dumps(server.command)}"
    creds = [
        f"{n}={'env:' + v[4:] if v.startswith('env:') else '<literal>'}" for n, v in sorted(server.headers.items())
    ]
    if server.bearer_env:
        creds.append(f"Authorization=Bearer env:{server.bearer_env}")
    return f"streamable HTTP {display_target(server)}" + (f" (headers: {', '.join(creds)})" if creds else "")


def _first_line(text: Any, width: int = 72) -> str:
    line = clean_text(str(text or "")).strip().split("\n", 1)[0]
    return line if len(line) <= width else line[: width - 1] + "…"


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="A name for the server (letters, digits, '.', '_', '-').")],
    url: Annotated[str | None, typer.Option("--url", help="Streamable HTTP endpoint, e.g. https://host/mcp.")] = None,
    command: Annotated[
        str | None,
        typer.Option(
            "--command", help="Stdio server: program and arguments, split like a POSIX shell, never run by one."
        ),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="NAME=VALUE, or NAME=env:VAR (read at call time). Repeatable.")
    ] = None,
    bearer_env: Annotated[
        str | None, typer.Option("--bearer-env", help="Send 'Authorization: Bearer $VAR', read at call time.")
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="A variable the stdio server may inherit. Repeatable.")
    ] = None,
    timeout: Annotated[int, typer.Option("--timeout", help="Seconds a call may take (1-3600).")] = 60,
    db: Db = None,
) -> None:
    """Register an MCP server: fetch its tools, show them with their hashes, and pin them as approved."""
    if (url is None) == (command is None):
        fail("give either --url URL (streamable HTTP) or --command 'PROGRAM ARGS...' (stdio)")
    server = McpServer(
        name=name,
        transport="http" if url is not None else "stdio",
        url=url,
        command=_argv(command) if command is not None else [],
        headers=_headers(header),
        bearer_env=bearer_env,
        env=list(env or []),
        timeout_s=timeout,
    )
    with _registry(db) as registry:
        check_server(server)
        try:
            registry.mcp.get(name)
        except RegistryNotFound:
            pass
        else:
            fail(f"an MCP server named '{name}' is registered already (`agenthub mcp-server remove {name}` first)")
        typer.echo(f"MCP server '{name}': {_describe(server)}")
        tools = _fetch_tools(server)
        for tool in sorted(tools, key=lambda t: str(t["name"])):
            about = _first_line(tool.get("description"))
            typer.echo(f"  {clean_text(str(tool['name'])):<24} sha256:{tool_hash(tool)}  {about}")
        registry.mcp.add(server, tools, actor=operator_record())
        typer.echo(f"registered MCP server '{name}' with {len(tools)} tool(s) approved")


@app.command(name="list")
def list_(as_json: AsJson = False, db: Db = None) -> None:
    """List registered MCP servers (header names and variable names only, never secrets)."""
    with _registry(db) as registry:
        servers = registry.mcp.all()
        counts = {s.name: [t.callable for t in registry.mcp.tools(s.name)] for s in servers}
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in servers], indent=2))
        return
    if not servers:
        typer.echo("no MCP servers (add one with `agenthub mcp-server add NAME --url URL`)")
        return
    rows = [
        [s.name, s.transport, f"{sum(counts[s.name])}/{len(counts[s.name])} tools callable", _describe(s)]
        for s in servers
    ]
    for line in table(["NAME", "TRANSPORT", "TOOLS", "TARGET"], rows):
        typer.echo(line)


@app.command()
def tools(
    name: Annotated[str, typer.Argument(help="The server's name.")],
    refresh: Annotated[
        bool, typer.Option("--refresh/--no-refresh", help="Fetch the tools from the server first.")
    ] = True,
    as_json: AsJson = False,
    db: Db = None,
) -> None:
    """Fetch the server's tools again and show each one's state: approved, changed, pending (new) or removed."""
    with _registry(db) as registry:
        server = registry.mcp.get(name)
        report = registry.mcp.sync(name, _fetch_tools(server), actor=operator_record()) if refresh else None
        items = review(registry, name)
    if as_json:
        typer.echo(json.dumps({"server": name, "sync": report.to_json() if report else None, "tools": items}, indent=2))
        return
    if report is not None:
        typer.echo(
            f"MCP server '{name}': {len(report.added)} new, {len(report.changed)} changed, "
            f"{len(report.removed)} removed, {len(report.unchanged)} unchanged"
        )
    for item in items:
        label = STATE_LABELS.get(item["state"], item["state"])
        fields = f": {', '.join(item['changedFields'])}" if item["changedFields"] else ""
        typer.echo(f"  {clean_text(item['name']):<24} {label}{fields}  sha256:{item['hash']}")
    held = [i["name"] for i in items if not i["callable"] and i["state"] not in ("removed", "rejected")]
    if held:
        typer.echo(f"review, then approve with `agenthub mcp-server approve {name} [--tool NAME]` (or refuse a change "
                   f"with `agenthub mcp-server reject {name} --tool NAME --hash HASH`)")


@app.command()
def approve(
    name: Annotated[str, typer.Argument(help="The server's name.")],
    tool: Annotated[str | None, typer.Option("--tool", help="Only this tool (default: every held tool).")] = None,
    expect_hash: Annotated[
        str | None, typer.Option("--hash", help="Refuse unless the tool's current hash is this (as `tools` showed).")
    ] = None,
    db: Db = None,
) -> None:
    """Approve the current definition of a changed or new tool (or of all of them)."""
    if expect_hash is not None and tool is None:
        fail("--hash needs --tool: it names the definition of one tool")
    with _registry(db) as registry:
        if tool is not None and expect_hash is not None:
            current = registry.mcp.tool(name, tool).hash
            if current != expect_hash.removeprefix("sha256:"):
                fail(
                    f"tool '{tool}' of '{name}' changed again since you reviewed it (now sha256:{current}); "
                    f"run `agenthub mcp-server tools {name}` again"
                )
        approved = registry.mcp.approve(
            name, tool, expected_hash=expect_hash.removeprefix("sha256:") if expect_hash else None,
            actor=operator_record(),
        )
    typer.echo(f"approved: {', '.join(approved)}" if approved else "nothing to approve: every tool is approved")


@app.command()
def reject(
    name: Annotated[str, typer.Argument(help="The server's name.")],
    tool: Annotated[str, typer.Option("--tool", help="The held tool whose current definition you refuse.")],
    expect_hash: Annotated[str, typer.Option("--hash", help="The hash of the definition you reviewed (as `tools` "
                                             "showed): refused if the tool changed again since.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the audit.")] = None,
    db: Db = None,
) -> None:
    """Reject a new or changed tool's current definition: it stays blocked, and a further change is held anew."""
    with _registry(db) as registry:
        rejected = registry.mcp.reject(name, tool, expected_hash=expect_hash.removeprefix("sha256:"), reason=reason,
                                       actor=operator_record())
    typer.echo(f"rejected {rejected.name} (sha256:{rejected.hash}): it stays blocked")


@app.command()
def remove(name: Annotated[str, typer.Argument(help="The server's name.")], db: Db = None) -> None:
    """Remove an MCP server and its pinned tools; processes that call it fail until it is added again."""
    with _registry(db) as registry:
        registry.mcp.remove(name, actor=operator_record())
    typer.echo(f"removed MCP server '{name}'")
