"""Virtual MCP servers: a named, curated set of processes, federated tools and A2A agents, and who may use it.

The hub serves each at ``/mcp/{name}`` (``protocols.mcp``), and one marked
``a2a`` also as an A2A agent at ``/a2a/{name}`` whose skills are its processes
(``protocols.a2a``): only the set is listed or callable there, and only the
allowed principals get in. This
module keeps the definitions; it does not know MCP, the gateway's rules or
whether a named process, tool or agent exists now. A member that is not
deployed, registered or approved is simply not offered until it is, as on
``/mcp``: a definition names what an admin chose, checked where it is used.

Invariants:

- a name is 1 to 64 letters, digits, ``.``, ``_`` or ``-`` starting with a
  letter or digit (it is a URL path segment);
- a tool is a federated name ``server__tool``; an agent is a registered
  agent's name (offered as ``a2a__<agent>``); a process is a process id;
- members and allowed principals are stored sorted and without duplicates;
- an empty allow list admits nobody but admins: a server is opened on purpose.
  Admins (the ``admin`` scope) are always admitted, as they could edit the
  list anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from registry.exceptions import InvalidEntry, RegistryNotFound
from registry.schema import virtual_servers
from registry.store import AuditActor, RegistryStore, now_ms
from registry.tokens import Principal
from registry.users import parse_groups

__all__ = ["VirtualServer", "VirtualServers", "check_virtual_server"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MEMBER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$")
_TOOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*__[A-Za-z0-9._-]+$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_MAX_MEMBERS = 500


@dataclass(frozen=True, slots=True)
class VirtualServer:
    name: str
    description: str = ""
    processes: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()  # federated names: server__tool
    agents: tuple[str, ...] = ()  # registered agents' names
    allow_users: tuple[str, ...] = ()
    allow_groups: tuple[str, ...] = ()
    created_at: int = 0
    updated_at: int = 0
    a2a: bool = False  # also served as an A2A agent at /a2a/{name}, its processes as skills

    def offers_process(self, process_id: str) -> bool:
        return process_id in self.processes

    def admits(self, principal: Principal) -> bool:
        """Whether ``principal`` may use this server: an admin, a listed name, or a member of a listed group."""
        return ("admin" in principal.scopes or principal.name in self.allow_users
                or any(principal.in_group(g) for g in self.allow_groups))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "processes": list(self.processes),
            "tools": list(self.tools), "agents": list(self.agents), "allowUsers": list(self.allow_users),
            "allowGroups": list(self.allow_groups), "path": f"/mcp/{self.name}", "a2a": self.a2a,
            "a2aPath": f"/a2a/{self.name}" if self.a2a else None, "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


def _members(kind: str, values: Iterable[str], pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    items = tuple(sorted({v.strip() for v in values if v.strip()}))
    bad = [v for v in items if not pattern.match(v)]
    if bad:
        raise InvalidEntry(f"invalid {kind} {', '.join(repr(v) for v in bad)}: {what}")
    if len(items) > _MAX_MEMBERS:
        raise InvalidEntry(f"a virtual server holds at most {_MAX_MEMBERS} {kind}s, not {len(items)}")
    return items


def check_virtual_server(server: VirtualServer) -> VirtualServer:
    """``server`` with its lists checked, deduplicated and sorted; InvalidEntry names what is wrong."""
    if not _NAME.match(server.name):
        raise InvalidEntry(f"virtual server name '{server.name}' must be 1-64 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit (it is the path /mcp/NAME)")
    if len(server.description) > 2000 or _CONTROL.search(server.description.replace("\n", " ")):
        raise InvalidEntry("a virtual server's description must be at most 2000 printable characters")
    users = tuple(sorted({u.strip() for u in server.allow_users if u.strip()}))
    if any(len(u) > 255 or _CONTROL.search(u) for u in users):
        raise InvalidEntry("an allowed user must be a principal's name: 1 to 255 printable characters")
    return VirtualServer(
        name=server.name,
        description=server.description,
        processes=_members("process", server.processes, _MEMBER, "give process ids"),
        tools=_members("tool", server.tools, _TOOL, "give federated names, SERVER__TOOL (e.g. files__read_file)"),
        agents=_members("agent", server.agents, _MEMBER, "give registered A2A agents' names"),
        allow_users=users,
        allow_groups=parse_groups(server.allow_groups),
        created_at=server.created_at,
        updated_at=server.updated_at,
        a2a=server.a2a,
    )


def _server(row: Any) -> VirtualServer:
    return VirtualServer(
        row.name, row.description, tuple(json.loads(row.processes)), tuple(json.loads(row.tools)),
        tuple(json.loads(row.agents)), tuple(json.loads(row.allow_users)), tuple(json.loads(row.allow_groups)),
        row.created_at, row.updated_at, bool(row.a2a),
    )


class VirtualServers:
    """The virtual MCP servers, in the registry's tables."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def put(self, server: VirtualServer, *, actor: AuditActor = None) -> tuple[VirtualServer, bool]:
        """Create or replace the definition named ``server.name``; returns it and whether it is new."""
        checked = check_virtual_server(server)
        at = now_ms()
        values = {
            "description": checked.description, "processes": json.dumps(list(checked.processes)),
            "tools": json.dumps(list(checked.tools)), "agents": json.dumps(list(checked.agents)),
            "allow_users": json.dumps(list(checked.allow_users)),
            "allow_groups": json.dumps(list(checked.allow_groups)), "updated_at": at, "a2a": checked.a2a,
        }
        with self.store.begin() as conn:
            created = conn.execute(
                select(virtual_servers.c.name).where(virtual_servers.c.name == checked.name)
            ).first() is None
            if created:
                conn.execute(insert(virtual_servers).values(name=checked.name, created_at=at, **values))
            else:
                conn.execute(update(virtual_servers).where(virtual_servers.c.name == checked.name).values(**values))
            data = {k: v for k, v in checked.to_json().items()
                    if k not in ("name", "createdAt", "updatedAt", "a2aPath")}
            kind = "mcp.virtual.added" if created else "mcp.virtual.updated"
            self.store.audit(conn, kind, f"virtual:{checked.name}", data, actor=actor)
            row = conn.execute(select(virtual_servers).where(virtual_servers.c.name == checked.name)).one()
        return _server(row), created

    def get(self, name: str) -> VirtualServer:
        found = self.find(name)
        if found is None:
            raise RegistryNotFound(f"no virtual MCP server '{name}' (see `agenthub mcp-server virtual list`)")
        return found

    def find(self, name: str) -> VirtualServer | None:
        with self.store.read() as conn:
            row = conn.execute(select(virtual_servers).where(virtual_servers.c.name == name)).first()
        return None if row is None else _server(row)

    def all(self) -> list[VirtualServer]:
        with self.store.read() as conn:
            return [_server(r) for r in conn.execute(select(virtual_servers).order_by(virtual_servers.c.name))]

    def remove(self, name: str, *, actor: AuditActor = None) -> None:
        with self.store.begin() as conn:
            gone = conn.execute(delete(virtual_servers).where(virtual_servers.c.name == name)).rowcount
            if not gone:
                raise RegistryNotFound(f"no virtual MCP server '{name}' (see `agenthub mcp-server virtual list`)")
            self.store.audit(conn, "mcp.virtual.removed", f"virtual:{name}", None, actor=actor)
