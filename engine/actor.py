"""Who made a command: the engine records it in the journal, and decides almost nothing by it.

The surfaces above (REST, CLI, MCP, A2A, the console) verify the caller and
build an ``Actor`` from their principal (``protocols.actors.actor_of``); the
engine writes it, as ``by``, into the journal entry of every command that
changes state, so ``agenthub journal`` can say who did each step. The engine
knows nothing of tokens or groups' meaning: it keeps what it is given. The
one decision it takes by an actor is an approval's (``engine.agent.approvals``):
it counts distinct approvers by ``id`` and refuses the instance's starter and
whoever acted in the agent's run (four eyes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Actor", "Channel"]


class Channel(StrEnum):
    """How a command reached the hub."""

    CLI = "cli"
    REST = "rest"
    MCP = "mcp"
    A2A = "a2a"
    CONSOLE = "console"
    WEBHOOK = "webhook"  # an inbound webhook of a model (hub.inbound): the caller authenticated as it configures
    ENGINE = "engine"  # an embedding program calling the engine directly


@dataclass(frozen=True, slots=True)
class Actor:
    """A principal as the journal records it: ``id`` (a user's id or a machine client's token name), the name
    people read, its groups, whether it is a person, the channel, and ``override`` when an admin forced a command
    the rules alone would not let it make. ``operator`` is who actually issued a command made as ``id`` (the local
    admin behind ``agenthub ... --as ID``): the command counts as ``id``'s, and the journal says who typed it."""

    id: str
    channel: Channel = Channel.ENGINE
    name: str | None = None
    groups: tuple[str, ...] = field(default=())
    person: bool = False
    override: bool = False
    operator: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "channel": str(self.channel), "person": self.person}
        if self.name and self.name != self.id:
            out["name"] = self.name
        if self.groups:
            out["groups"] = list(self.groups)
        if self.override:
            out["override"] = True
        if self.operator:
            out["operator"] = self.operator
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Actor:
        """The actor a journal entry's ``by`` records (what ``to_json`` wrote); an unknown channel reads as engine."""
        channel = str(data.get("channel", ""))
        return cls(id=str(data.get("id", "?")),
                   channel=Channel(channel) if channel in Channel.__members__.values() else Channel.ENGINE,
                   name=data.get("name"), groups=tuple(data.get("groups") or ()), person=bool(data.get("person")),
                   override=bool(data.get("override")), operator=data.get("operator"))

    def label(self) -> str:
        """One line for people: ``alice (override) via rest``, ``alice (entered by cli:ops) via cli``."""
        notes = [n for n in ("override" if self.override else None,
                             f"entered by {self.operator}" if self.operator else None) if n]
        return f"{self.id}{' (' + ', '.join(notes) + ')' if notes else ''} via {self.channel}"
