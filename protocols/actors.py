"""A verified principal (``registry``) as the engine's journal records it (``engine.Actor``)."""

from __future__ import annotations

from engine.actor import Actor, Channel
from registry import Principal

__all__ = ["actor_of"]


def actor_of(who: Principal, channel: Channel | str, *, override: bool = False, operator: str | None = None) -> Actor:
    """The journal's record of ``who`` acting through ``channel``."""
    return Actor(id=who.name, channel=Channel(channel), name=who.display_name or who.name,
                 groups=tuple(sorted(who.groups)), person=who.person, override=override, operator=operator)
