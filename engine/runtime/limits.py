"""Bounds on what one command may set off, so that no model can wedge the engine.

A loop of gateways with no wait state, a call activity that calls its own
process, or a multi-instance activity over a billion items would otherwise
run inside one transaction until memory or patience runs out, holding the
database's write lock all the while. Each bound ends in an incident on the
element where it tripped (type ``limit``), never in a spin; resolving the
incident goes on from there with a fresh budget, so a model that really
needs more can still finish step by step. The rejected alternative, failing
the whole command, would roll back the work before the loop and tell the
caller nothing about where the model went round.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LimitReached", "RuntimeLimits"]


@dataclass(frozen=True, slots=True)
class RuntimeLimits:
    # element activations one command may run before the next one becomes an incident
    max_activations: int = 50_000
    # nested call activities: an instance this deep calls no further
    max_call_depth: int = 64
    # inner instances of one multi-instance activity
    max_cardinality: int = 100_000

    def __post_init__(self) -> None:
        for name in ("max_activations", "max_call_depth", "max_cardinality"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")


class LimitReached(Exception):
    """A bound of ``RuntimeLimits`` tripped at an element: the step turns it into an incident of type ``limit``."""
