"""Virtual MCP servers in the registry: definitions kept whole, checked, and who each one admits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry import InvalidEntry, Principal, Registry, RegistryNotFound, VirtualServer


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    opened = Registry.open(db_url)
    yield opened
    opened.close()


def test_a_definition_is_stored_sorted_without_duplicates_and_replaced_whole(registry: Registry) -> None:
    first, created = registry.virtual.put(VirtualServer(
        "sales", "for sales", processes=("order", "order"), tools=("crm__find", "crm__add"), agents=("billing",),
        allow_users=("carol",), allow_groups=("sales", "emea")))
    second, again = registry.virtual.put(VirtualServer("sales", tools=("crm__find",), allow_groups=("sales",)))
    assert created and not again
    assert (first.processes, first.tools, first.allow_groups) == (("order",), ("crm__add", "crm__find"),
                                                                  ("emea", "sales"))
    assert registry.virtual.get("sales") == second
    assert (second.processes, second.agents, second.allow_users) == ((), (), ())
    assert second.created_at == first.created_at
    assert [e["kind"] for e in registry.store.events("virtual:sales")] == ["mcp.virtual.updated", "mcp.virtual.added"]


@pytest.mark.parametrize(("server", "words"), [
    (VirtualServer("bad/name"), "it is the path /mcp/NAME"),
    (VirtualServer("s", tools=("nodoubleunderscore",)), "SERVER__TOOL"),
    (VirtualServer("s", allow_groups=("no spaces",)), "invalid group name"),
    (VirtualServer("s", agents=("a b",)), "registered A2A agents' names"),
])
def test_a_malformed_definition_is_refused_saying_what_is_wrong(
    registry: Registry, server: VirtualServer, words: str
) -> None:
    with pytest.raises(InvalidEntry, match=words):
        registry.virtual.put(server)
    assert registry.virtual.all() == []


def test_a_server_admits_its_users_its_groups_members_and_admins_only() -> None:
    server = VirtualServer("sales", allow_users=("carol",), allow_groups=("sales",))
    closed = VirtualServer("closed")

    def principal(name: str, *groups: str, scopes: tuple[str, ...] = ("start",)) -> Principal:
        return Principal(name, frozenset(scopes), groups=frozenset(groups))

    assert server.admits(principal("carol"))
    assert server.admits(principal("alice", "ops", "sales"))
    assert not server.admits(principal("mallory", "ops"))
    assert server.admits(principal("root", scopes=("admin",)))
    assert not closed.admits(principal("carol", "sales"))


def test_removing_an_unknown_server_says_so(registry: Registry) -> None:
    with pytest.raises(RegistryNotFound, match="no virtual MCP server 'ghost'"):
        registry.virtual.remove("ghost")
