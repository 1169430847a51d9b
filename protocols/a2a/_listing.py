"""ListTasks: the caller's own instances, newest first, in pages.

The engine indexes instances by key, process and state, not by who started
them, so the caller's instances are found by reading the process's instances
in batches and keeping those the principal started (``started_by``, never the
``caller`` variable). That is linear in the process's instances; an indexed
column for the owner belongs in the engine when lists grow long (noted in
docs/A2A.md).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from a2a.types import ListTasksRequest, ListTasksResponse, Message, TaskState
from a2a.utils.constants import DEFAULT_LIST_TASKS_PAGE_SIZE
from a2a.utils.errors import InvalidParamsError
from a2a.utils.task import apply_history_length, decode_page_token, encode_page_token, validate_page_size

from engine import Engine, InstanceView
from protocols.a2a._convert import identity, read_snapshot, to_task

_BATCH = 500
MAX_LISTED_HISTORY = 100  # as a single task's (``_handler.MAX_HISTORY``)


def list_tasks(
    engine: Engine, params: ListTasksRequest, caller: str, agent: str | None, within: Collection[str] | None = None,
    *, history: Callable[[str, int], list[Message]] | None = None,
) -> ListTasksResponse:
    """One page of the caller's tasks (of ``agent``'s process, of the processes ``within`` a virtual agent's set,
    or of every process at the hub endpoint). Each task shows its last ``historyLength`` messages, read with
    ``history(task_id, count)``; none when the request does not ask (a list is not the place for conversations)."""
    size = DEFAULT_LIST_TASKS_PAGE_SIZE
    if params.HasField("page_size"):
        validate_page_size(params.page_size)
        size = params.page_size
    before = _page_key(params.page_token) if params.page_token else None
    mine = []
    found = _instances(engine, agent) if within is None else sorted(
        (view for process_id in within for view in _instances(engine, process_id)), key=lambda view: view.key)
    for view in found:
        owner, context_id = identity(engine, view)
        if owner == caller and (not params.context_id or context_id == params.context_id):
            mine.append(view)
    mine.reverse()  # newest first
    snapshots = [read_snapshot(engine, view) for view in mine] if _needs_state(params) else None
    if snapshots is not None:
        after_ms = params.status_timestamp_after.ToMilliseconds() if params.HasField("status_timestamp_after") else None
        snapshots = [
            s
            for s in snapshots
            if (params.status == TaskState.TASK_STATE_UNSPECIFIED or s.state == params.status)
            and (after_ms is None or _status_ms(s.view) > after_ms)
        ]
        keys = [s.key for s in snapshots]
    else:
        keys = [view.key for view in mine]
    start = 0 if before is None else next((i for i, key in enumerate(keys) if key < before), len(keys))
    page_keys = keys[start : start + size]
    by_key = {s.key: s for s in snapshots} if snapshots is not None else {}
    views = {view.key: view for view in mine}
    response = ListTasksResponse(page_size=size, total_size=len(keys))
    for key in page_keys:
        snapshot = by_key.get(key) or read_snapshot(engine, views[key])
        task = to_task(snapshot, include_artifacts=params.include_artifacts)
        if history is not None and params.HasField("history_length") and params.history_length > 0:
            task.history.extend(history(task.id, min(params.history_length, MAX_LISTED_HISTORY)))
        response.tasks.append(apply_history_length(task, params))
    if start + size < len(keys):
        response.next_page_token = encode_page_token(str(page_keys[-1]))
    return response


def _instances(engine: Engine, process_id: str | None) -> list[InstanceView]:
    found: list[InstanceView] = []
    after: int | None = None
    while True:
        batch = engine.instances(process_id=process_id, limit=_BATCH, after=after)
        found.extend(batch)
        if len(batch) < _BATCH:
            return found
        after = batch[-1].key


def _needs_state(params: ListTasksRequest) -> bool:
    return params.status != TaskState.TASK_STATE_UNSPECIFIED or params.HasField("status_timestamp_after")


def _status_ms(view: InstanceView) -> int:
    if view.ended_at is not None:
        return view.ended_at
    return view.created_at or 0


def _page_key(token: str) -> int:
    decoded = decode_page_token(token)
    if not decoded.isdigit():
        raise InvalidParamsError(message="the page token is not one this server handed out")
    return int(decoded)
