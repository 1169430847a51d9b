"""Elicitation: a user task for the caller, asked of the calling client's user while the tool call runs.

When a process tool call finds its instance waiting on an open user task
whose assignee is the caller (``assignee="=caller"``, the ``caller``
variable every MCP call sets), and the client declared the ``elicitation``
capability on a connection that can carry a server request (a 2025-era
session; the 2026-07-28 protocol cannot), the hub sends
``elicitation/create``:

- ``message``: the task's documentation, else its name;
- ``requestedSchema``: the user task's ``<agenthub:schema>`` (a flat object
  of primitive properties, as MCP asks, with ``default``, ``enum``,
  ``oneOf`` titles and multi-select arrays passed through), else an empty
  object (a confirmation).

``accept`` completes the task with the answer's content as its variables,
as the caller (``Channel.MCP``), and the call follows the instance on;
``decline``, ``cancel``, a client error or the call's time budget running
out leave the task open, and the call answers as it does for any waiting
instance. A client without the capability never hears of the task: it waits
for a person as before.

On the 2026-07-28 protocol, which carries no server requests, the same
question travels in the result (multi-round-trip requests, SEP-2322): the
call answers ``InputRequiredResult`` with an ``elicitation/create`` input
request per open task of the caller (keyed by the user task's element id,
``question_keys``), beside the requests its steps posted (``sampling``:
model steps, ``roots``: roots tasks), and a ``requestState``; the client, once its
user has answered, calls the tool again with the answers and that state. The
second call starts nothing: it takes the answers as above (``accept``
completes a task, anything else leaves it open; every step's request must be
answered) and follows the same instance on, which may ask again (up to
``MAX_ROUNDS`` rounds in all). The state is the client's to hold and so
attacker-controlled (the specification says so): it names only the instance,
its tasks and the steps' requests, and all are checked again on its return
(the instance started by this caller, each task open, in that instance,
assigned to the caller, each request still waiting), so a forged or stale
state can do nothing the caller could not do anyway; one that fails the
check is ``-32602`` (invalid params).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
)

from engine import Channel, Engine, EngineError, InstanceView, NotFound, TaskView, strict_json
from protocols.actors import actor_of
from protocols.mcp._context import Context, in_thread
from protocols.mcp.client_input import Asker
from protocols.mcp.sampling import PendingRequest, SamplingCallers
from registry import Principal

log = logging.getLogger("agenthub.mcp")

MAX_ROUNDS = 10
"""Tasks one call may ask for, one after the other, before it answers as waiting."""


def can_elicit(ctx: Context) -> bool:
    """The client may be asked now, by a server request on its session (2025-era protocols)."""
    return _declared(ctx) and ctx.session.can_send_request


def can_elicit_in_result(ctx: Context) -> bool:
    """The client may be asked in the call's result (2026-07-28: ``InputRequiredResult``)."""
    return _declared(ctx) and not ctx.session.can_send_request


def _declared(ctx: Context) -> bool:
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None


def callers_tasks(tasks: list[TaskView], caller: str) -> list[TaskView]:
    """The open user tasks among ``tasks`` that are assigned to ``caller``: the questions for the caller."""
    return [t for t in tasks if t.assignee == caller]


async def callers_task(engine: Engine, principal: Principal, view: InstanceView) -> TaskView | None:
    """The first open user task of ``view`` assigned to the caller, if any."""
    tasks = await in_thread(lambda: engine.user_tasks(instance=view.key))
    return next(iter(callers_tasks(tasks, principal.name)), None)


async def take_answer(engine: Engine, principal: Principal, task: int, answer: object) -> bool:
    """Complete user task ``task`` with ``answer`` when it is an accepted elicitation, as the caller
    (``Channel.MCP``); False when it is none, or the engine refused it (the form, or someone completed the task
    meanwhile: logged)."""
    if not isinstance(answer, ElicitResult) or answer.action != "accept":
        return False
    values = dict(answer.content or {})
    try:
        await in_thread(lambda: engine.complete_user_task(task, values, by=actor_of(principal, Channel.MCP)))
    except EngineError as exc:
        log.info("the answer did not complete user task %s: %s", task, exc)
        return False
    return True


async def elicit_now(ctx: Context, message: str, schema: dict[str, Any], timeout_s: float) -> ElicitResult | None:
    """Ask the client's user with a server request (2025-era sessions); None when the client refused or did not
    answer within ``timeout_s``."""
    return await _elicit(ctx, message, timeout_s,
                         lambda: ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id))


