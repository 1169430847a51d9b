"""Pins: the states are the strings already stored, and digests are the ones already stored (engine.canonical's)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from engine.canonical import canonical_hash
from registry import InvalidEntry, McpServer, Registry
from registry.agents import card_hash
from registry.mcp import PINNED_FIELDS, tool_hash
from registry.pins import PinState, pin_digest
from registry.schema import a2a_agents, mcp_tools


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    opened = Registry.open(db_url)
    yield opened
    opened.close()


TOOL: dict[str, Any] = {
    "name": "get_weather",
    "title": "Wetter für Zürich",
    "description": "Weather for a city",
    "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _stored_before(value: Any) -> str:
    """How the registry hashed before ``registry.pins`` existed: what existing databases hold."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_the_pin_digest_is_engine_canonical_hash_and_the_stored_form(value: Any) -> None:
    assert pin_digest(value, "it") == canonical_hash(value) == _stored_before(value)


def test_a_fixed_definition_and_card_keep_fixed_digests() -> None:
    pinned = {k: TOOL.get(k) for k in PINNED_FIELDS}
    assert tool_hash(TOOL) == _stored_before(pinned) == canonical_hash(pinned)
    assert tool_hash(TOOL) == "7b1aa9ce60bcab63916ccf7350db7d0fc2cf782c87f8a8b0db99625bd86badb9"
    assert card_hash(TOOL) == "dbba656dce67b64e00d1c1bee3d7a7b6575b4761a63d4b09ba6634f2940514cc"


def test_a_nan_in_a_definition_is_refused_by_name() -> None:
    with pytest.raises(InvalidEntry, match="tool 'bad' cannot be pinned: it is not plain, finite JSON"):
        tool_hash({"name": "bad", "inputSchema": {"maximum": float("nan")}})


def test_states_are_the_strings_stored_in_the_tables() -> None:
    assert [s.value for s in PinState] == ["approved", "pending", "changed", "rejected", "removed"]
    assert PinState("approved") is PinState.APPROVED and PinState.CHANGED == "changed"
    assert json.dumps({"state": PinState.PENDING}) == '{"state": "pending"}'


def test_pins_stored_by_the_earlier_code_still_verify(registry: Registry) -> None:
    registry.mcp.add(McpServer(name="weather", transport="http", url="http://127.0.0.1:9/mcp"), [])
    card = {"name": "Remote", "description": "ünïcode", "skills": [{"id": "s"}]}
    pinned = {k: TOOL.get(k) for k in PINNED_FIELDS}
    old_tool, old_card = _stored_before(pinned), _stored_before(card)
    text, card_text = json.dumps(TOOL, sort_keys=True), json.dumps(card, sort_keys=True)
    with registry.store.begin() as conn:  # rows as the code before the enum and pin_digest wrote them
        conn.execute(insert(mcp_tools).values(
            server="weather", name="get_weather", definition=text, hash=old_tool, approved_definition=text,
            approved_hash=old_tool, state="approved", updated_at=0))
        conn.execute(insert(a2a_agents).values(
            name="remote", url="https://agent.example", card=card_text, card_hash=old_card, approved_card=card_text,
            approved_hash=old_card, token_env=None, state="approved", created_at=0, updated_at=0))
    tool = registry.mcp.callable_tool("weather", "get_weather")
    assert tool.state is PinState.APPROVED and tool.hash == old_tool
    report = registry.mcp.sync("weather", [TOOL])
    assert report.unchanged == ["get_weather"] and report.changed == []
    agent = registry.agents.refresh("remote", card)
    assert agent.callable and agent.state is PinState.APPROVED and agent.card_hash == old_card
