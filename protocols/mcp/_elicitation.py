"""Elicitation: a user task for the caller, asked of the calling client's user while the tool call runs.

When a process tool call finds its instance waiting on an open user task
whose assignee is the caller (``assignee="=caller"``, the ``caller``
variable every MCP call sets), and the client declared the ``elicitation``
capability on a connection that can carry a server request (a 2025-era
session; the 2026-07-28 protocol cannot), the hub sends
``elicitation/create``:

- ``message``: the task's documentation, else its name;
- ``requestedSchema``: the user task's ``<agenthub:schema>`` (a flat object
  of primitive properties, as MCP asks, with ``default``, ``enum``,
  ``oneOf`` titles and multi-select arrays passed through), else an empty
  object (a confirmation).

``accept`` completes the task with the answer's content as its variables,
as the caller (``Channel.MCP``), and the call follows the instance on;
``decline``, ``cancel``, a client error or the call's time budget running
out leave the task open, and the call answers as it does for any waiting
instance. A client without the capability never hears of the task: it waits
for a person as before.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from mcp.shared.exceptions import MCPError

from engine import Channel, Engine, EngineError, InstanceView, strict_json
from protocols.actors import actor_of
from protocols.mcp._context import Context, in_thread
from registry import Principal

log = logging.getLogger("agenthub.mcp")

MAX_ROUNDS = 10
"""Tasks one call may ask for, one after the other, before it answers as waiting."""


def can_elicit(ctx: Context) -> bool:
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None and ctx.session.can_send_request


def _question(engine: Engine, view: InstanceView, element_id: str, name: str) -> tuple[str, dict[str, Any]]:
    node = engine.process(view.process_id, view.version).nodes.get(element_id)
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    if node is None:
        return name, schema
    element = next((e for e in node.extensions if e.name == "schema"), None)
    if element is not None:
        found = strict_json.loads(element.text or "{}")
        if isinstance(found, dict):
            schema = found
    return (node.documentation or name).strip(), schema


async def ask_caller(ctx: Context, engine: Engine, principal: Principal, view: InstanceView, budget: float) -> bool:
    """Ask the client for the caller's open task of ``view``; True when its answer completed the task."""
    tasks = await in_thread(lambda: engine.user_tasks(instance=view.key))
    task = next((t for t in tasks if t.assignee == principal.name), None)
    if task is None:
        return False
    message, schema = await in_thread(lambda: _question(engine, view, task.element_id, task.name))
    answer = None
    with anyio.move_on_after(max(0.0, budget)):
        try:
            answer = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
        except MCPError as exc:
            log.info("the client refused the elicitation for task %s: %s", task.key, exc)
    if answer is None or answer.action != "accept":
        return False
    values = dict(answer.content or {})
    try:
        await in_thread(lambda: engine.complete_user_task(task.key, values, by=actor_of(principal, Channel.MCP)))
    except EngineError as exc:  # the form refused the answer, or someone else completed the task meanwhile
        log.info("the elicited answer did not complete task %s: %s", task.key, exc)
        return False
    return True
