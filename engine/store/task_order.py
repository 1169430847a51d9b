"""The order of a task list: by creation, due date, follow-up date or priority, a page at a time.

One rule for both stores. A listing is ordered by its sort value, then by
task key (so equal values keep creation order; descending reverses both, as
one index walked backwards); tasks without the value (no due date, no
follow-up date) come last in either direction, in key order. A page goes
on after a task (``after``, the last key of the previous page): the store
reads that task's sort value and continues from the pair (value, key), so
the cursor stays the plain task id the API already hands out.

The SQL store reads the tasks with a value and those without in two indexed
queries with a LIMIT each (``ix_user_tasks_due`` and friends) rather than one
``ORDER BY value IS NULL``, which no index serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from engine.store.rows import UserTaskRow

__all__ = ["TASK_SORTS", "TaskOrder", "TaskSort", "page_of"]


class TaskSort(StrEnum):
    """What a task list is ordered by; the value is the name the API and the task JSON use."""

    CREATED = "created"
    DUE_DATE = "dueDate"
    FOLLOW_UP_DATE = "followUpDate"
    PRIORITY = "priority"

    @property
    def column(self) -> str:
        """The ``user_tasks`` column holding the sort value (creation order is key order)."""
        return _COLUMNS[self]


TASK_SORTS = tuple(name for sort in TaskSort for name in (sort.value, f"-{sort.value}"))  # what ``parse`` takes
_COLUMNS = {TaskSort.CREATED: "key", TaskSort.DUE_DATE: "due_at", TaskSort.FOLLOW_UP_DATE: "follow_up_at",
            TaskSort.PRIORITY: "priority"}


@dataclass(frozen=True, slots=True)
class TaskOrder:
    """A sort value and a direction: ``TaskOrder.parse("-dueDate")`` is latest due first."""

    by: TaskSort = TaskSort.CREATED
    descending: bool = False

    @staticmethod
    def parse(text: str | None) -> TaskOrder:
        """``dueDate``, ``followUpDate``, ``priority`` or ``created``, with a leading ``-`` for descending;
        ValueError names the choices."""
        if text is None or not text.strip():
            return TaskOrder()
        raw = text.strip()
        descending = raw.startswith("-")
        name = raw[1:] if descending else raw
        try:
            return TaskOrder(TaskSort(name), descending)
        except ValueError:
            choices = ", ".join(s.value for s in TaskSort)
            raise ValueError(f"unknown task sort '{text}': use one of {choices}, with a leading '-' for "
                             "descending (e.g. -priority)") from None

    def __str__(self) -> str:
        return f"-{self.by.value}" if self.descending else self.by.value

    def value(self, row: UserTaskRow) -> int | None:
        found = getattr(row, self.by.column)
        return int(found) if found is not None else None

    def cursor(self, row: UserTaskRow | None, after: int) -> tuple[int | None, int]:
        """Where a page after task ``after`` starts: its (sort value, key); a task that is gone is taken as one
        without a value (in creation order, as its key)."""
        if row is not None:
            return self.value(row), after
        return (after if self.by == TaskSort.CREATED else None), after


def page_of(rows: Iterable[UserTaskRow], order: TaskOrder, cursor: tuple[int | None, int] | None,
            limit: int) -> list[UserTaskRow]:
    """The in-memory store's page: the rows (already filtered) in ``order`` after ``cursor``
    (``TaskOrder.cursor``)."""
    rows = list(rows)
    valued = [r for r in rows if order.value(r) is not None]
    unvalued = sorted((r for r in rows if order.value(r) is None), key=lambda r: r.key)
    valued.sort(key=lambda r: (order.value(r) or 0, r.key), reverse=order.descending)
    if cursor is not None:
        value, key = cursor
        if value is None:
            valued = []
            unvalued = [r for r in unvalued if r.key > key]
        else:
            valued = [r for r in valued if _beyond(order.value(r), r.key, value, key, order.descending)]
    return (valued + unvalued)[:limit]


def _beyond(value: int | None, key: int, cursor: int, cursor_key: int, descending: bool) -> bool:
    assert value is not None
    if value == cursor:
        return key < cursor_key if descending else key > cursor_key
    return value < cursor if descending else value > cursor
