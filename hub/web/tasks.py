"""The console's task list and task page: claim, unclaim, complete with a form, approve or reject an agent's call.

Who may do what is ``protocols.task_access``, applied exactly as the REST
routes (``hub.api.tasks``) apply it, with ``Channel.CONSOLE`` in the journal:
an action the principal may not take is not offered, and is refused with a
403 page if tried. The list reads the engine's task pages (keyset, ``LIMIT``)
and keeps those of the chosen tab; like the REST listing it reads a bounded
number of pages per request and hands on a cursor when it stops early.

A task's form: the Camunda Form it links (``zeebe:formDefinition``: a
deployed ``.form`` by ``formId`` and binding, or one embedded by
``zeebe:userTaskForm``) is rendered in the browser by ``/static/forms.js``
(form-js), and the engine checks what it sends again (a refusal lists each
field); without one the page generates a form from the task's inputs (a field
per simple value and a JSON text area for anything else).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine import TASK_SORTS, Actor, Channel, Engine, TaskView
from hub.api.common import ApiError, parse_json
from hub.web.inspector import agent_journal
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page
from hub.web.untrusted import clip, visible
from protocols.actors import actor_of
from protocols.task_access import (
    Completion,
    TaskRefused,
    approval_refusal,
    check_assign,
    check_complete,
    is_admin,
    may_complete,
)
from registry import Principal

__all__ = ["routes"]

PAGE = 50
_SCAN_PAGES = 10
TABS = (("open", "Open to me"), ("mine", "Assigned to me"), ("groups", "My groups"), ("unassigned", "Unassigned"),
        ("all", "Every task"))
_MAX_FORM_CHARS = 200_000
SORTS = {"created": "Oldest first", "-created": "Newest first", "dueDate": "Due soonest",
         "-priority": "Highest priority", "followUpDate": "Follow up soonest"}
log = logging.getLogger("agenthub.tasks")


def _keep(tab: str, who: Principal) -> Callable[[TaskView], bool]:
    if tab == "mine":
        return lambda t: t.assignee == who.name
    if tab == "groups":
        return lambda t: any(who.in_group(g) for g in t.candidate_groups)
    if tab == "unassigned":
        return lambda t: t.assignee is None and may_complete(who, t)
    if tab == "all":
        return lambda _t: True
    return lambda t: may_complete(who, t)


def _listing(engine: Engine, keep: Callable[[TaskView], bool], after: int | None,
             sort: str | None = None) -> tuple[list[TaskView], int | None]:
    """Up to ``PAGE`` tasks that ``keep`` admits, and the cursor of the next page (None at the end)."""
    shown: list[TaskView] = []
    for _ in range(_SCAN_PAGES):
        views = engine.user_tasks(state="created", limit=PAGE, after=after, sort=sort)
        for index, view in enumerate(views):
            if not keep(view):
                continue
            shown.append(view)
            if len(shown) == PAGE:
                more = index < len(views) - 1 or len(views) == PAGE
                return shown, view.key if more else None
        if len(views) < PAGE:
            return shown, None
        after = views[-1].key
    return shown, after


@page
async def task_list(request: Request) -> Response:
    who = require_page(request, "tasks")
    tab = request.query_params.get("tab", "open")
    if tab not in dict(TABS):
        raise PageError(400, f"unknown tab '{tab}': use {', '.join(t for t, _ in TABS)}")
    if tab == "all" and not is_admin(who):
        raise PageError(403, "only an admin may list every task")
    raw_after = request.query_params.get("after")
    after = int(raw_after) if raw_after and raw_after.isdigit() else None
    sort = request.query_params.get("sort") or "created"
    if sort not in TASK_SORTS:
        raise PageError(400, f"unknown sort '{visible(sort)[:40]}': use one of {', '.join(TASK_SORTS)}")
    shown, next_after = await blocking(_listing, hub_of(request).engine, _keep(tab, who), after, sort)
    tabs = [(key, label) for key, label in TABS if key != "all" or is_admin(who)]
    rows = [{"task": t, "approval": t.details.get("kind") == "approval", "claim": _may_claim(who, t),
             "unclaim": _may_unclaim(who, t)} for t in shown]
    return render(request, "tasks.html", {"tab": tab, "tabs": tabs, "rows": rows, "next": next_after,
                                          "sort": sort, "sorts": SORTS,
                                          "done": _digits(request.query_params.get("done"))})


def _digits(raw: str | None) -> str | None:
    """A key from the URL to echo on the page: digits only, so a link cannot put words there."""
    return raw if raw and raw.isdigit() and len(raw) < 20 else None


def _may_claim(who: Principal, task: TaskView) -> bool:
    if task.assignee == who.name:
        return False
    try:
        check_assign(who, task, who.name)
    except TaskRefused:
        return False
    return approval_refusal(who, task) is None


def _may_unclaim(who: Principal, task: TaskView) -> bool:
    if task.assignee is None:
        return False
    try:
        check_assign(who, task, None)
    except TaskRefused:
        return False
    return True


def _may_complete(who: Principal, task: TaskView) -> bool:
    if task.state != "created":
        return False
    try:
        check_complete(who, task)
    except TaskRefused:
        return False
    return True


def _task_form(engine: Engine, task: TaskView) -> dict[str, Any] | None:
    """The form-js schema of the Camunda Form the task links (``engine.form_links``), else the form of an
    upstream MCP server's question (``_requested_form``), or None."""
    form = engine.user_task_form(task.key)
    if form is not None:
        return form.schema
    if task.details.get("kind") == "mcp-input":
        return _requested_form(task.details.get("requestedSchema"))
    return None


