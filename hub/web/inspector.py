"""The agent inspector: one agent's run inside an instance, from the journal and the conversation store.

``/instances/{instanceKey}/agents/{elementInstanceKey}`` shows the run's
conversation as a chat; every model call with its model, tokens, cost and
latency (``agent_model_called``); every tool call with its arguments (from
the conversation), the policy decision and the policies that made it
(``agent_tool_call``) and its result; approvals with who gave them and when;
the budget used against the limits the run started with (``agent_started``);
and the run's timeline. Nothing here is computed that the journal did not
record: a number the journal lacks is shown as missing, never guessed.

Needs ``read``, like the instance's journal over REST.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine import Engine
from hub.web.render import PageError, blocking, hub_of, page, render, require_page
from hub.web.untrusted import clip, visible

__all__ = ["agent_journal", "agent_runs", "inspector_url", "routes"]

_JOURNAL_PAGE = 1000
_JOURNAL_PAGES = 20  # an instance's journal read for one run: at most this many pages
_MESSAGES = 500
_SHOWN = 2000  # characters of one message or value on the page
_TIMELINE = 1000  # entries of the timeline shown


def agent_runs(journal: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    """The agent runs an instance's journal entries record: (agent element id, element instance key), in order.

    For the instance page, to link each run to its inspector (``inspector_url``).
    """
    return [(str(e["elementId"]), int(e["elementInstance"])) for e in journal if e["type"] == "agent_started"]


def inspector_url(instance: int, element_instance: int) -> str:
    return f"/instances/{instance}/agents/{element_instance}"


def agent_journal(engine: Engine, instance: int, element: int) -> tuple[list[dict[str, Any]], bool]:
    """The run's entries (``agent_*`` recorded on the agent's element), and whether the journal was cut short."""
    mine: list[dict[str, Any]] = []
    after = 0
    for _ in range(_JOURNAL_PAGES):
        rows = engine.journal(instance, after=after, limit=_JOURNAL_PAGE)
        mine.extend(r for r in rows if r["elementInstance"] == element)
        if len(rows) < _JOURNAL_PAGE:
            return mine, False
        after = rows[-1]["position"]
    return mine, True


def _decimal(value: Any) -> Decimal | None:
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def _by(data: dict[str, Any]) -> str:
    by = data.get("by")
    who = data.get("approver") or (by.get("id") if isinstance(by, dict) else None) or "the engine"
    notes = []
    if isinstance(by, dict) and by.get("override"):
        notes.append("admin override")
    if isinstance(by, dict) and by.get("channel"):
        notes.append(f"via {by['channel']}")
    return visible(f"{who}{' (' + ', '.join(notes) + ')' if notes else ''}")


def _summary(entry: dict[str, Any]) -> str:
    d = entry.get("data") or {}
    kind = entry["type"]
    if kind == "agent_started":
        return f"started with {d.get('model')}; tools: {', '.join(map(str, d.get('tools') or []))}"
    if kind == "agent_model_called":
        answer = d.get("answer") or {}
        asked = "a final answer" if answer.get("final") else "tool calls: " + ", ".join(
            str(c.get("name")) for c in answer.get("toolCalls") or [])
        return f"model call {d.get('call')} answered with {asked}"
    if kind == "agent_tool_call":
        return f"{d.get('tool')} ({d.get('callId')}): {d.get('decision')} — {d.get('reason')}"
    if kind == "agent_tool_result":
        return f"{d.get('tool')} ({d.get('callId')}): result back to the agent"
    if kind == "agent_approval_requested":
        offered = [*(d.get("candidateGroups") or []), *(f"user {u}" for u in d.get("candidateUsers") or [])]
        return f"{d.get('tool')} ({d.get('callId')}): approval asked of {', '.join(offered) or 'anyone'}"
    if kind == "agent_approval_given":
        return f"{d.get('tool')}: approval {d.get('approvals')} of {d.get('needed')} by {_by(d)}"
    if kind == "agent_approval_decided":
        verdict = "approved" if d.get("approved") else f"rejected ({d.get('reason') or 'no reason'})"
        return f"{d.get('tool')} ({d.get('callId')}): {verdict} by {_by(d)}"
    if kind == "agent_finished":
        return f"finished after {d.get('modelCalls')} model calls and {d.get('toolCalls')} tool calls"
    if kind == "agent_limit_reached":
        return f"limit reached: {d.get('reason')}"
    return ", ".join(f"{k}={v}" for k, v in d.items() if k != "by")[:300]


def _run(engine: Engine, instance: int, element: int) -> dict[str, Any]:
    view = engine.instance(instance)
    entries, cut = agent_journal(engine, instance, element)
    started = next((e for e in entries if e["type"] == "agent_started"), None)
    if started is None:
        raise PageError(404, f"element instance {element} of instance {instance} is not an agent's run")
    conversation = engine.conversation(element, limit=_MESSAGES)
    arguments: dict[str, Any] = {}
    results: dict[str, Any] = {}
    chat = []
    for message in conversation:
        if not isinstance(message, dict):
            continue
        for call in message.get("toolCalls") or []:
            if isinstance(call, dict):
                arguments[str(call.get("id"))] = call.get("arguments")
        if message.get("role") == "tool":
            results[str(message.get("toolCallId"))] = message.get("content")
        chat.append({
            "role": str(message.get("role")), "content": clip(message.get("content") or "", _SHOWN),
            "calls": [{"name": visible(str(c.get("name"))), "arguments": clip(c.get("arguments"), _SHOWN)}
                      for c in message.get("toolCalls") or [] if isinstance(c, dict)],
            "final": clip(message["final"], _SHOWN) if "final" in message else None,
            "name": visible(str(message.get("name") or "")),
        })
    models, tools, approvals = [], [], []
    tokens, cost, latency = 0, Decimal(0), 0
    for entry in entries:
        d = entry.get("data") or {}
        if entry["type"] == "agent_model_called":
            tokens += int(d.get("inputTokens") or 0) + int(d.get("outputTokens") or 0)
            cost += _decimal(d.get("costUsd")) or Decimal(0)
            latency += int(d.get("latencyMs") or 0)
            models.append({"entry": entry, "data": d, "model": visible(str(d.get("model"))[:200]),
                           "summary": clip(_summary(entry), 500)})
        elif entry["type"] == "agent_tool_call":
            call = str(d.get("callId"))
            tools.append({"entry": entry, "data": d, "call": visible(call[:200]),
                          "reason": clip(str(d.get("reason") or ""), 1000),
                          "policies": [visible(str(p)) for p in d.get("policies") or []],
                          "arguments": clip(arguments.get(call), _SHOWN) if call in arguments else None,
                          "result": clip(results[call], _SHOWN) if call in results else None})
        elif entry["type"].startswith("agent_approval_"):
            approvals.append({"entry": entry, "data": d, "summary": clip(_summary(entry), 500)})
    limits = (started.get("data") or {}).get("limits") or {}
    ended = next((e for e in entries if e["type"] in ("agent_finished", "agent_limit_reached")), None)
    budget = [
        ("Model calls", len(models), limits.get("modelCalls")),
        ("Tool calls", sum(1 for e in entries if e["type"] == "agent_tool_result"), limits.get("toolCalls")),
        ("Tokens", tokens, limits.get("tokens")),
        ("Cost (USD)", cost, limits.get("cost")),
    ]
    return {
        "instance": view, "element": element, "started": started, "ended": ended,
        "element_id": started["elementId"], "model": visible(str((started.get("data") or {}).get("model"))),
        "tools_offered": [visible(str(t)) for t in (started.get("data") or {}).get("tools") or []],
        "chat": chat, "more_messages": len(conversation) >= _MESSAGES, "models": models, "tools": tools,
        "approvals": approvals, "budget": budget, "limits_known": bool(limits), "latency": latency,
        "deadline": limits.get("deadline"), "cut": cut,
        "timeline": [{"entry": e, "summary": clip(_summary(e), 500)} for e in entries[:_TIMELINE]],
        "timeline_cut": len(entries) > _TIMELINE,
    }


@page
async def inspector(request: Request) -> Response:
    require_page(request, "read")
    keys = []
    for name in ("instanceKey", "elementInstanceKey"):
        raw = request.path_params[name]
        if not raw.isdigit():
            raise PageError(404, f"'{raw}' is not a key")
        keys.append(int(raw))
    context = await blocking(_run, hub_of(request).engine, keys[0], keys[1])
    return render(request, "inspector.html", context)


routes: list[BaseRoute] = [
    Route("/instances/{instanceKey}/agents/{elementInstanceKey}", inspector, methods=["GET"]),
]
