"""The durable audit row of each federated call, in the registry's audit (``agenthub audit``, ``GET /api/v1/audit``).

One row per call, whatever became of it, written before the caller gets its
answer: kind ``gateway.call``, subject ``gateway:<federated name>``, actor the
calling principal (``data.by`` says how it came: ``alice via mcp``), and in
``data``: ``tool``, ``server`` and ``upstreamTool`` or ``agent``,
``argumentsHash`` (``engine.canonical.canonical_hash`` of the arguments, the
form agent tool calls record), ``outcome`` (``Outcome``), ``decision`` and
``policies`` when policies decided, ``resultBytes`` (the canonical JSON of what
was answered), ``latencyMs``, and ``reason`` or ``instance`` where they apply.
The arguments themselves are not stored: the hash lets one match a row to a
call someone shows, without the audit keeping what the call carried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Connection

from engine import Channel
from engine.canonical import NotCanonical, canonical_hash, canonical_json
from protocols.actors import actor_of
from protocols.gateway.names import FederatedName
from registry import Principal, Registry

__all__ = ["AUDIT_KIND", "AuditRow", "CallAudit", "Outcome", "arguments_digest", "size_of"]

AUDIT_KIND = "gateway.call"


class Outcome(StrEnum):
    OK = "ok"  # the upstream answered
    TOOL_ERROR = "toolError"  # the upstream answered with isError
    DENIED = "denied"  # a policy denied it
    APPROVAL_REQUESTED = "approvalRequested"  # a policy asked for a person's approval: an instance waits
    REJECTED = "rejected"  # a person refused the approval
    RATE_LIMITED = "rateLimited"
    BUDGET = "budget"  # a daily call budget is spent (protocols.gateway.budgets)
    BLOCKED = "blocked"  # the tool is not approved as offered now (pins), or the agent's card changed
    FAILED = "failed"  # unreachable, timed out, a protocol error
    WAITING = "waiting"  # an A2A task still running when the call's budget ended
    INPUT_REQUIRED = "inputRequired"  # the upstream asked the caller's user first: its questions were the answer


def arguments_digest(arguments: dict[str, Any]) -> str:
    try:
        return canonical_hash(arguments)
    except NotCanonical:  # the MCP layer refuses non-finite JSON before this; a fallback, never a crash
        return "not-canonical"


def size_of(value: Any) -> int:
    try:
        return len(canonical_json(value))
    except NotCanonical:
        return 0


@dataclass(slots=True)
class CallAudit:
    """One call's row, filled in as the call goes, then made a ``row`` once (``audit_log`` commits it)."""

    principal: Principal
    name: str
    target: FederatedName
    arguments_hash: str
    data: dict[str, Any] = field(default_factory=dict)

    def row(self, outcome: Outcome, latency_ms: float, **details: Any) -> AuditRow:
        """The row as it will be committed."""
        target = {"agent": self.target.owner} if self.target.is_agent else {
            "server": self.target.owner, "upstreamTool": self.target.tool}
        data = {"tool": self.name, **target, "principal": self.principal.name,
                "argumentsHash": self.arguments_hash, "outcome": str(outcome),
                "latencyMs": round(latency_ms, 3), **self.data, **details}
        return AuditRow(f"gateway:{self.name}", data, actor_of(self.principal, Channel.MCP).to_json())


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One ``gateway.call`` row, ready to insert (``protocols.gateway.audit_log`` commits them in groups)."""

    subject: str
    data: dict[str, Any]
    actor: dict[str, Any]

    def insert(self, registry: Registry, conn: Connection) -> None:
        registry.store.audit(conn, AUDIT_KIND, self.subject, self.data, actor=self.actor)

    def commit(self, registry: Registry) -> None:
        with registry.store.begin() as conn:
            self.insert(registry, conn)