def _requested_form(schema: Any) -> dict[str, Any] | None:
    """A form-js schema for an MCP elicitation's ``requestedSchema`` (a flat object of primitive properties, as
    MCP asks): a text field, number or checkbox per property, a select for an enum (``oneOf`` titles too), a
    checklist for a multi-select array; None when it names no property (a confirmation: the generated form)."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        return None
    required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    components: list[dict[str, Any]] = []
    for name, spec in list(properties.items())[:50]:
        if not isinstance(spec, dict):
            continue
        component: dict[str, Any] = {"key": str(name), "label": str(spec.get("title") or name)[:200]}
        kind = spec.get("type")
        values = _choices(spec.get("items") if kind == "array" else spec)
        if kind == "array" and values:
            component.update(type="checklist", values=values)
        elif values:
            component.update(type="select", values=values)
        elif kind == "boolean":
            component["type"] = "checkbox"
        elif kind in ("number", "integer"):
            component.update(type="number", **({"decimalDigits": 0} if kind == "integer" else {}))
        else:
            component["type"] = "textfield"
        if isinstance(spec.get("description"), str):
            component["description"] = spec["description"][:500]
        if "default" in spec:
            component["defaultValue"] = spec["default"]
        if name in required:
            component["validate"] = {"required": True}
        components.append(component)
    return {"type": "default", "id": "mcp-elicitation", "components": components} if components else None


def _choices(spec: Any) -> list[dict[str, Any]]:
    """The values a property may take (``enum``, or ``oneOf`` with ``const`` and ``title``), labelled."""
    if not isinstance(spec, dict):
        return []
    if isinstance(spec.get("enum"), list):
        found = spec.get("enumNames")
        names: list[Any] = found if isinstance(found, list) else []
        return [{"value": v, "label": str(names[i] if i < len(names) else v)} for i, v in enumerate(spec["enum"])]
    options = spec.get("oneOf") or spec.get("anyOf")
    if isinstance(options, list):
        return [{"value": o["const"], "label": str(o.get("title") or o["const"])}
                for o in options if isinstance(o, dict) and "const" in o]
    return []


def _policies(engine: Engine, task: TaskView) -> list[str]:
    """The policies that held an approval's call (``agent_tool_call`` in the journal), as ``origin:line``."""
    owner, call = task.details.get("agentElementInstance"), task.details.get("callId")
    if not isinstance(owner, int):
        return []
    entries, _cut = agent_journal(engine, task.instance, owner)
    for entry in entries:
        data = entry.get("data") or {}
        if entry["type"] == "agent_tool_call" and data.get("callId") == call:
            return [visible(str(p)) for p in data.get("policies") or []]
    return []


def _form_keys(components: Any) -> set[str]:
    """The variable names a form's fields edit (``key``), nested groups included."""
    keys: set[str] = set()
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            if isinstance(component.get("key"), str):
                keys.add(component["key"])
            keys |= _form_keys(component.get("components"))
    return keys


def _draft(task: TaskView) -> dict[str, Any]:
    """The draft saved with an open task (``Engine.save_user_task_draft``)."""
    draft = task.details.get("draft") if task.state == "created" else None
    return dict(draft) if isinstance(draft, dict) else {}


def _form_data(engine: Engine, task: TaskView, schema: dict[str, Any]) -> dict[str, Any]:
    """What the form starts with, as Camunda's task list fills it: the instance's variables under the task's
    inputs and its saved draft, only those the form's fields edit, and none so large the page would carry
    megabytes for one field."""
    known = {**engine.instance(task.instance).variables, **task.inputs, **_draft(task)}
    data = {}
    for key in _form_keys(schema.get("components")) & set(known):
        if len(json.dumps(known[key], default=str)) <= _MAX_FORM_CHARS // 2:
            data[key] = known[key]
    return data


