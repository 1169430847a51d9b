"""How the /v2 API writes and reads values: string keys, ISO 8601 dates, search pages, process definitions.

Camunda's keys are 64-bit numbers sent as strings (``"2251799813685249"``);
agenthub's are integers, so every key goes out with ``key`` and comes in
through ``parse_key`` (a 400 naming the field, or a 404 for a path segment).
A search page is ``{"page": {"limit", "after"}}`` in, ``{"totalItems",
"hasMoreTotalItems", "startCursor", "endCursor"}`` out, a cursor being an
item's key in base64 (Camunda's clients check the form): ``after`` continues
from the ``endCursor`` given.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from engine import Engine, InstanceView, NotFound
from hub.api.common import ApiError, field

__all__ = [
    "TENANT",
    "Definitions",
    "cursor",
    "iso",
    "key",
    "page_json",
    "parse_key",
    "path_key",
    "root_of",
    "search_page",
]

TENANT = "<default>"  # Camunda's name for the tenant of a cluster without multi-tenancy
MAX_PAGE = 1000
DEFAULT_PAGE = 100


def key(value: int | None) -> str | None:
    return None if value is None else str(value)


def iso(millis: int | None) -> str | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="milliseconds")


def parse_key(body: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    """A key field of a request body, as a string of digits (Camunda's form) or an integer."""
    value = field(body, name, (str, int), required=required)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"'{name}' must be a key (a string of digits), not '{value}'") from None


def path_key(request: Request, name: str) -> int:
    raw = request.path_params[name]
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(404, f"'{raw}' is not a key: keys are strings of digits") from None


def search_page(body: dict[str, Any]) -> tuple[int, int | None]:
    """``page.limit`` (default 100, at most 1000) and ``page.after`` (a cursor: the key to continue after)."""
    page = field(body, "page", dict, default={})
    limit = field(page, "limit", int, default=DEFAULT_PAGE)
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(400, f"'page.limit' must be between 1 and {MAX_PAGE}")
    if field(page, "from", int, default=0):
        raise ApiError(
            400,
            "'page.from' (offset paging) is not supported: continue with 'page.after' and the "
            "'endCursor' of the page before",
        )
    cursor = field(page, "after", str)
    return limit, None if cursor is None else _uncursor(cursor)


def cursor(item_key: str) -> str:
    """A page cursor as Camunda's clients expect one (base64 text): here, of the item's key."""
    return base64.b64encode(item_key.encode()).decode()


def _uncursor(value: str) -> int:
    try:
        return int(base64.b64decode(value, validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, f"'page.after' is not a cursor this hub gave ('{value}'): pass a page's 'endCursor'"
        ) from None


def page_json(items: Sequence[dict[str, Any]], limit: int, key_field: str) -> dict[str, Any]:
    """``{"items", "page"}`` for up to ``limit`` items (``items`` holds one more when there is a next page)."""
    shown = list(items[:limit])
    more = len(items) > limit
    return {
        "items": shown,
        "page": {
            "totalItems": len(shown),
            "hasMoreTotalItems": more,
            "startCursor": cursor(shown[0][key_field]) if shown else None,
            "endCursor": cursor(shown[-1][key_field]) if shown else None,
        },
    }


class Definitions:
    """Process definitions by id and version, read once per request: the keys Camunda's shapes carry."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def _versions(self, process_id: str) -> list[dict[str, Any]]:
        if process_id not in self._rows:
            self._rows[process_id] = self.engine.definitions(process_id)
        return self._rows[process_id]

    def row(self, process_id: str, version: int | None = None) -> dict[str, Any]:
        """The definition of ``process_id`` at ``version`` (the latest without one); ``NotFound`` otherwise."""
        rows = self._versions(process_id)
        found = rows[-1] if rows and version is None else next((r for r in rows if r["version"] == version), None)
        if found is None:
            raise NotFound(f"process '{process_id}' is not deployed" + (f" in version {version}" if version else ""))
        return found

    def by_key(self, definition: int) -> dict[str, Any]:
        """The definition whose key is ``definition``; ``NotFound`` otherwise."""
        for row in self.engine.definitions():
            if int(row["key"]) == definition:
                return row
        raise NotFound(f"no process definition has the key {definition}")

    def key_of(self, view: InstanceView) -> str:
        try:
            return str(self.row(view.process_id, view.version)["key"])
        except NotFound:  # a version whose row was removed by hand: the shapes still need a key
            return "0"


def root_of(engine: Engine, view: InstanceView) -> int:
    """The top-level instance above ``view`` (itself when it was not started by a call activity)."""
    seen = {view.key}
    while view.parent_instance is not None and view.parent_instance not in seen:
        view = engine.instance(view.parent_instance)
        seen.add(view.key)
    return view.key
