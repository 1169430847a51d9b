"""``agenthub journal`` as text: one line per event, the agent's steps spelled out.

Model calls show the model, tokens, cost, latency and what the model asked
for; tool calls show the policy decision and why; approvals who decided.
Control characters in anything a model wrote are shown escaped, so model
output can never drive the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from engine import Actor

__all__ = ["journal_line"]

_SHOWN = {"", "\t"}


def _clean(text: str) -> str:
    return "".join(c if c.isprintable() or c in _SHOWN else repr(c)[1:-1] for c in text)


def _model_call(d: dict[str, Any]) -> str:
    answer = d.get("answer") or {}
    asked = "final answer" if answer.get("final") else "tool calls: " + ", ".join(
        str(c.get("name")) for c in answer.get("toolCalls", []))
    return (f"model call {d.get('call')} · {d.get('model')} · {d.get('inputTokens')}+{d.get('outputTokens')} tokens"
            f" · ${d.get('costUsd')} · {d.get('latencyMs')} ms → {asked}")


def _tool_call(d: dict[str, Any]) -> str:
    policies = f" [{', '.join(d['policies'])}]" if d.get("policies") else ""
    alert = " ALERT" if d.get("alert") else ""
    return f"{d.get('callId')} {d.get('tool')}: {d.get('decision')}{alert}{policies} — {d.get('reason')}"


def _approver(d: dict[str, Any]) -> str:
    """``fay via rest``: the approver's id, how the approval arrived, and whether an admin overrode its candidates."""
    given = d.get("by")
    by: dict[str, Any] = given if isinstance(given, dict) else {}
    notes = ", ".join(n for n in ("override" if by.get("override") else "",
                                  f"via {by['channel']}" if by.get("channel") else "") if n)
    return f"{d.get('approver') or 'unknown'}{f' ({notes})' if notes else ''}"


def _approval(d: dict[str, Any]) -> str:
    if "approved" in d:
        verdict = "approved" if d["approved"] else f"rejected ({d.get('reason') or 'no reason'})"
        return f"{d.get('callId')} {d.get('tool')}: {verdict} by {_approver(d)} (task {d.get('task')})"
    if "approvals" in d:  # one of several approvers a call needs
        return (f"{d.get('callId')} {d.get('tool')}: approval {d.get('approvals')} of {d.get('needed')} by "
                f"{_approver(d)} (task {d.get('task')})")
    offered = [*(d.get("candidateGroups") or []), *(f"user {u}" for u in d.get("candidateUsers") or [])]
    needed = f", {d['approvers']} approvers" if d.get("approvers") else ""
    return f"{d.get('callId')} {d.get('tool')}: approval asked of {', '.join(offered) or 'anyone'}{needed} " \
           f"(task {d.get('task')})"


_AGENT: dict[str, Callable[[dict[str, Any]], str]] = {
    "agent_started": lambda d: f"agent started · {d.get('model')} · tools: {', '.join(d.get('tools', []))}",
    "agent_model_called": _model_call,
    "agent_tool_call": _tool_call,
    "agent_tool_result": lambda d: f"{d.get('callId')} {d.get('tool')}: result back to the agent",
    "agent_approval_requested": _approval,
    "agent_approval_decided": _approval,
    "agent_approval_given": _approval,
    "agent_approval_due": lambda d: f"{d.get('callId')} {d.get('tool')}: " + (
        f"due {d.get('dueDate')}, then {d.get('onTimeout') or 'nothing'} (task {d.get('task')})" if "dueDate" in d
        else f"no due date: {d.get('error')}"),
    "agent_approval_expired": lambda d: f"{d.get('callId')} {d.get('tool')}: rejected, {d.get('reason')}",
    "agent_approval_escalated": lambda d: f"{d.get('callId')} {d.get('tool')}: escalated, not decided by "
                                          f"{d.get('dueDate')} (task {d.get('task')}, priority {d.get('priority')})",
    "agent_finished": lambda d: f"agent finished · {d.get('modelCalls')} model calls · {d.get('toolCalls')} tool calls",
    "agent_limit_reached": lambda d: f"limit reached: {d.get('reason')}",
}


def _by(data: dict[str, Any]) -> str:
    """`` — by alice via rest``: who made the command (``Actor.label``), when the entry records it."""
    by = data.get("by")
    return f" — by {Actor.from_json(by).label()}" if isinstance(by, dict) else ""


def journal_line(entry: dict[str, Any]) -> str:
    data = entry.get("data") or {}
    describe = _AGENT.get(entry["type"])
    if describe is not None:  # an agent's step says who (an approver) in its own words
        text = describe(data)
    else:
        rest = {k: v for k, v in data.items() if k != "by"}
        text = (json.dumps(rest, ensure_ascii=False) if rest else "") + _by(data)
    return _clean(f"{entry['position']:>8}  {entry['type']:<26} {entry['elementId'] or '':<20} {text}")
