"""Upstream MCP servers and their tools, pinned by a hash of each tool's definition.

A tool is callable only while the hash of its definition as last seen
upstream equals the hash an admin approved. The tools present when a server
is added are approved by that act; later a changed definition (any of name,
title, description, schemas, annotations) or a new tool is held until
``approve``. Key order does not matter: the hash is over canonical JSON.

This module stores and decides; fetching the tools from the server is the
MCP client's job (``protocols.mcp``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select, update

from registry.exceptions import InvalidEntry, RegistryConflict, RegistryNotFound, ToolBlocked
from registry.pins import PinState, pin_digest
from registry.schema import mcp_servers, mcp_tools
from registry.store import AuditActor, RegistryStore, now_ms

PINNED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def tool_hash(definition: dict[str, Any]) -> str:
    """SHA-256 of the pinned fields as canonical JSON (``registry.pins.pin_digest``)."""
    pinned = {k: definition.get(k) for k in PINNED_FIELDS}
    return pin_digest(pinned, f"the definition of tool '{definition.get('name')}'")


@dataclass(frozen=True, slots=True)
class McpServer:
    name: str
    transport: str  # http | stdio
    url: str | None = None
    command: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # value: a literal, or "env:VAR" read at call time
    bearer_env: str | None = None
    env: list[str] = field(default_factory=list)
    timeout_s: int = 60
    created_at: int | None = None
    synced_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """What listings show: header names only, never their values, and variable names, never secrets."""
        return {
            "name": self.name,
            "transport": self.transport,
            "url": self.url,
            "command": self.command or None,
            "headers": sorted(self.headers),
            "bearerEnv": self.bearer_env,
            "env": self.env,
            "timeoutSeconds": self.timeout_s,
            "createdAt": self.created_at,
            "syncedAt": self.synced_at,
        }


@dataclass(frozen=True, slots=True)
class PinnedTool:
    server: str
    name: str
    definition: dict[str, Any]
    hash: str
    approved_hash: str | None
    state: PinState
    approved_definition: dict[str, Any] | None = None

    @property
    def callable(self) -> bool:
        return self.state == PinState.APPROVED and self.hash == self.approved_hash

    def changed_fields(self) -> list[str]:
        """The pinned fields in which the definition seen upstream differs from the approved one."""
        if self.approved_definition is None or self.hash == self.approved_hash:
            return []
        return sorted(k for k in PINNED_FIELDS if self.definition.get(k) != self.approved_definition.get(k))

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "name": self.name,
            "state": self.state,
            "callable": self.callable,
            "hash": self.hash,
            "approvedHash": self.approved_hash,
            "description": self.definition.get("description"),
            "inputSchema": self.definition.get("inputSchema"),
        }


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, list[str]]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed, "unchanged": self.unchanged}


def check_server(server: McpServer) -> None:
    if not _NAME.match(server.name) or "__" in server.name:
        raise InvalidEntry(
            f"server name '{server.name}' must be 1-64 letters, digits, '.', '_' or '-' (no '__', which joins "
            "server and tool names)"
        )
    if server.transport == "http":
        if not server.url or not re.match(r"^https?://", server.url):
            raise InvalidEntry("an HTTP server needs --url starting with http:// or https://")
        parts = urlsplit(server.url)
        try:
            parts.port  # noqa: B018 - reading the port is what checks it
        except ValueError as exc:
            raise InvalidEntry(f"the URL's port is not valid: {exc}") from None
        if not parts.hostname:
            raise InvalidEntry("the URL names no host")
    elif server.transport == "stdio":
        if not server.command or not all(isinstance(a, str) and a for a in server.command):
            raise InvalidEntry("a stdio server needs --command with the program and its arguments")
    else:
        raise InvalidEntry(f"unknown transport '{server.transport}': use http or stdio")
    for name, value in server.headers.items():
        if not re.match(r"^[A-Za-z0-9-]+$", name):
            raise InvalidEntry(f"header name '{name}' is not a valid HTTP header name")
        if name.lower() == "authorization" and not value.startswith("env:"):
            raise InvalidEntry(
                "put an Authorization secret in an environment variable: --header 'Authorization=env:VAR'"
            )
        if value.startswith("env:") and not _ENV.match(value[4:]):
            raise InvalidEntry(f"header '{name}': '{value[4:]}' is not an environment variable name")
    for var in [*server.env, *([server.bearer_env] if server.bearer_env else [])]:
        if not _ENV.match(var):
            raise InvalidEntry(f"'{var}' is not an environment variable name")
    if not 1 <= server.timeout_s <= 3600:
        raise InvalidEntry("the timeout must be between 1 and 3600 seconds")


def _server(row: Any) -> McpServer:
    return McpServer(
        name=row.name,
        transport=row.transport,
        url=row.url,
        command=json.loads(row.command) if row.command else [],
        headers=json.loads(row.headers),
        bearer_env=row.bearer_env,
        env=json.loads(row.env),
        timeout_s=int(row.timeout_s),
        created_at=row.created_at,
        synced_at=row.synced_at,
    )


def _tool(row: Any) -> PinnedTool:
    approved = json.loads(row.approved_definition) if row.approved_definition else None
    return PinnedTool(
        row.server, row.name, json.loads(row.definition), row.hash, row.approved_hash, PinState(row.state), approved
    )


class McpRegistry:
    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # --- servers -----------------------------------------------------------------------------

    def add(self, server: McpServer, tools: Sequence[dict[str, Any]], *, actor: AuditActor = None) -> McpServer:
        """Register a server with the tools fetched from it, all approved by this act."""
        check_server(server)
        at = now_ms()
        with self.store.begin() as conn:
            if conn.execute(select(mcp_servers.c.name).where(mcp_servers.c.name == server.name)).first():
                raise RegistryConflict(f"an MCP server named '{server.name}' is registered already")
            conn.execute(
                insert(mcp_servers).values(
                    name=server.name,
                    transport=server.transport,
                    url=server.url,
                    command=json.dumps(server.command) if server.command else None,
                    headers=json.dumps(server.headers),
                    bearer_env=server.bearer_env,
                    env=json.dumps(server.env),
                    timeout_s=server.timeout_s,
                    created_at=at,
                    synced_at=at,
                )
            )
            for definition in tools:
                digest = tool_hash(definition)
                text = json.dumps(definition, sort_keys=True)
                conn.execute(
                    insert(mcp_tools).values(
                        server=server.name,
                        name=str(definition["name"]),
                        definition=text,
                        hash=digest,
                        approved_definition=text,
                        approved_hash=digest,
                        state=PinState.APPROVED,
                        updated_at=at,
                    )
                )
            self.store.audit(
                conn,
                "mcp.server.added",
                f"mcp:{server.name}",
                {**server.to_json(), "tools": sorted(str(t["name"]) for t in tools)},
                actor,
            )
        return self.get(server.name)

    def get(self, name: str) -> McpServer:
        with self.store.read() as conn:
            row = conn.execute(select(mcp_servers).where(mcp_servers.c.name == name)).first()
        if row is None:
            raise RegistryNotFound(f"no MCP server named '{name}' is registered (see `agenthub mcp-server list`)")
        return _server(row)

    def all(self) -> list[McpServer]:
        with self.store.read() as conn:
            return [_server(r) for r in conn.execute(select(mcp_servers).order_by(mcp_servers.c.name))]

    def remove(self, name: str, *, actor: AuditActor = None) -> None:
        with self.store.begin() as conn:
            gone = conn.execute(delete(mcp_servers).where(mcp_servers.c.name == name)).rowcount
            if not gone:
                raise RegistryNotFound(f"no MCP server named '{name}' is registered")
            conn.execute(delete(mcp_tools).where(mcp_tools.c.server == name))
            self.store.audit(conn, "mcp.server.removed", f"mcp:{name}", None, actor)

    # --- tools -------------------------------------------------------------------------------

    def tools(self, server: str) -> list[PinnedTool]:
        self.get(server)
        with self.store.read() as conn:
            rows = conn.execute(select(mcp_tools).where(mcp_tools.c.server == server).order_by(mcp_tools.c.name))
            return [_tool(r) for r in rows]

    def tool(self, server: str, name: str) -> PinnedTool:
        with self.store.read() as conn:
            row = conn.execute(select(mcp_tools).where(mcp_tools.c.server == server, mcp_tools.c.name == name)).first()
        if row is None:
            self.get(server)
            raise RegistryNotFound(f"MCP server '{server}' has no tool named '{name}'")
        return _tool(row)

    def callable_tool(self, server: str, name: str) -> PinnedTool:
        """The tool if it may be called now, else ``ToolBlocked`` saying why and what an admin can do."""
        tool = self.tool(server, name)
        if not tool.callable:
            why = {
                PinState.PENDING: "is new upstream and was never approved",
                PinState.CHANGED: "changed upstream since it was approved",
                PinState.REJECTED: "changed upstream and an admin rejected the change",
                PinState.REMOVED: "is no longer offered upstream",
            }.get(tool.state, f"is {tool.state}")
            raise ToolBlocked(
                f"tool '{name}' of MCP server '{server}' {why}; it is blocked until an admin reviews it "
                f"(`agenthub mcp-server tools {server}`, then `agenthub mcp-server approve {server} --tool {name}`)"
            )
        return tool

    def sync(self, server: str, tools: Sequence[dict[str, Any]], *, actor: AuditActor = None) -> SyncReport:
        """Record the tools as the server lists them now; changed and new ones are blocked until approved."""
        self.get(server)
        report = SyncReport()
        at = now_ms()
        seen = {str(t["name"]): t for t in tools}
        with self.store.begin() as conn:
            known = {r.name: _tool(r) for r in conn.execute(select(mcp_tools).where(mcp_tools.c.server == server))}
            for name, definition in seen.items():
                digest = tool_hash(definition)
                text = json.dumps(definition, sort_keys=True)
                old = known.get(name)
                if old is None:
                    report.added.append(name)
                    conn.execute(
                        insert(mcp_tools).values(
                            server=server,
                            name=name,
                            definition=text,
                            hash=digest,
                            state=PinState.PENDING,
                            updated_at=at,
                        )
                    )
                    self.store.audit(conn, "mcp.tool.added", f"mcp:{server}/{name}", {"hash": digest}, actor)
                elif digest == old.approved_hash:
                    report.unchanged.append(name)
                    if old.state != PinState.APPROVED or old.hash != digest:
                        self._set(
                            conn, server, name, definition=text, hash=digest, state=PinState.APPROVED, updated_at=at
                        )
                elif digest != old.hash or old.state == PinState.REMOVED:
                    report.changed.append(name)
                    state = PinState.PENDING if old.approved_hash is None else PinState.CHANGED
                    self._set(conn, server, name, definition=text, hash=digest, state=state, updated_at=at)
                    self.store.audit(
                        conn,
                        "mcp.tool.changed",
                        f"mcp:{server}/{name}",
                        {"approvedHash": old.approved_hash, "hash": digest, "fields": _changed_fields(old, definition)},
                        actor,
                    )
                else:
                    report.unchanged.append(name)
            for name, old in known.items():
                if name not in seen and old.state != PinState.REMOVED:
                    report.removed.append(name)
                    self._set(conn, server, name, state=PinState.REMOVED, updated_at=at)
                    self.store.audit(conn, "mcp.tool.removed", f"mcp:{server}/{name}", None, actor)
            conn.execute(update(mcp_servers).where(mcp_servers.c.name == server).values(synced_at=at))
        return report

    def approve(
        self, server: str, tool: str | None = None, *, expected_hash: str | None = None, actor: AuditActor = None
    ) -> list[str]:
        """Approve the current definition of one tool, or of every held tool of the server.

        With ``expected_hash`` (what the admin reviewed), the approval is refused
        if the tool changed again since: checked in the approving transaction.
        """
        held = [t for t in self.tools(server) if not t.callable and t.state != PinState.REMOVED]
        if tool is not None:
            held = [t for t in held if t.name == tool]
            if not held:
                current = self.tool(server, tool)
                if current.callable:
                    return []
                raise InvalidEntry(f"tool '{tool}' of '{server}' is not offered upstream any more; nothing to approve")
        at = now_ms()
        with self.store.begin() as conn:
            for t in held:
                if expected_hash is not None:
                    now = conn.execute(
                        select(mcp_tools.c.hash).where(mcp_tools.c.server == server, mcp_tools.c.name == t.name)
                    ).scalar()
                    if now != expected_hash:
                        raise RegistryConflict(
                            f"tool '{t.name}' of '{server}' changed again since it was reviewed (hash {now}); "
                            "review it again before approving"
                        )
                self._set(
                    conn,
                    server,
                    t.name,
                    approved_definition=json.dumps(t.definition, sort_keys=True),
                    approved_hash=t.hash,
                    state=PinState.APPROVED,
                    updated_at=at,
                )
                self.store.audit(conn, "mcp.tool.approved", f"mcp:{server}/{t.name}", {"hash": t.hash}, actor)
        return [t.name for t in held]

    def reject(
        self, server: str, tool: str, *, expected_hash: str, reason: str | None = None, actor: AuditActor = None
    ) -> PinnedTool:
        """Refuse the definition a held tool has now (the one with ``expected_hash``, as reviewed): the tool stays
        blocked, is no longer shown as waiting for review, and a further change upstream is held for review anew.

        Approving it later is still possible (an admin may change their mind): ``approve`` takes rejected tools.
        """
        at = now_ms()
        with self.store.begin() as conn:
            row = conn.execute(select(mcp_tools).where(mcp_tools.c.server == server, mcp_tools.c.name == tool)).first()
            if row is None:
                self.get(server)
                raise RegistryNotFound(f"MCP server '{server}' has no tool named '{tool}'")
            current = _tool(row)
            if current.callable or current.state == PinState.REMOVED:
                raise InvalidEntry(f"tool '{tool}' of '{server}' is {current.state}: only a held tool (new or "
                                   "changed upstream) can be rejected")
            if current.hash != expected_hash:
                raise RegistryConflict(f"tool '{tool}' of '{server}' changed again since it was reviewed (hash "
                                       f"{current.hash}); review it again")
            self._set(conn, server, tool, state=PinState.REJECTED, updated_at=at)
            data: dict[str, Any] = {"hash": current.hash, **({"reason": reason[:2000]} if reason else {})}
            self.store.audit(conn, "mcp.tool.rejected", f"mcp:{server}/{tool}", data, actor)
        return self.tool(server, tool)

    @staticmethod
    def _set(conn: Connection, server: str, name: str, **values: Any) -> None:
        conn.execute(update(mcp_tools).where(mcp_tools.c.server == server, mcp_tools.c.name == name).values(**values))


def _changed_fields(old: PinnedTool, new: dict[str, Any]) -> list[str]:
    """Fields that differ from the approved definition (from the last seen one for a never-approved tool)."""
    base = old.approved_definition if old.approved_definition is not None else old.definition
    return [k for k in PINNED_FIELDS if base.get(k) != new.get(k)]
