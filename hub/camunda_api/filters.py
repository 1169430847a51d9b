"""A search's ``filter``: the fields a /v2 search understands, as plain values or ``{"$eq": value}``.

Camunda's searches take advanced filters (``$in``, ``$like``, ``$gt`` ...);
agenthub answers the plain and ``$eq`` forms and refuses the others and any
field it does not filter on with a 400 naming them, rather than answer a
search that silently ignored part of what was asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.api.common import ApiError, field

__all__ = ["equals", "filter_of", "key_filter"]


def filter_of(body: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """``body["filter"]``, refused (400) when it names a field outside ``allowed``."""
    where: dict[str, Any] = field(body, "filter", dict, default={})
    known = set(allowed)
    unknown = sorted(set(where) - known)
    if unknown:
        raise ApiError(
            400, f"this search does not filter on {', '.join(unknown)}: agenthub filters on {', '.join(sorted(known))}"
        )
    return where


def equals(where: dict[str, Any], name: str, kind: type) -> Any:
    """The value ``name`` must equal, or None when it is not filtered on."""
    value = where.get(name)
    if isinstance(value, dict):
        others = sorted(set(value) - {"$eq"})
        if others:
            raise ApiError(
                400,
                f"'filter.{name}' uses {', '.join(others)}: agenthub filters by equality only "
                '(a value, or {"$eq": value})',
            )
        value = value.get("$eq")
    if value is None:
        return None
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise ApiError(400, f"'filter.{name}' must be a {kind.__name__}")
    return value


def key_filter(where: dict[str, Any], name: str) -> int | None:
    """A key to filter on (a string of digits, or a number)."""
    value = where.get(name)
    plain = value.get("$eq") if isinstance(value, dict) else value
    raw = equals(where, name, str if isinstance(plain, str) else int)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"'filter.{name}' must be a key (a string of digits), not '{raw}'") from None
