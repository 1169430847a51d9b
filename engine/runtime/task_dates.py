"""A user task's due and follow-up dates: the text a person sees, and the instant a list sorts by.

Camunda 8 (``zeebe:taskSchedule``) takes an ISO 8601 date-time, or FEEL that
gives one; anything else is an incident on the task, naming the element, the
field and the value. The text is kept as given (with its offset), the instant
is epoch milliseconds in UTC. An approval's due date (``agenthub:policy
dueDate``) may also be a duration from the moment the approval is asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.runtime.expressions import ExpressionFailure
from engine.scheduler.timers import TimerDefinitionError, parse_date, parse_duration, to_millis

__all__ = ["TaskDate", "due_moment", "task_date"]

TaskDate = tuple[str, int]  # (the text shown, its instant in epoch ms)


def task_date(value: Any, what: str) -> TaskDate | None:
    """``value`` as evaluated (None or empty: no date); ExpressionFailure (an incident) when it is no date-time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ExpressionFailure(f"expected {what} to be an ISO 8601 date-time, but it was {value!r}")
    try:
        return value, to_millis(parse_date(value))
    except TimerDefinitionError:
        raise ExpressionFailure(
            f"expected {what} to be an ISO 8601 date-time like 2026-01-31T09:00:00Z (or FEEL giving one), but it "
            f"was {value!r}"
        ) from None


def due_moment(value: Any, now: datetime, what: str) -> datetime:
    """A due date that may also be a duration from ``now`` (``PT4H``, ``P2D``); ExpressionFailure otherwise."""
    if isinstance(value, str) and value.strip().startswith("P"):
        try:
            moment = now + parse_duration(value.strip())
        except TimerDefinitionError:
            raise ExpressionFailure(f"expected {what} to be an ISO 8601 duration like PT4H, but it was "
                                    f"{value!r}") from None
        if moment <= now:
            raise ExpressionFailure(f"expected {what} to be a positive duration, but it was {value!r}")
        return moment
    found = task_date(value, what)
    if found is None:
        raise ExpressionFailure(f"expected {what} to be a date-time or a duration, but it was empty")
    return parse_date(found[0])
