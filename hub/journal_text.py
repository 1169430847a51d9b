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


def _approval(d: dict[str, Any]) -> str:
    if "approved" in d:
        verdict = "approved" if d["approved"] else f"rejected ({d.get('reason') or 'no reason'})"
        who = d.get("approver") or "unknown"
        return f"{d.get('callId')} {d.get('tool')}: {verdict} by {who} (task {d.get('task')})"
    groups = ", ".join(d.get("candidateGroups") or []) or "anyone"
    return f"{d.get('callId')} {d.get('tool')}: approval asked of {groups} (task {d.get('task')})"


_AGENT: dict[str, Callable[[dict[str, Any]], str]] = {
    "agent_started": lambda d: f"agent started · {d.get('model')} · tools: {', '.join(d.get('tools', []))}",
    "agent_model_called": _model_call,
    "agent_tool_call": _tool_call,
    "agent_tool_result": lambda d: f"{d.get('callId')} {d.get('tool')}: result back to the agent",
    "agent_approval_requested": _approval,
    "agent_approval_decided": _approval,
    "agent_finished": lambda d: f"agent finished · {d.get('modelCalls')} model calls · {d.get('toolCalls')} tool calls",
    "agent_limit_reached": lambda d: f"limit reached: {d.get('reason')}",
}


def journal_line(entry: dict[str, Any]) -> str:
    data = entry.get("data") or {}
    describe = _AGENT.get(entry["type"])
    text = describe(data) if describe is not None else (json.dumps(data, ensure_ascii=False) if data else "")
    return _clean(f"{entry['position']:>8}  {entry['type']:<26} {entry['elementId'] or '':<20} {text}")
