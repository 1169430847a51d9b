"""The gateway's own ``requestState``: a federated call whose upstream task asks its caller a question, handed to a
2026-07-28 assistant in an ``InputRequiredResult``, comes back with the answers and this state.

The state names the upstream server and task, and binds them to the principal and the federated tool of the call
that was asked, until it expires (``TTL_S``). It is sealed with an HMAC-SHA256 under a key each hub process draws
at start, and names that key (a digest of it): the assistant cannot forge one, edit one, or send another
principal's (they would answer, under the hub's own credentials upstream, a question put to somebody else). A
state that names another key is an upstream's (a hub whose gateway federates another hub's gateway passes that
one's states through) and goes upstream as it is, where it is checked. So a hub restarted in between, or another
hub process of the same database, passes its own earlier state upstream, which refuses it, and the assistant
calls again; the upstream's task is left to its own time to live. The SDK's servers do the same with their
default process-local key. Rejected: keeping the pending tasks in the database (a row per question for a round
trip that takes seconds, and a sweep for the rows nobody came back for).

    states = TaskStates()
    state = states.seal("alice", "b__confirm_delete", "b", "task-1")
    states.ours(state) and states.open(state, "alice", "b__confirm_delete")  # HeldTask(server="b", task_id="task-1")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

__all__ = ["PREFIX", "TTL_S", "HeldTask", "TaskStates"]

PREFIX = "agenthub-task.v1."
TTL_S = 3600.0


@dataclass(frozen=True, slots=True)
class HeldTask:
    """The upstream task a state names."""

    server: str
    task_id: str


class TaskStates:
    """Seals and opens the gateway's states (one key per instance, drawn at construction unless given)."""

    def __init__(self, key: bytes | None = None, *, ttl_s: float = TTL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._prefix = f"{PREFIX}{hashlib.sha256(self._key).hexdigest()[:12]}."  # names the key, not its secret
        self._ttl_s = ttl_s
        self._clock = clock

    def ours(self, state: str | None) -> bool:
        """Whether ``state`` says it was sealed with this instance's key. Anything else is an upstream's own state
        (another hub's gateway seals its states the same way, with its own key) and is passed on as it is."""
        return state is not None and state.startswith(self._prefix)

    def seal(self, principal: str, tool: str, server: str, task_id: str) -> str:
        """A state naming ``server``'s task ``task_id``, for ``principal``'s calls of ``tool`` only."""
        claims = {"p": principal, "t": tool, "s": server, "k": task_id, "e": int(self._clock() + self._ttl_s)}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{self._prefix}{body}.{self._mac(body)}"

    def open(self, state: str, principal: str, tool: str) -> HeldTask:
        """The task ``state`` (one that is ``ours``) names, when it is unchanged, for ``principal`` and ``tool``,
        and has not expired; ``MCPError`` (invalid params) saying which check failed otherwise."""
        body, _, mac = state.removeprefix(self._prefix).rpartition(".")
        if not self.ours(state) or not body or not hmac.compare_digest(mac, self._mac(body)):
            raise MCPError(INVALID_PARAMS, "the requestState was not given by this hub process, or was changed: "
                                           "call the tool afresh")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if claims.get("p") != principal or claims.get("t") != tool:
            raise MCPError(INVALID_PARAMS, f"the requestState was given for another caller or tool than '{tool}': "
                                           "call the tool afresh")
        if self._clock() > float(claims.get("e", 0)):
            raise MCPError(INVALID_PARAMS, "the requestState has expired: call the tool afresh")
        return HeldTask(str(claims["s"]), str(claims["k"]))

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