async def _elicit(ctx: Context, message: str, timeout_s: float,
                  send: Callable[[], Awaitable[ElicitResult]]) -> ElicitResult | None:
    with anyio.move_on_after(max(0.0, timeout_s)):
        try:
            return await send()
        except MCPError as exc:
            log.info("the client refused the elicitation %r: %s", message[:100], exc)
    return None


def relay(ctx: Context, timeout_s: float) -> Asker:
    """An ``Asker`` (``client_input``) that puts an upstream's ``elicitation/create`` to this request's client as a
    server request of its own, for the gateway to pass an upstream's question on: a form as a form; a URL-mode
    request (the user is sent to a page of the upstream's) as one, when the client declared URL mode."""

    async def ask(params: dict[str, Any]) -> dict[str, Any] | None:
        message = str(params.get("message") or "")
        if params.get("mode") == "url":
            url, asked = params.get("url"), params.get("elicitationId")
            if not (isinstance(url, str) and _declared_url(ctx)):
                return None
            if not isinstance(asked, str):  # 2026-07-28 requests carry none; a 2025-era client needs one
                asked = f"agenthub-{uuid.uuid4()}"
            answer = await _elicit(ctx, message, timeout_s, lambda: ctx.session.elicit_url(
                message, url, asked, related_request_id=ctx.request_id))
        else:
            schema = params.get("requestedSchema")
            if not isinstance(schema, dict):
                return None
            answer = await elicit_now(ctx, message, schema, timeout_s)
        return None if answer is None else answer.model_dump(by_alias=True, mode="json", exclude_none=True)

    return ask


def _declared_url(ctx: Context) -> bool:
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and elicitation.url is not None


def question_keys(tasks: list[TaskView]) -> dict[str, TaskView]:
    """The caller's open ``tasks`` by the input request keys that ask them in a result: a task's element id, and
    ``<element>-<task key>`` for a further task of the same element (a multi-instance user task)."""
    keys: dict[str, TaskView] = {}
    for task in tasks:
        keys[task.element_id if task.element_id not in keys else f"{task.element_id}-{task.key}"] = task
    return keys


async def elicitation_of(engine: Engine, view: InstanceView, task: TaskView) -> ElicitRequest:
    """The ``elicitation/create`` request that asks the caller's open user ``task`` of ``view``."""
    message, schema = await in_thread(partial(question_of, engine, view, task.element_id, task.name))
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


async def input_required(engine: Engine, view: InstanceView, tasks: list[TaskView], posted: list[PendingRequest],
                         asked: int, tool: str) -> InputRequiredResult:
    """What ``view`` asks of its caller now as one ``InputRequiredResult``: the caller's open user ``tasks``
    (``elicitation/create``) and the steps' ``posted`` requests (``sampling/createMessage``, ``roots/list``), with the
    state to come back with (``asked``: questions this call of ``tool`` has asked so far)."""
    requests: dict[str, Any] = {}
    keys = question_keys(tasks)
    for key, task in keys.items():
        requests[key] = await elicitation_of(engine, view, task)
    for pending in posted:
        requests[pending.key] = pending.request
    state: dict[str, Any] = {"v": 2, "tool": tool, "instance": view.key, "asked": asked + 1,
                             "tasks": {key: task.key for key, task in keys.items()}}
    if posted:
        state["sample"] = ",".join(p.key for p in posted)
    return InputRequiredResult(input_requests=requests, request_state=json.dumps(state, separators=(",", ":")))


