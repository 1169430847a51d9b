"""The console's drafts: AI-drafted process changes to look at, and to approve or reject where one may.

``POST /discover/{processId}/draft`` (the form on a process's brief page, for
whom has ``deploy``) asks the model named there for a draft towards the goal
given, as ``agenthub draft`` does, and shows it. ``GET /discover/drafts``
lists them (newest first); ``GET /discover/drafts/{id}``
shows one: its goal and checks, the diagram of the drafted model with what
was added or changed marked (static/diagram.js, mode "diff"), the removed
elements and flows listed (they are not in the drafted diagram), and once
deployed the result against the version it was drawn from. The approve and
reject buttons appear only for whom ``discover.drafts`` allows (a member of
the owner group, not the requester; the requester may withdraw), and the
routes check it again. Reading needs ``read``; deciding, ``tasks`` (as REST).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from discover.draft_diff import marks
from discover.drafts import Drafts
from discover.exceptions import DiscoverError, DraftConflict, DraftRefused, UnknownDraft, UnknownProcess
from hub.drafting import draft_json, model_ask
from hub.web.discover_page import duration
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page, signed_in

__all__ = ["routes"]

_MESSAGES = {"approved": "Approved: the draft is deployed as a new version.", "rejected": "Rejected.",
             "proposed": "Drafted: it waits for a person of the process's owner group to approve it."}


def _drafts(request: Request) -> Drafts:
    return Drafts(hub_of(request).registry.store, hub_of(request).engine)


def _draft_id(request: Request) -> int:
    raw = request.path_params["draftId"]
    if not str(raw).isdigit():
        raise PageError(404, f"'{raw}' is not a draft id")
    return int(raw)


def _deciding(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except UnknownDraft as exc:
        raise PageError(404, str(exc)) from None
    except DraftRefused as exc:
        raise PageError(403, str(exc)) from None
    except DraftConflict as exc:
        raise PageError(409, str(exc)) from None
    except DiscoverError as exc:
        raise PageError(400, str(exc)) from None


@page
async def list_drafts(request: Request) -> Response:
    require_page(request, "read")
    found = await blocking(_drafts(request).all)
    return render(request, "drafts.html", {"drafts": [d.to_json() for d in found]})


def _show(request: Request, draft_id: int) -> dict[str, Any]:
    who = signed_in(request)
    drafts = _drafts(request)
    draft = _deciding(drafts.get, draft_id)
    found = draft_json(hub_of(request).engine, draft, full=True)
    groups = frozenset(who.groups)
    decide = who.has("tasks")
    state = {"mode": "diff", "flows": [], "elements": {
        element: {"change": change} for element, change in marks(draft.diff).items() if change != "removed"}}
    return {"draft": found, "owner": drafts.owner_of(draft), "duration": duration, "state": state,
            "may_approve": decide and drafts.may_decide(draft, who.name, groups, "approve"),
            "may_reject": decide and drafts.may_decide(draft, who.name, groups, "reject"),
            "message": _MESSAGES.get(request.query_params.get("message", ""))}


@page
async def show_draft(request: Request) -> Response:
    require_page(request, "read")
    return render(request, "draft.html", await blocking(_show, request, _draft_id(request)))


@page
async def draft_diagram(request: Request) -> Response:
    """The drafted model (laid out), for the diagram."""
    require_page(request, "read")
    draft = await blocking(_deciding, _drafts(request).get, _draft_id(request))
    return Response(draft.bpmn, media_type="application/xml")


@page
async def approve(request: Request) -> Response:
    who = require_page(request, "tasks")
    await form(request)
    draft_id = _draft_id(request)
    await blocking(_deciding, _drafts(request).approve, draft_id, who.name, frozenset(who.groups))
    return RedirectResponse(f"/discover/drafts/{draft_id}?message=approved", status_code=303)


@page
async def propose(request: Request) -> Response:
    who = require_page(request, "deploy")
    data = await form(request)
    process_id = request.path_params["processId"]
    goal, model = (str(data.get(name) or "").strip() for name in ("goal", "model"))
    if not goal or not model:
        raise PageError(400, "say what the change should achieve (goal) and which model drafts it")
    files = hub_of(request).settings.model_files
    ask = model_ask(model, Path(files) if files else None)
    try:
        draft = await blocking(_drafts(request).propose, process_id, goal, model, ask, by=who.name)
    except UnknownProcess as exc:
        raise PageError(404, str(exc)) from None
    except DiscoverError as exc:
        raise PageError(400, str(exc)) from None
    return RedirectResponse(f"/discover/drafts/{draft.id}?message=proposed", status_code=303)


@page
async def reject(request: Request) -> Response:
    who = require_page(request, "tasks")
    data = await form(request)
    draft_id = _draft_id(request)
    reason = str(data.get("reason") or "").strip() or None
    await blocking(_deciding, _drafts(request).reject, draft_id, who.name, frozenset(who.groups), reason)
    return RedirectResponse(f"/discover/drafts/{draft_id}?message=rejected", status_code=303)


routes: list[BaseRoute] = [  # before discover_page's: /discover/{processId} would take /discover/drafts
    Route("/discover/drafts", list_drafts, methods=["GET"]),
    Route("/discover/drafts/{draftId}", show_draft, methods=["GET"]),
    Route("/discover/drafts/{draftId}/diagram.bpmn", draft_diagram, methods=["GET"]),
    Route("/discover/drafts/{draftId}/approve", approve, methods=["POST"]),
    Route("/discover/drafts/{draftId}/reject", reject, methods=["POST"]),
    Route("/discover/{processId}/draft", propose, methods=["POST"]),
]
