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

An approval task (an agent's tool call a policy holds for approval) is
stricter, on every surface alike. Its candidates come from the policies
(``candidateGroups``, ``candidateUsers``), and on top of them:

- a machine client never approves unless every approving policy says
  ``allowMachines="true"``;
- four eyes: the principal that started the instance, and any principal that
  acted in the agent's run, may not approve its calls
  (``excludedApprovers``);
- a call that needs ``approvals="N"`` needs N distinct approvers: one who
  approved already may not decide it again.

An admin may still override the *candidates* of an approval (someone must be
able to decide when the whole group is away), and the override is recorded
in the journal as ``override: true``, but not the three rules above: they are
what separation of duties means, and an admin who started the instance is
exactly whom four eyes must stop; a rule an admin could lift silently would
protect nothing. The engine checks the identity rules again when the decision
arrives (``engine.agent.approvals``).

Lives in ``protocols`` (not ``hub``) because the MCP tools, one layer down,
apply it too; it knows only principals (``registry``) and task views
(``engine``), never how a request arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine import TaskView
from registry import Principal

__all__ = [
    "Completion", "TaskRefused", "approval_refusal", "check_assign", "check_complete", "is_admin", "is_approval",
    "may_complete", "who_may",
]


class TaskRefused(Exception):
    """The principal may not do this to the task; the message says who may."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A permitted completion: ``completed_by`` names it for people (``"<admin> (override)"``), ``override`` says
    whether an admin forced it (the surfaces pass it on in the journal's ``by``: ``protocols.actors.actor_of``)."""

    completed_by: str
    override: bool


def is_admin(who: Principal) -> bool:
    return "admin" in who.scopes


def is_approval(task: TaskView) -> bool:
    """Is the task an agent's tool call waiting for approval?"""
    return task.details.get("kind") == "approval"


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def approval_refusal(who: Principal, task: TaskView) -> str | None:
    """Why ``who`` may never approve ``task``, not even as an admin, or None: machines, four eyes, twice."""
    if not is_approval(task):
        return None
    if not who.person and task.details.get("allowMachines") is not True:
        return ("it is a machine client, and an agent's tool call is approved by a person (unless its policy says "
                'allowMachines="true")')
    if who.name in _strings(task.details.get("excludedApprovers")):
        return ("four eyes: it started this instance or acted in the agent's run, so another candidate must "
                "approve the call")
    if who.name in _strings(task.details.get("approvedBy")):
        needed = task.details.get("approvers")
        return f"it approved this call already; the call needs {needed} distinct approvers"
    return None


def may_complete(who: Principal, task: TaskView) -> bool:
    """The rule without the admin override: what a listing shows a principal by default.

    An approval whose candidate expressions failed to evaluate (``candidatesUnresolved``) has no candidates at
    all, rather than everyone: it fails closed, and only an admin's override (recorded) decides it.
    """
    if approval_refusal(who, task) is not None:
        return False
    if is_approval(task) and task.details.get("candidatesUnresolved"):
        return False
    if task.assignee:
        return task.assignee == who.name
    if not task.candidate_users and not task.candidate_groups:
        return True
    return who.name in task.candidate_users or any(who.in_group(g) for g in task.candidate_groups)


def who_may(task: TaskView) -> str:
    """Who may complete the task, in words for a refusal."""
    if task.assignee:
        return f"only its assignee '{task.assignee}' (or an admin) may complete it"
    unresolved = task.details.get("candidatesUnresolved") if is_approval(task) else None
    if unresolved:
        return (f"who may approve it could not be worked out ({'; '.join(map(str, unresolved))}), so no one is "
                "offered it: an admin decides it, recorded as an override")
    offered = [f"user '{u}'" for u in task.candidate_users] + [f"group '{g}'" for g in task.candidate_groups]
    return f"it is offered to {', '.join(offered)}: only they (or an admin) may complete or claim it"


def check_complete(who: Principal, task: TaskView) -> Completion:
    """The completion ``who`` may make, or ``TaskRefused`` saying who may.

    A task no longer open passes: the engine refuses it as a conflict, which is the reason the caller needs.
    """
    if task.state != "created":
        return Completion(who.name, override=False)
    refused = approval_refusal(who, task)
    if refused is not None:  # an admin overrides candidates, never these (see the module)
        raise TaskRefused(f"'{who.name}' may not approve user task {task.key}: {refused}")
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
