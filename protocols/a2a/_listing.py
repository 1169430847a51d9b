"""ListTasks: the caller's own instances, newest first, in pages.

The engine keeps who started each instance in an indexed column
(``started_by``, engine migration 0018), so a page of the caller's tasks is
one indexed query with a ``LIMIT`` and the total an indexed count, however
many instances others started. Filters the engine does not index (the context
id, a variable; the A2A state, which depends on open user tasks; the status
time; a virtual agent's set of processes) are applied to the caller's own
instances, read in batches: linear in the caller's instances, not in the
process's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from a2a.types import ListTasksRequest, ListTasksResponse, Message, TaskState
from a2a.utils.constants import DEFAULT_LIST_TASKS_PAGE_SIZE
from a2a.utils.errors import InvalidParamsError
from a2a.utils.task import apply_history_length, decode_page_token, encode_page_token, validate_page_size

from engine import Engine, InstanceView
from engine.store.instance_search import InstanceFilter
from protocols.a2a._convert import Snapshot, identity, read_snapshot, to_task

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
    where = InstanceFilter(process_id=agent, started_by=caller)
    if within is None and not params.context_id and not _needs_state(params):
        total = engine.console.count(where)  # every filter indexed: a page is one query
        found = engine.console.search(where, limit=size + 1, before=before)
        page = [read_snapshot(engine, view) for view in found[:size]]
        more = len(found) > size
    else:
        matching = [s for s in _caller_snapshots(engine, where, params, within) if _kept(s, params)]
        total = len(matching)
        start = 0 if before is None else next((i for i, s in enumerate(matching) if s.key < before), len(matching))
        page = matching[start : start + size]
        more = start + size < len(matching)
    response = ListTasksResponse(page_size=size, total_size=total)
    for snapshot in page:
        task = to_task(snapshot, include_artifacts=params.include_artifacts)
        if history is not None and params.HasField("history_length") and params.history_length > 0:
            task.history.extend(history(task.id, min(params.history_length, MAX_LISTED_HISTORY)))
        response.tasks.append(apply_history_length(task, params))
    if more:
        response.next_page_token = encode_page_token(str(page[-1].key))
    return response


def _caller_snapshots(
    engine: Engine, where: InstanceFilter, params: ListTasksRequest, within: Collection[str] | None
) -> Iterator[Snapshot]:
    """The caller's instances (newest first, in batches) that the filters outside the index admit, as snapshots."""
    for view in _instances(engine, where):
        if within is not None and view.process_id not in within:
            continue
        if params.context_id and identity(engine, view)[1] != params.context_id:
            continue
        yield read_snapshot(engine, view)


def _kept(snapshot: Snapshot, params: ListTasksRequest) -> bool:
    after_ms = params.status_timestamp_after.ToMilliseconds() if params.HasField("status_timestamp_after") else None
    return ((params.status == TaskState.TASK_STATE_UNSPECIFIED or snapshot.state == params.status)
            and (after_ms is None or _status_ms(snapshot.view) > after_ms))


def _instances(engine: Engine, where: InstanceFilter) -> Iterator[InstanceView]:
    before: int | None = None
    while True:
        batch = engine.console.search(where, limit=_BATCH, before=before)
        yield from batch
        if len(batch) < _BATCH:
            return
        before = batch[-1].key


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
