"""Running an instance for a caller who waits: start it, follow it, say what it waits for.

Shared by every surface that offers "run this process and give me the
result": the REST API's ``awaitCompletion``, MCP tool calls, A2A messages.
The engine commits each step; this module only reads, so a caller that
gives up waiting leaves the instance running.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from engine import Engine, InstanceView
from protocols.commits import commit_signal

Progress = Callable[[InstanceView], Awaitable[None]]

_FINISHED = ("completed", "terminated")


def is_settled(view: InstanceView) -> bool:
    """Ended, or stopped by an incident: nothing more happens without someone acting."""
    return view.state in (*_FINISHED, "incident")


async def _either(event: asyncio.Event, other: asyncio.Event | None) -> None:
    """Until ``event`` or ``other`` is set."""
    if other is None:
        await event.wait()
        return
    waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(other.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def follow(
    engine: Engine,
    key: int,
    timeout_s: float,
    *,
    on_change: Progress | None = None,
    first: InstanceView | None = None,
    poll_s: float = 0.05,
    max_poll_s: float = 0.5,
    until_outside: bool = False,
    stop: asyncio.Event | None = None,
) -> InstanceView:
    """Poll the instance until it ends, raises an incident, or ``timeout_s`` passes; returns its last view.

    ``stop``: returns (the view as last read) as soon as it is set, too.

    With ``until_outside`` it also returns as soon as the instance waits only
    on the outside world (a person, a timer, a message or signal) and on no
    job, so a caller hears "waiting for a person" at once, not at its timeout.

    ``on_change`` is called with each view whose state or active elements
    differ from the previous one (progress for MCP and A2A streams). A
    commit in this process (the hub's own worker loop, a REST call) wakes
    the wait at once; steps committed by other processes (separate
    ``agenthub worker`` processes) are seen by polling, every 50 ms backing
    off to 500 ms.
    """
    async with commit_signal(engine) as committed:  # before the first read: no commit after it goes unnoticed
        view = first if first is not None else await asyncio.to_thread(engine.instance, key)
        deadline = time.monotonic() + max(0.0, timeout_s)
        seen = _signature(view)
        delay = poll_s
        if until_outside and (outside := await _outside(engine, view)) is not None:
            return outside
        while not is_settled(view):
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                break
            # A commit in this process wakes us at once; other processes' commits are seen by polling.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_either(committed, stop), min(delay, left))
            if stop is not None and stop.is_set():
                break
            committed.clear()
            delay = min(delay * 1.5, max_poll_s)
            view = await asyncio.to_thread(engine.instance, key)
            signature = _signature(view)
            if signature != seen:
                seen = signature
                delay = poll_s
                if on_change is not None:
                    await on_change(view)
                if until_outside and (outside := await _outside(engine, view)) is not None:
                    view = outside
                    break
    return view


async def _outside(engine: Engine, view: InstanceView) -> InstanceView | None:
    """The instance read again when ``view`` waits only on the outside world and it still stands there; else None.

    The check reads the jobs and waits after ``view`` was read: a job that completed in between (its instance now
    at a user task) would pass the check with ``view`` still at the job, without the job's variables. The view
    read after the check, at the same elements, is the one to answer with; one that moved on is followed on.
    """
    if not await asyncio.to_thread(waits_outside_only, engine, view):
        return None
    fresh = await asyncio.to_thread(engine.instance, view.key)
    return fresh if _signature(fresh) == _signature(view) else None


def waits_outside_only(engine: Engine, view: InstanceView) -> bool:
    """Active, with no job pending, and waiting for a person, a timer, a message or a signal."""
    if view.state != "active" or engine.jobs(view.key):
        return False
    return bool(
        engine.user_tasks(instance=view.key, limit=1)
        or engine.timers(instance=view.key)
        or engine.subscriptions(instance=view.key)
    )


def _signature(view: InstanceView) -> tuple[Any, ...]:
    return (view.state, tuple(sorted((e["elementId"], e["state"]) for e in view.active_elements)))


_CALL_DEPTH = 4  # how many levels of called instances an instance's waitingFor shows


def waiting_for(engine: Engine, view: InstanceView, *, depth: int = 0) -> list[dict[str, Any]]:
    """What an active instance waits on: people (user tasks), timers, messages, workers (jobs), incidents, and
    the instances its call activities called (``calledInstance``, with what those wait on in turn)."""
    if view.state in _FINISHED:
        return []
    waits: list[dict[str, Any]] = []
    for task in engine.user_tasks(instance=view.key):
        item = {
            "kind": "userTask",
            "task": task.key,
            "element": task.element_id,
            "name": task.name,
            "assignee": task.assignee,
            "candidateGroups": task.candidate_groups,
        }
        if task.form_key:
            item["formKey"] = task.form_key
        waits.append(item)
    for timer in engine.timers(instance=view.key):
        waits.append({"kind": "timer", "element": timer["element"], "dueAt": timer["dueAt"]})
    for sub in engine.subscriptions(instance=view.key):
        waits.append(
            {
                "kind": sub["kind"],
                "element": sub["element"],
                "name": sub["name"],
                "correlationKey": sub["correlationKey"],
            }
        )
    for job in engine.jobs(view.key):
        waits.append({"kind": "job", "element": job["element"], "type": job["type"], "state": job["state"],
                      **({"listener": job["listenerEventType"]} if job.get("listenerEventType") else {})})
    for incident in engine.incidents(instance=view.key):
        waits.append(
            {"kind": "incident", "incident": incident.key, "element": incident.element_id, "message": incident.message}
        )
    for element in view.active_elements:
        child = element.get("calledInstance")
        if child is None:
            continue
        called = engine.instance(int(child))
        call: dict[str, Any] = {"kind": "calledInstance", "element": element["elementId"], "instance": called.key,
                                "process": called.process_id, "state": called.state}
        if depth < _CALL_DEPTH:  # a deeper chain is named, not walked: the called instance's own view has it
            call["waitingFor"] = waiting_for(engine, called, depth=depth + 1)
        waits.append(call)
    return waits


def outcome(engine: Engine, view: InstanceView) -> dict[str, Any]:
    """The CLI's ``--json`` shape, plus what the instance waits for while it has not ended."""
    data = view.to_json()
    if view.state not in _FINISHED:
        data["waitingFor"] = waiting_for(engine, view)
    return data
