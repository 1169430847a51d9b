"""Who may complete, claim and see a user task: one rule, used by REST, the CLI and MCP alike.

The rule: a task is completed by its assignee; while it has none, by a
principal among its candidate users or in one of its candidate groups; a task
with neither an assignee nor candidates by anyone with the ``tasks`` scope. An
admin may complete any task: when the rule alone would not let the admin, the
completion is an *override* and is recorded as ``"<admin> (override)"``.

Claiming is completing's shadow: a principal may assign a task to itself when
it could complete it; assigning it to someone else, or unassigning a task
assigned to someone else, needs admin. A principal sees (in a listing) the
tasks it could complete.

Lives in ``protocols`` (not ``hub``) because the MCP tools, one layer down,
apply it too; it knows only principals (``registry``) and task views
(``engine``), never how a request arrived. Approval tasks keep their own extra
rules where they are enforced (MCP refuses them); this rule only adds to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import TaskView
from registry import Principal

__all__ = ["Completion", "TaskRefused", "check_assign", "check_complete", "is_admin", "may_complete", "who_may"]


class TaskRefused(Exception):
    """The principal may not do this to the task; the message says who may."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A permitted completion: ``completed_by`` is what the engine records, ``override`` whether admin forced it."""

    completed_by: str
    override: bool


def is_admin(who: Principal) -> bool:
    return "admin" in who.scopes


def may_complete(who: Principal, task: TaskView) -> bool:
    """The rule without the admin override: what a listing shows a principal by default."""
    if task.assignee:
        return task.assignee == who.name
    if not task.candidate_users and not task.candidate_groups:
        return True
    return who.name in task.candidate_users or any(who.in_group(g) for g in task.candidate_groups)


def who_may(task: TaskView) -> str:
    """Who may complete the task, in words for a refusal."""
    if task.assignee:
        return f"only its assignee '{task.assignee}' (or an admin) may complete it"
    offered = [f"user '{u}'" for u in task.candidate_users] + [f"group '{g}'" for g in task.candidate_groups]
    return f"it is offered to {', '.join(offered)}: only they (or an admin) may complete or claim it"


def check_complete(who: Principal, task: TaskView) -> Completion:
    """The completion ``who`` may make, or ``TaskRefused`` saying who may.

    A task no longer open passes: the engine refuses it as a conflict, which is the reason the caller needs.
    """
    if task.state != "created":
        return Completion(who.name, override=False)
    if may_complete(who, task):
        return Completion(who.name, override=False)
    if is_admin(who):
        return Completion(f"{who.name} (override)", override=True)
    raise TaskRefused(f"'{who.name}' may not complete user task {task.key}: {who_may(task)}")


def check_assign(who: Principal, task: TaskView, assignee: str | None) -> None:
    """May ``who`` set the task's assignee to ``assignee`` (``None``: unassign)? ``TaskRefused`` if not."""
    if is_admin(who):
        return
    if assignee is None:
        if task.assignee in (None, who.name):
            return
        raise TaskRefused(f"'{who.name}' may not unassign user task {task.key}: it is assigned to "
                          f"'{task.assignee}'; only they or an admin may unassign it")
    if assignee != who.name:
        raise TaskRefused(f"'{who.name}' may not assign user task {task.key} to '{assignee}': a principal may "
                          "only claim a task for itself; assigning it to someone else needs an admin")
    if not may_complete(who, task):
        raise TaskRefused(f"'{who.name}' may not claim user task {task.key}: {who_may(task)}")
