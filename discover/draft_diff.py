"""The structural difference of two versions of a process: elements added, removed and changed, flows added,
removed and changed.

Elements are matched by id (a model that renames an element's id has
removed one element and added another); an element changed when its kind,
name, parent, task type or documentation differ. Flows are matched by id
and ends, or by their ends alone when only one flow has them (a model that
keeps the path but renames the flow has not changed how the process runs);
a matched flow changed when its condition or name differs. ``marks`` is what the console draws: each
element id of the new version (and each removed one) with how it changed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from engine.model import FlowNode, JobDefinition, Process, SequenceFlow

__all__ = ["Change", "marks", "structural_diff"]


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


def _task_type(node: FlowNode) -> str | None:
    job = getattr(node, "job", None)  # job tasks, message events and ad-hoc subprocesses done by a worker
    return job.type.text if isinstance(job, JobDefinition) else None


def _node(node: FlowNode) -> dict[str, Any]:
    return {"id": node.id, "kind": str(node.kind), "name": node.name, "parent": node.parent,
            "taskType": _task_type(node), "documentation": node.documentation}


def _flow(flow: SequenceFlow) -> dict[str, Any]:
    return {"id": flow.id, "source": flow.source, "target": flow.target, "name": flow.name,
            "condition": flow.condition}


def _flows(old: Process, new: Process) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(removed, added, changed) flows: a flow is the same flow when its id and ends are, or else (renamed) when
    its ends are and no other flow has them."""
    before = {f.id: _flow(f) for f in old.flows.values()}
    after = {f.id: _flow(f) for f in new.flows.values()}
    pairs = [(before[i], after[i]) for i in sorted(before.keys() & after.keys())
             if (before[i]["source"], before[i]["target"]) == (after[i]["source"], after[i]["target"])]
    left = [f for i, f in sorted(before.items()) if i not in {a["id"] for a, _ in pairs}]
    right = [f for i, f in sorted(after.items()) if i not in {b["id"] for _, b in pairs}]
    for f in list(left):
        same = [g for g in right if (g["source"], g["target"]) == (f["source"], f["target"])]
        if len(same) == 1:
            pairs.append((f, same[0]))
            left.remove(f)
            right.remove(same[0])
    changed = []
    for a, b in pairs:
        was = {k: a[k] for k in ("name", "condition") if a[k] != b[k]}
        if was:
            changed.append({**b, "was": was})
    return left, right, sorted(changed, key=lambda f: str(f["id"]))


def structural_diff(old: Process, new: Process) -> dict[str, Any]:
    """``{"elements": {"added", "removed", "changed"}, "flows": {"added", "removed", "changed"}, "unchanged":
    bool}``; a changed entry carries ``was`` (the old values of the fields that differ)."""
    before = {n.id: _node(n) for n in old.nodes.values()}
    after = {n.id: _node(n) for n in new.nodes.values()}
    changed = []
    for node_id in sorted(before.keys() & after.keys()):
        was = {k: v for k, v in before[node_id].items() if after[node_id][k] != v}
        if was:
            changed.append({**after[node_id], "was": was})
    removed, added, changed_flows = _flows(old, new)
    elements = {"added": [after[i] for i in sorted(after.keys() - before.keys())],
                "removed": [before[i] for i in sorted(before.keys() - after.keys())], "changed": changed}
    flows = {"added": added, "removed": removed, "changed": changed_flows}
    unchanged = not any(elements.values()) and not any(flows.values())
    return {"elements": elements, "flows": flows, "unchanged": unchanged}


def marks(diff: dict[str, Any]) -> dict[str, str]:
    """Element and flow ids with how they changed (``added``, ``removed``, ``changed``), for a diagram's
    markers; a removed element's id is drawn on the old version."""
    found: dict[str, str] = {}
    for change in (Change.REMOVED, Change.ADDED, Change.CHANGED):  # an id in the new version marks what it is there
        for part in ("elements", "flows"):
            for entry in diff.get(part, {}).get(change, []):
                found[str(entry["id"])] = str(change)
    return found
