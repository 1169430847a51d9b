"""Which webhooks are active now: derived from the deployed processes each time, never stored.

- a start event's webhook is active in the latest version of its process only
  (as Camunda activates start-event connectors of the latest version);
- an intermediate catch or boundary event's (or a receive task's) webhook is active in the latest
  version, and in an older version while an instance of it waits at that
  element (an open subscription), since the message a request publishes
  reaches any version's waiting instance.

The list of versions is one query per request, so a deployment takes effect
with the next request and two hubs on one database agree. A version never
changes once deployed, so the webhooks found in it may be kept by its
definition key (``cache``) instead of reading the process again each time.
"""

from __future__ import annotations

from engine import Engine
from hub.inbound.config import CATCHING, WebhookElement, webhooks_of

__all__ = ["WebhookCache", "active_webhooks"]

WebhookCache = dict[int, list[WebhookElement]]
"""The webhook elements of each process version, by definition key."""


def _of(engine: Engine, row: dict[str, object], cache: WebhookCache | None) -> list[WebhookElement]:
    key, process_id, version = int(str(row["key"])), str(row["processId"]), int(str(row["version"]))
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = webhooks_of(engine.process(process_id, version), version)
        if cache is not None:
            cache[key] = found
    return found


def active_webhooks(engine: Engine, webhook_id: str | None = None, *,
                    cache: WebhookCache | None = None) -> list[WebhookElement]:
    """The active webhook elements (of ``webhook_id`` when given), ordered by webhook, process and element id."""
    latest: dict[str, dict[str, object]] = {}
    older: list[dict[str, object]] = []
    for row in engine.definitions():  # ordered by version within each process
        previous = latest.get(str(row["processId"]))
        if previous is not None:
            older.append(previous)
        latest[str(row["processId"])] = row
    found: list[WebhookElement] = []
    for row in latest.values():
        found.extend(_of(engine, row, cache))
    waiting: set[tuple[str, str]] | None = None
    for row in older:
        candidates = [c for c in _of(engine, row, cache) if c.kind in CATCHING
                      and (webhook_id is None or c.webhook_id == webhook_id)]
        if not candidates:
            continue
        if waiting is None:  # read once, only when an older version has a catching webhook at all
            waiting = {(str(s["process"]), str(s["element"])) for s in engine.subscriptions()
                       if s.get("instance") is not None}
        seen = {(f.process_id, f.element_id, f.message_name) for f in found}
        found.extend(c for c in candidates if (c.process_id, c.element_id) in waiting
                     and (c.process_id, c.element_id, c.message_name) not in seen)
    if webhook_id is not None:
        found = [f for f in found if f.webhook_id == webhook_id]
    return sorted(found, key=lambda f: (f.webhook_id, f.process_id, f.element_id, -f.version))
