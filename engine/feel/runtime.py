"""Evaluation-time state: the scope chain (``Env``), the clock, the source of random bytes, function invocation."""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import DecimalException
from typing import Any

from engine.feel.exceptions import FeelLimitError
from engine.feel.values import MAX_CALL_DEPTH, MAX_STEPS, FeelFunction, to_feel

__all__ = ["MISSING", "Compiled", "Entropy", "Env", "State", "invoke", "seeded_entropy", "system_entropy", "system_now"]

Entropy = Callable[[int], bytes]
"""``n`` random bytes: what ``uuid()`` and ``random number()`` are made of."""

MISSING: Any = object()
_CALL_ERRORS = (TypeError, ValueError, ArithmeticError, DecimalException, IndexError, KeyError,
                AttributeError, OverflowError, re.error, UnicodeError)


def system_now() -> _dt.datetime:
    """The wall clock, read only when the caller did not inject ``now``.

    This is the single place where the FEEL package reads the system clock.
    """
    return _dt.datetime.now(_dt.UTC)


def system_entropy(size: int) -> bytes:
    """The system's random bytes, read only when the caller did not inject ``entropy``.

    This is the single place where the FEEL package reads randomness. A step of the engine never gets here:
    it passes ``seeded_entropy`` of the element instance, the time and the expression, so that it replays.
    """
    return os.urandom(size)


def seeded_entropy(seed: str) -> Entropy:
    """Bytes that look random but follow from ``seed`` alone (SHA-256 in counter mode): the same seed, the same bytes.

    Each call continues the stream, so two ``uuid()`` calls in one evaluation differ.
    """
    counter = itertools.count()

    def take(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(f"{seed}#{next(counter)}".encode()).digest()
        return out[:size]

    return take


class State:
    """What one evaluation shares across scopes: the clock, the random bytes, the call depth and the step budget."""

    __slots__ = ("depth", "entropy", "now", "steps")

    def __init__(self, now: _dt.datetime | None, entropy: Entropy | None = None) -> None:
        self.now = now
        self.entropy: Entropy = entropy or system_entropy
        self.depth = 0
        self.steps = 0

    def step(self, count: int = 1) -> None:
        """Spend ``count`` steps; nested loops or exponential recursion stop at MAX_STEPS."""
        self.steps += count
        if self.steps > MAX_STEPS:
            raise FeelLimitError(f"evaluation took more than {MAX_STEPS} steps")

    def clock(self) -> _dt.datetime:
        if self.now is None:
            self.now = system_now()
        return self.now


class Env:
    """A scope: local names (a dict) over a parent scope; the root wraps the caller's mapping.

    Values from the caller's mapping are converted to FEEL values as they are read,
    so a large variables mapping is never copied.
    """

    __slots__ = ("parent", "state", "vars")

    def __init__(self, variables: Mapping[str, Any], parent: Env | None, state: State) -> None:
        self.vars = variables
        self.parent = parent
        self.state = state

    def child(self, local: dict[str, Any]) -> Env:
        return Env(local, self, self.state)

    def lookup(self, name: str) -> Any:
        env = self
        while env.parent is not None:
            local = env.vars
            if name in local:
                return local[name]
            env = env.parent
        return to_feel(env.vars.get(name))

    def lookup_raw(self, name: str) -> Any:
        """The value bound to ``name``; from the caller's mapping unconverted, MISSING if unbound."""
        env = self
        while env.parent is not None:
            local = env.vars
            if name in local:
                return local[name]
            env = env.parent
        root = env.vars
        return root.get(name, MISSING)

    def defined(self, name: str) -> bool:
        return self.lookup_raw(name) is not MISSING


#: A compiled expression: a closure from the scope to the value.
Compiled = Callable[[Env], Any]


def _bind_named(fn: FeelFunction, args: Sequence[Any], names: Sequence[str]) -> list[Any] | None:
    positions = {p: i for i, p in enumerate(fn.params)}
    bound: list[Any] = [MISSING] * len(fn.params)
    for name, value in zip(names, args, strict=True):
        index = positions.get(name)
        if index is None or bound[index] is not MISSING:
            return None
        bound[index] = value
    if all(v is MISSING for v in bound[: fn.min_args]) and fn.min_args:
        return None
    while len(bound) > fn.min_args and bound[-1] is MISSING:
        bound.pop()
    return [None if v is MISSING else v for v in bound]


def _fits(fn: FeelFunction, count: int) -> bool:
    return fn.min_args <= count and (fn.variadic or count <= len(fn.params))


def invoke(
    candidates: Sequence[FeelFunction], args: Sequence[Any], names: Sequence[str] | None, state: State
) -> Any:
    """Call the first overload that accepts the arguments; null if none does or the call fails."""
    for fn in candidates:
        bound = (list(args) if _fits(fn, len(args)) else None) if names is None else _bind_named(fn, args, names)
        if bound is None:
            continue
        state.step()
        state.depth += 1
        try:
            if state.depth > MAX_CALL_DEPTH:
                raise FeelLimitError(f"function calls nested deeper than {MAX_CALL_DEPTH}")
            if fn.needs_clock and fn.needs_entropy:
                return fn.impl(state.clock(), state.entropy, *bound)
            if fn.needs_entropy:
                return fn.impl(state.entropy, *bound)
            if fn.needs_clock:
                return fn.impl(state.clock(), *bound)
            return fn.impl(*bound)
        except _CALL_ERRORS:
            return None
        finally:
            state.depth -= 1
    return None
