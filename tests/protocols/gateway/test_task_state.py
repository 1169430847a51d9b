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
    assert states.ours(state) and not states.ours("an upstream's own state") and not states.ours(None)
    assert not TaskStates().ours(state)  # another hub's (or process's) gateway: its own, passed on upstream
    assert states.open(state, "alice", "b__confirm") == HeldTask("b", "task-1")
    with pytest.raises(MCPError, match="another caller or tool"):
        states.open(state, "bob", "b__confirm")
    with pytest.raises(MCPError, match="another caller or tool"):
        states.open(state, "alice", "b__other")
    now[0] += 61
    with pytest.raises(MCPError, match="expired"):
        states.open(state, "alice", "b__confirm")


def test_a_state_edited_is_refused_and_one_of_another_key_is_not_this_gateways() -> None:
    states = TaskStates()
    state = states.seal("alice", "b__confirm", "b", "task-1")
    body, _, mac = state.removeprefix(PREFIX).split(".", 1)[1].rpartition(".")
    kid = state.removeprefix(PREFIX).split(".", 1)[0]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, "p": "bob"}).encode()).decode().rstrip("=")
    forged = f"{PREFIX}{kid}.{edited}.{mac}"
    assert states.ours(forged)  # it says it is ours...
    with pytest.raises(MCPError, match="not given by this hub process, or was changed"):
        states.open(forged, "bob", "b__confirm")  # ...but bob's name in alice's state breaks its seal
    with pytest.raises(MCPError, match="not given by this hub process, or was changed"):
        states.open(f"{PREFIX}{kid}.garbage", "alice", "b__confirm")
    other = TaskStates()
    assert not other.ours(state)
    with pytest.raises(MCPError, match="not given by this hub process"):
        other.open(state, "alice", "b__confirm")
