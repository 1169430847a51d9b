"""Closing the timers and subscriptions an element instance waits on, when it leaves or is terminated."""

from __future__ import annotations

from typing import Protocol

from engine.runtime import messages as m
from engine.runtime.state import ElementInstance

__all__ = ["close_waits"]


class _Effects(Protocol):
    def effect(self, effect: m.Effect) -> None: ...


def close_waits(step: _Effects, owner: ElementInstance, *, keep: int | None = None) -> None:
    for key, kind in list(owner.waits.items()):
        if key == keep:
            continue
        step.effect(m.CancelTimer(key) if kind == "timer" else m.CloseSubscription(key))
        del owner.waits[key]