def _kind(value: Any) -> str | None:
    """The field a simple value is edited with: text, number or checkbox; None for anything else (JSON)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str) and len(value) <= 500 and value.isprintable():  # no newline, control or bidi
        return "text"
    return None


@page
async def task_page(request: Request) -> Response:
    who = require_page(request, "tasks")
    key = _key(request)
    engine = hub_of(request).engine
    task = await blocking(engine.user_task, key)
    approval = task.details.get("kind") == "approval"
    schema = None if approval else await blocking(_task_form, engine, task)
    form_data = await blocking(_form_data, engine, task, schema) if schema is not None else {}
    policies = await blocking(_policies, engine, task) if approval else []
    inputs = task.inputs
    draft = _draft(task) if not approval else {}
    fields = [{"name": n, "kind": _kind(v), "value": draft.get(n, v)} for n, v in inputs.items()
              if _kind(v) is not None and _kind(draft.get(n, v)) == _kind(v)]
    refusal = None
    if task.state == "created" and not _may_complete(who, task):
        try:
            check_complete(who, task)
        except TaskRefused as exc:
            refusal = str(exc)
    details = task.details
    context = {
        "task": task, "approval": approval, "schema": schema, "form_data": form_data, "fields": fields,
        "inputs": [(visible(n), clip(v)) for n, v in inputs.items()],
        "arguments": clip(details.get("arguments")) if approval else None,
        "reasoning": [clip(r) for r in details.get("reasoning") or []],
        "policy": visible(str(details.get("reason") or "")), "policies": policies,
        "approved_by": details.get("approvedBy") or [], "approvers": details.get("approvers"),
        "excluded": details.get("excludedApprovers") or [],
        "may_complete": _may_complete(who, task), "refusal": refusal,
        "saved": request.query_params.get("saved"), "draft_names": sorted(draft),
        "claim": _may_claim(who, task), "unclaim": _may_unclaim(who, task),
        "agent_link": (f"/instances/{task.instance}/agents/{details['agentElementInstance']}"
                       if isinstance(details.get("agentElementInstance"), int) else None),
    }
    return render(request, "task.html", context)


def _key(request: Request) -> int:
    raw = request.path_params["key"]
    if not raw.isdigit():
        raise PageError(404, f"'{raw}' is not a task id")
    return int(raw)


def _json(data: FormData, name: str) -> dict[str, Any]:
    raw = data.get(name)
    if not isinstance(raw, str) or not raw.strip():
        return {}
    if len(raw) > _MAX_FORM_CHARS:
        raise PageError(413, f"'{name}' is longer than {_MAX_FORM_CHARS} characters")
    try:
        value = parse_json(raw.encode())
    except ApiError as exc:
        raise PageError(400, f"'{name}' is not valid JSON: {exc.detail}") from None
    if not isinstance(value, dict):
        raise PageError(400, f"'{name}' must be a JSON object of variable names to values")
    return value


def _typed(data: FormData, inputs: dict[str, Any]) -> dict[str, Any]:
    """The generated form's fields whose value the person changed, typed like the input they edit."""
    out: dict[str, Any] = {}
    for name, old in inputs.items():
        kind = _kind(old)
        if kind is None or (kind != "boolean" and f"field.{name}" not in data):
            continue
        raw = data.get(f"field.{name}")
        new: Any
        if kind == "boolean":
            new = raw == "true"
        elif kind == "number":
            try:
                new = float(str(raw)) if "." in str(raw) or "e" in str(raw).lower() else int(str(raw))
            except ValueError:
                raise PageError(400, f"'{name}' must be a number, not '{visible(str(raw))[:80]}'") from None
        else:
            new = str(raw)
        if new != old:
            out[name] = new
    return out


def _as_completer(engine: Engine, who: Principal, key: int) -> tuple[Completion, Actor]:
    """``who`` acting on task ``key`` as whoever may complete it, through the console (403 otherwise)."""
    try:
        done = check_complete(who, engine.user_task(key))
    except TaskRefused as exc:
        raise PageError(403, str(exc)) from None
    return done, actor_of(who, Channel.CONSOLE, override=done.override)


def _complete(engine: Engine, who: Principal, key: int, values: dict[str, Any]) -> None:
    """What ``POST /api/v1/user-tasks/{key}/complete`` does, through the console's channel."""
    done, by = _as_completer(engine, who, key)
    engine.complete_user_task(key, values, by=by)
    if done.override:
        log.warning("user task %s completed by %s", key, done.completed_by)


