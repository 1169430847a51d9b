"""The gateway's sealed ``requestState`` for an upstream task's question (``protocols.gateway.task_state``)."""

from __future__ import annotations

import base64
import json

import pytest
from mcp.shared.exceptions import MCPError

from protocols.gateway.task_state import PREFIX, HeldTask, TaskStates


def test_a_state_opens_for_its_caller_and_tool_until_it_expires() -> None:
    now = [1000.0]
    states = TaskStates(ttl_s=60, clock=lambda: now[0])
    state = states.seal("alice", "b__confirm", "b", "task-1")
    assert TaskStates.ours(state) and not TaskStates.ours("an upstream's own state") and not TaskStates.ours(None)
    assert states.open(state, "alice", "b__confirm") == HeldTask("b", "task-1")
    with pytest.raises(MCPError, match="another caller or tool"):
        states.open(state, "bob", "b__confirm")
    with pytest.raises(MCPError, match="another caller or tool"):
        states.open(state, "alice", "b__other")
    now[0] += 61
    with pytest.raises(MCPError, match="expired"):
        states.open(state, "alice", "b__confirm")


def test_a_state_sealed_by_another_process_or_edited_is_refused() -> None:
    states = TaskStates()
    state = states.seal("alice", "b__confirm", "b", "task-1")
    with pytest.raises(MCPError, match="not given by this hub process"):
        TaskStates().open(state, "alice", "b__confirm")  # another key: a restart, or another hub process
    body, _, mac = state.removeprefix(PREFIX).rpartition(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, "p": "bob"}).encode()).decode().rstrip("=")
    with pytest.raises(MCPError, match="not given by this hub process"):
        states.open(f"{PREFIX}{edited}.{mac}", "bob", "b__confirm")  # bob's name in alice's state: its seal fails
    with pytest.raises(MCPError, match="not given by this hub process"):
        states.open(PREFIX + "garbage", "alice", "b__confirm")
