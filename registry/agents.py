"""Remote A2A agents, registered by their agent card and pinned by its hash.

Adding an agent approves the card fetched at that moment. A later fetch that
finds a different card marks the agent ``changed``: it is not called until an
admin approves the new card. Fetching cards is the A2A client's job
(``protocols.a2a``); this module stores and decides.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from registry.exceptions import InvalidEntry, RegistryConflict, RegistryNotFound, ToolBlocked
from registry.pins import PinState, pin_digest
from registry.schema import a2a_agents
from registry.store import AuditActor, RegistryStore, now_ms

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def card_hash(card: dict[str, Any]) -> str:
    """SHA-256 of the agent card as canonical JSON (``registry.pins.pin_digest``)."""
    return pin_digest(card, f"the agent card of '{card.get('name')}'")


@dataclass(frozen=True, slots=True)
class RemoteAgent:
    name: str
    url: str
    card: dict[str, Any]
    card_hash: str
    approved_hash: str | None
    token_env: str | None
    state: PinState  # APPROVED or CHANGED

    @property
    def callable(self) -> bool:
        return self.state == PinState.APPROVED and self.card_hash == self.approved_hash

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "state": self.state,
            "callable": self.callable,
            "cardHash": self.card_hash,
            "approvedHash": self.approved_hash,
            "tokenEnv": self.token_env,
            "description": self.card.get("description"),
            "skills": [s.get("id") for s in self.card.get("skills", []) if isinstance(s, dict)],
        }


def _agent(row: Any) -> RemoteAgent:
    return RemoteAgent(
        row.name, row.url, json.loads(row.card), row.card_hash, row.approved_hash, row.token_env, PinState(row.state)
    )


class AgentRegistry:
    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def add(
        self, name: str, url: str, card: dict[str, Any], *, token_env: str | None = None, actor: AuditActor = None
    ) -> RemoteAgent:
        if not _NAME.match(name):
            raise InvalidEntry(f"agent name '{name}' must be 1-64 letters, digits, '.', '_' or '-'")
        if not re.match(r"^https?://", url):
            raise InvalidEntry("an agent URL must start with http:// or https://")
        if token_env is not None and not _ENV.match(token_env):
            raise InvalidEntry(f"'{token_env}' is not an environment variable name")
        digest = card_hash(card)
        at = now_ms()
        text = json.dumps(card, sort_keys=True)
        with self.store.begin() as conn:
            if conn.execute(select(a2a_agents.c.name).where(a2a_agents.c.name == name)).first():
                raise RegistryConflict(f"an agent named '{name}' is registered already")
            conn.execute(
                insert(a2a_agents).values(
                    name=name,
                    url=url,
                    card=text,
                    card_hash=digest,
                    approved_card=text,
                    approved_hash=digest,
                    token_env=token_env,
                    state=PinState.APPROVED,
                    created_at=at,
                    updated_at=at,
                )
            )
            self.store.audit(conn, "a2a.agent.added", f"agent:{name}", {"url": url, "hash": digest}, actor)
        return self.get(name)

    def get(self, name: str) -> RemoteAgent:
        with self.store.read() as conn:
            row = conn.execute(select(a2a_agents).where(a2a_agents.c.name == name)).first()
        if row is None:
            raise RegistryNotFound(f"no agent named '{name}' is registered (see `agenthub agent list`)")
        return _agent(row)

    def callable_agent(self, name: str) -> RemoteAgent:
        agent = self.get(name)
        if not agent.callable:
            raise ToolBlocked(
                f"agent '{name}' changed its card since it was approved; it is blocked until an admin approves "
                f"the new card (`agenthub agent approve {name}`)"
            )
        return agent

    def all(self) -> list[RemoteAgent]:
        with self.store.read() as conn:
            return [_agent(r) for r in conn.execute(select(a2a_agents).order_by(a2a_agents.c.name))]

    def remove(self, name: str, *, actor: AuditActor = None) -> None:
        with self.store.begin() as conn:
            if not conn.execute(delete(a2a_agents).where(a2a_agents.c.name == name)).rowcount:
                raise RegistryNotFound(f"no agent named '{name}' is registered")
            self.store.audit(conn, "a2a.agent.removed", f"agent:{name}", None, actor)

    def refresh(self, name: str, card: dict[str, Any], *, actor: AuditActor = None) -> RemoteAgent:
        """Record the card as fetched now; a different card holds the agent until approved."""
        agent = self.get(name)
        digest = card_hash(card)
        if digest != agent.card_hash:
            state = PinState.APPROVED if digest == agent.approved_hash else PinState.CHANGED
            with self.store.begin() as conn:
                conn.execute(
                    update(a2a_agents)
                    .where(a2a_agents.c.name == name)
                    .values(card=json.dumps(card, sort_keys=True), card_hash=digest, state=state, updated_at=now_ms())
                )
                self.store.audit(conn, "a2a.agent.changed", f"agent:{name}", {"hash": digest}, actor)
        return self.get(name)

    def approve(self, name: str, *, actor: AuditActor = None) -> RemoteAgent:
        agent = self.get(name)
        with self.store.begin() as conn:
            conn.execute(
                update(a2a_agents)
                .where(a2a_agents.c.name == name)
                .values(
                    approved_card=json.dumps(agent.card, sort_keys=True),
                    approved_hash=agent.card_hash,
                    state=PinState.APPROVED,
                    updated_at=now_ms(),
                )
            )
            self.store.audit(conn, "a2a.agent.approved", f"agent:{name}", {"hash": agent.card_hash}, actor)
        return self.get(name)