async def _submitted(request: Request, engine: Engine, key: int) -> dict[str, Any]:
    """The variables a task's form sent: form-js's JSON, or the generated form's fields and JSON."""
    data = await form(request)
    task = await blocking(engine.user_task, key)
    if task.details.get("kind") == "approval":
        raise PageError(400, "an approval is decided with Approve or Reject, not with a form")
    generated = data.get("generated") == "1"
    if not generated and not str(data.get("variables") or "").strip():  # form-js fills it, "{}" at the least
        raise PageError(400, "the task's form sent nothing (did its script load?): reload the page and try again")
    typed = _typed(data, task.inputs) if generated else {}  # form-js sends only "variables"
    return {**typed, **_json(data, "variables")}


@page
async def complete(request: Request) -> Response:
    who = require_page(request, "tasks")
    key = _key(request)
    engine = hub_of(request).engine
    values = await _submitted(request, engine, key)
    await blocking(_complete, engine, who, key, values)
    return RedirectResponse(f"/tasks?done={key}", status_code=303)


def _save(engine: Engine, who: Principal, key: int, values: dict[str, Any]) -> None:
    """What ``PUT /api/v1/user-tasks/{key}/draft`` does, through the console's channel."""
    _, by = _as_completer(engine, who, key)
    engine.save_user_task_draft(key, values, by=by)


@page
async def save(request: Request) -> Response:
    """Save a draft: the form's values kept with the task, which stays open (a form that does not validate yet
    may be saved); the form starts from it next time."""
    who = require_page(request, "tasks")
    key = _key(request)
    engine = hub_of(request).engine
    values = await _submitted(request, engine, key)
    if not values:
        return RedirectResponse(f"/tasks/{key}?saved=nothing", status_code=303)
    await blocking(_save, engine, who, key, values)
    return RedirectResponse(f"/tasks/{key}?saved=yes", status_code=303)


@page
async def decide(request: Request) -> Response:
    who = require_page(request, "tasks")
    key = _key(request)
    data = await form(request)
    decision = data.get("decision")
    reason = data.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if decision not in ("approve", "reject"):
        raise PageError(400, "choose Approve or Reject")
    if decision == "reject" and not reason:
        raise PageError(400, "say why you reject the call: the agent is told the reason")
    engine = hub_of(request).engine
    if (await blocking(engine.user_task, key)).details.get("kind") != "approval":
        raise PageError(400, f"user task {key} is not an approval: complete it with its form")
    values: dict[str, Any] = {"approved": decision == "approve"}
    if reason:
        values["reason"] = reason[:2000]
    await blocking(_complete, engine, who, key, values)
    return RedirectResponse(f"/tasks?done={key}", status_code=303)


def _assign(engine: Engine, who: Principal, key: int, assignee: str | None) -> None:
    """What the REST assignment routes do: the one rule, and ``override`` when only admin allowed it."""
    task = engine.user_task(key)
    try:
        check_assign(who, task, assignee)
    except TaskRefused as exc:
        raise PageError(403, str(exc)) from None
    override = False
    if is_admin(who):
        try:
            check_assign(dataclasses.replace(who, scopes=who.scopes - {"admin"}), task, assignee)
        except TaskRefused:
            override = True
    engine.claim_user_task(key, assignee, by=actor_of(who, Channel.CONSOLE, override=override))


@page
async def claim(request: Request) -> Response:
    who = require_page(request, "tasks")
    key = _key(request)
    await form(request)
    await blocking(_assign, hub_of(request).engine, who, key, who.name)
    return RedirectResponse(f"/tasks/{key}", status_code=303)


@page
async def unclaim(request: Request) -> Response:
    who = require_page(request, "tasks")
    key = _key(request)
    await form(request)
    await blocking(_assign, hub_of(request).engine, who, key, None)
    return RedirectResponse(f"/tasks/{key}", status_code=303)


routes: list[BaseRoute] = [
    Route("/tasks", task_list, methods=["GET"]),
    Route("/tasks/{key}", task_page, methods=["GET"]),
    Route("/tasks/{key}/claim", claim, methods=["POST"]),
    Route("/tasks/{key}/unclaim", unclaim, methods=["POST"]),
    Route("/tasks/{key}/complete", complete, methods=["POST"]),
    Route("/tasks/{key}/save", save, methods=["POST"]),
    Route("/tasks/{key}/decide", decide, methods=["POST"]),
]
