"""A user task's changeable attributes, as Camunda 8's update names them, checked and turned into store columns.

An update (``Engine.update_user_task``, REST ``PATCH``) and a task listener's
corrections name them the same way: ``candidateGroups`` and ``candidateUsers``
(lists of names), ``dueDate`` and ``followUpDate`` (ISO 8601 date-times; null or
"" clears one) and ``priority`` (0 to 100). One rule for both, here.
"""

from __future__ import annotations

from typing import Any, Final

from engine.runtime.expressions import ExpressionFailure
from engine.runtime.task_dates import task_date

__all__ = ["CHANGEABLE", "task_fields"]

CHANGEABLE: Final = ("candidateGroups", "candidateUsers", "dueDate", "followUpDate", "priority")


def task_fields(changes: dict[str, Any], what: str) -> dict[str, Any]:
    """The store columns ``changes`` set (``messages.ReviseUserTask``); ExpressionFailure names a wrong value."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ExpressionFailure(f"{what} cannot change {', '.join(unknown)}: only {', '.join(CHANGEABLE)}")
    fields: dict[str, Any] = {}
    for name, column in (("candidateGroups", "candidate_groups"), ("candidateUsers", "candidate_users")):
        if name in changes:
            value = changes[name] if changes[name] is not None else []
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ExpressionFailure(f"expected the {name} of {what} to be a list of names, but it was {value!r}")
            fields[column] = value
    for name, column in (("dueDate", "due"), ("followUpDate", "follow_up")):
        if name in changes:
            date = task_date(changes[name], f"the {name} of {what}")
            fields[f"{column}_date"], fields[f"{column}_at"] = date if date is not None else (None, None)
    if "priority" in changes:
        priority = changes["priority"]
        if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 100:
            raise ExpressionFailure(f"expected the priority of {what} to be a whole number from 0 to 100, but it "
                                    f"was {priority!r}")
        fields["priority"] = priority
    return fields
