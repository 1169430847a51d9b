"""Variable scopes as Camunda 8 defines them.

Each element instance may own local variables; a name is looked up from the
element instance up through its parents to the process scope. Setting a
variable "with propagation" writes it in the nearest scope that already has
it, or else in the process scope, which is what a job completion without
output mappings does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.runtime.state import InstanceState


class ScopeView(Mapping[str, Any]):
    """A read-only view of the variables visible from one element instance.

    ``seed`` names the instance and element instance: FEEL's ``uuid()`` and ``random number()`` are seeded with
    it (and the time and the expression), so they differ between element instances and replay the same.
    """

    __slots__ = ("_chain", "seed")

    def __init__(self, state: InstanceState, key: int | None) -> None:
        self.seed = f"{state.key}:{key}"
        chain: list[dict[str, Any]] = []
        while key is not None:
            scope = state.variables.get(key)
            if scope:
                chain.append(scope)
            element = state.elements.get(key)
            key = element.parent if element is not None else None
        self._chain = chain

    def __getitem__(self, name: str) -> Any:
        for scope in self._chain:
            if name in scope:
                return scope[name]
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        for scope in self._chain:
            if name in scope:
                return scope[name]
        return default

    def __contains__(self, name: object) -> bool:
        return any(name in scope for scope in self._chain)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for scope in self._chain:
            for name in scope:
                if name not in seen:
                    seen.add(name)
                    yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def flatten(self) -> dict[str, Any]:
        """All visible variables as one dict, the nearest scope winning."""
        merged: dict[str, Any] = {}
        for scope in reversed(self._chain):
            merged.update(scope)
        return merged


def set_local(state: InstanceState, key: int, values: Mapping[str, Any]) -> None:
    if values:
        state.variables.setdefault(key, {}).update(values)


def propagate(state: InstanceState, key: int | None, values: Mapping[str, Any], *,
              ceiling: int | None = None) -> dict[int, dict[str, Any]]:
    """Write each value into the nearest scope from ``key`` upwards that has it, else the process scope.

    A ``ceiling`` (a scope at or above ``key``) is as far as values go: what reaches it without finding its
    name is written there instead of in the process scope. Returns what was written, by scope, for the journal.
    """
    written: dict[int, dict[str, Any]] = {}
    for name, value in values.items():
        target = state.root if ceiling is None else ceiling
        scope_key = key
        while scope_key is not None:
            scope = state.variables.get(scope_key)
            if scope is not None and name in scope:
                target = scope_key
                break
            if scope_key == ceiling:
                break
            element = state.elements.get(scope_key)
            scope_key = element.parent if element is not None else None
        state.variables.setdefault(target, {})[name] = value
        written.setdefault(target, {})[name] = value
    return written


def assign_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b.c`` inside nested dicts, creating contexts on the way (Camunda 8 output targets)."""
    parts = path.split(".")
    current = target
    for part in parts[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            current[part] = nxt
        else:
            nxt = dict(nxt)
            current[part] = nxt
        current = nxt
    current[parts[-1]] = value