async def resume(engine: Engine, principal: Principal, params: CallToolRequestParams,
                 samples: SamplingCallers) -> tuple[InstanceView, int]:
    """A call that comes back with the answers to ``input_required``'s questions: each taken (an ``accept``
    completes its task, as the caller; the steps' answers go to the steps waiting for them, ``samples``), the
    instance as it is now and how many questions may still be asked (none after answers that completed nothing:
    the caller declined, and is not asked again in this call). Every step's request needs its answer; a user task
    may be declined. MCPError (invalid params) for a state that is not ours, given for another tool, or an instance
    or task it may not name, or a step's request that no longer waits."""
    tool, state = _state(params.request_state)
    if tool != params.name:  # another tool's call would answer with the wrong process's result under this name
        raise MCPError(INVALID_PARAMS, f"the requestState was given for a call of '{tool}', not '{params.name}': "
                                       "call this tool afresh")
    instance, asked = state.instance, state.asked
    try:
        view = await in_thread(lambda: engine.instance(instance))
        tasks = {key: await in_thread(partial(engine.user_task, task)) for key, task in state.tasks.items()}
    except NotFound:
        raise MCPError(INVALID_PARAMS, "the requestState names an instance or task this hub does not know") from None
    if view.started_by != principal.name or any(task.instance != instance for task in tasks.values()):
        raise MCPError(INVALID_PARAMS, "the requestState names an instance this caller did not start")
    responses = params.input_responses or {}
    if state.sample:
        _answer_steps(samples, instance, state.sample, responses)
    took = False
    for key, task in tasks.items():
        answer = responses.get(key or task.element_id)  # "": a state that named one task, asked by its element
        if task.state == "created" and task.assignee == principal.name and \
                await take_answer(engine, principal, task.key, answer):
            took = True
    if took or state.sample:
        return await in_thread(lambda: engine.instance(instance)), asked
    return view, MAX_ROUNDS


def _answer_steps(samples: SamplingCallers, instance: int, keys: list[str], responses: dict[str, Any]) -> None:
    """Hand each answer to the step waiting for it; every key needs its answer, of the kind asked, and each step
    must still be waiting for it."""
    asked = {p.key: p for p in samples.questions(instance)}
    stale = [key for key in keys if key not in asked]
    if stale:
        raise MCPError(INVALID_PARAMS, f"the request '{', '.join(stale)}' waits for no answer any more (answered "
                                       "already, timed out, or asked by another hub process): call the tool afresh")
    wrong = [key for key in keys if key not in responses or not asked[key].fits(responses[key])]
    if wrong:
        raise MCPError(INVALID_PARAMS, f"inputResponses holds no {asked[wrong[0]].request.method} result for "
                                       f"'{', '.join(wrong)}'")
    gone = [key for key in keys if not samples.answer(instance, key, responses[key])]
    if gone:  # answered meanwhile by another call with the same state
        raise MCPError(INVALID_PARAMS, f"the request '{', '.join(gone)}' waits for no answer any more: call the tool "
                                       "afresh")


@dataclass(frozen=True, slots=True)
class _State:
    instance: int
    asked: int
    tasks: dict[str, int]  # input request key -> user task key ("": the task's element id, a state of one task)
    sample: list[str]  # the steps' requests it answers, by key


def _state(raw: str | None) -> tuple[str, _State]:
    """The tool a ``requestState`` was given for, and what it says."""
    try:
        found = strict_json.loads(raw or "")
    except ValueError:
        found = None
    if not isinstance(found, dict) or found.get("v") != 2 or not isinstance(found.get("tool"), str) or \
            not all(_is_int(found.get(k)) for k in ("instance", "asked")) or \
            not isinstance(found.get("sample", ""), str) or not isinstance(tasks := found.get("tasks", {}), dict) or \
            not all(isinstance(k, str) and _is_int(v) for k, v in tasks.items()) or \
            not _is_int(task := found.get("task", 0)):
        raise MCPError(INVALID_PARAMS, "the requestState is not one this hub gave: call the tool afresh")
    if task:  # a state of the hub before this one: one task, asked under its element's id
        tasks = {**tasks, "": task}
    sample = [key for key in found.get("sample", "").split(",") if key]
    return found["tool"], _State(int(found["instance"]), int(found["asked"]), dict(tasks), sample)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def question_of(engine: Engine, view: InstanceView, element_id: str, name: str) -> tuple[str, dict[str, Any]]:
    node = engine.process(view.process_id, view.version).nodes.get(element_id)
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    if node is None:
        return name, schema
    element = next((e for e in node.extensions if e.name == "schema"), None)
    if element is not None:
        found = strict_json.loads(element.text or "{}")
        if isinstance(found, dict):
            schema = found
    return (node.documentation or name).strip(), schema


async def ask_caller(ctx: Context, engine: Engine, principal: Principal, view: InstanceView, budget: float) -> bool:
    """Ask the client for the caller's open task of ``view``; True when its answer completed the task."""
    task = await callers_task(engine, principal, view)
    if task is None:
        return False
    message, schema = await in_thread(lambda: question_of(engine, view, task.element_id, task.name))
    return await take_answer(engine, principal, task.key, await elicit_now(ctx, message, schema, budget))
