"""Seeing A2A tasks change and queueing one notification per push config for each change.

The watcher is the half of push delivery that reads the engine: for every
task that has a config whose task may still change, it reads the instance,
turns it into the task's signature (its A2A state, and for
``input-required`` which user task asks) and, where a config was last told
about another signature, queues the task as it is now (an A2A
``StreamResponse`` holding the ``Task``) in the registry's outbox. The
compare-and-set in ``PushStore.enqueue`` makes the queueing exactly once per
change and config, even with several hub processes watching.

A scan is cheap when there is nothing to watch (one query), so the
dispatcher scans after every commit of this process and on a timer for
commits of others. A change that comes and goes between two scans (a task
that asks for input and gets it at once) is not seen; the state a task
settles in always is.
"""

from __future__ import annotations

import json
from itertools import groupby

from a2a.types import StreamResponse, TaskState
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

from engine import Engine, NotFound
from protocols.a2a._convert import Snapshot, load_snapshot, to_task
from registry import PushConfig, PushStore

__all__ = ["PushWatcher", "notification", "task_signature"]

_ENDED = ("completed", "terminated")


def task_signature(snapshot: Snapshot) -> str:
    """What a config is told about: the task's state, and which user task asks when the caller's input is required."""
    state = str(TaskState.Name(snapshot.state))
    asking = snapshot.caller_task()
    return f"{state}:{asking['task']}" if asking is not None and state == "TASK_STATE_INPUT_REQUIRED" else state


def notification(snapshot: Snapshot) -> str:
    """The body of a push notification: the task as an A2A ``StreamResponse``, in JSON."""
    return json.dumps(MessageToDict(StreamResponse(task=to_task(snapshot))), separators=(",", ":"))


class PushWatcher:
    """Reads the tasks that have push configs and queues a notification for each change."""

    def __init__(self, engine: Engine, store: PushStore) -> None:
        self.engine = engine
        self.store = store

    def scan(self, now: int) -> int:
        """Queue what changed since the last scan; returns how many notifications were queued. Blocking."""
        queued = 0
        watched: list[PushConfig] = self.store.watched()
        for task_id, group in groupby(watched, key=lambda c: c.task_id):
            configs = list(group)
            try:
                snapshot = load_snapshot(self.engine, int(task_id))
            except (NotFound, ValueError):
                self.store.finish(task_id)  # the instance is gone: nothing will change any more
                continue
            signature = task_signature(snapshot)
            behind = [c for c in configs if c.notified != signature]
            if not behind:
                continue
            body = notification(snapshot)
            done = snapshot.view.state in _ENDED
            for config in behind:
                queued += self.store.enqueue(config, signature=signature, done=done, payload=body, now=now)
        return queued
