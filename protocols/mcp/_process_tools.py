"""Exposed processes as MCP tools: list them, and run one per call.

A call checks the arguments against the process's input schema (nothing
starts when they are wrong), starts an instance with the arguments as its
variables plus ``caller`` (the principal's name, overriding any argument of
that name: information for the process; whose task it is, the engine keeps
as the instance's ``started_by``), and follows it for the call's time budget
while sending progress.
What comes back depends on where the instance stands when the budget ends:

- completed: its variables as ``structuredContent`` (only the declared
  outputs where ``<agenthub:output>`` declares them, matching the tool's
  ``outputSchema``); a list of MCP content blocks in the variable
  ``mcpContent`` (``CONTENT_VARIABLE``: text, image, audio, embedded
  resource, as the MCP schema writes them) is the result's content, ahead of
  the JSON text, so a process can answer with words, pictures or documents;
  ``mcpIsError`` (``IS_ERROR_VARIABLE``) set to ``true`` makes it a tool
  error (``isError``), the process's own "this could not be done";
- waiting (a person, a timer, a message, a worker): a non-error result with
  the instance id, its state and ``waitingFor``, so the client can check later;
- incident or terminated: ``isError: true`` with the instance's outcome.

Every result carries ``_meta["agenthub/instance"]`` and ``_meta["agenthub/state"]``.
While the call follows the instance, its journal goes to the client as
progress and log messages (``_logging``), and a user task for the caller
becomes an elicitation when the client can answer one (``_elicitation``),
and an agent of the instance whose model is ``mcp:sampling`` asks the
client's own model (``sampling``).

A process with Camunda's MCP start event is listed under the tool name its
template gives (``engine.exposure``) and a call starts it at that start event.
Camunda's Processes MCP Server answers such a call with the instance key
alone; here it is followed and answered as any process tool, above.
"""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.inbound import x_mcp_header_map
from mcp_types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    CallToolRequestParams,
    CallToolResult,
    ContentBlock,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    Tool,
    ToolAnnotations,
    ToolExecution,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import TypeAdapter, ValidationError

from engine import Channel, Engine, InstanceView, InvalidInput, NotFound, TaskView, strict_json
from engine.arguments import ArgumentError, check_arguments
from engine.exposure import ToolSpec
from protocols.actors import actor_of
from protocols.instances import follow, outcome
from protocols.mcp._context import Context, in_thread, require, tool_error, tool_result
from protocols.mcp._elicitation import (
    MAX_ROUNDS,
    ask_caller,
    callers_tasks,
    can_elicit,
    can_elicit_in_result,
    input_required,
    question_keys,
    resume,
    take_answer,
)
from protocols.mcp._logging import JournalFeed, LogLevels
from protocols.mcp.sampling import CALLERS, PendingCaller, SamplingCaller, SamplingCallers, caller_of
from registry import Principal

BUILTIN_PREFIX = "agenthub_"
"""Names of the hub's own tools start with this; a process whose id does is not offered as a tool."""

WAIT_META_KEY = "agenthub/waitSeconds"
"""``_meta`` key with which a caller shortens the call's time budget (0 returns right after the start)."""

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
"""The MCP Tasks extension of 2026-07-28 (SEP-2663), as clients declare it in a request's capabilities."""

ROOTS_KEY = "client_roots"
"""The input request key under which a tool that needs the client's roots asks for them (2026-07-28)."""

SETTLE_S = 0.5
"""Once a step asks a call's client in its result, the call waits this long at most for the instance's other open
jobs to ask too, so that questions arising together are asked together."""

TASK_AFTER_S = 0.5
"""A call from a client that declared ``TASKS_EXTENSION`` follows its instance this long at most: an instance that
ends meanwhile answers at once, one that still runs or waits answers with a task (``TaskCreated``)."""

CONTENT_VARIABLE = "mcpContent"
"""A completed instance's variable holding MCP content blocks for the result (not part of its structured data)."""

IS_ERROR_VARIABLE = "mcpIsError"
"""A completed instance's variable that, when ``true``, makes the result a tool error (``isError``): the process ran
and reports that what it was asked could not be done (not part of its structured data)."""

_BLOCKS: TypeAdapter[list[ContentBlock]] = TypeAdapter(list[ContentBlock])
_TOOL_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")  # SEP-986: what clients accept as a tool name


@dataclass(frozen=True, slots=True)
class TaskCreated:
    """A call that answers with a task (MCP Tasks, 2026-07-28): the instance, as the call left it."""

    view: InstanceView


def needs_tasks_extension(what: str) -> MCPError:
    """``-32021``: the client must declare the Tasks extension on this request (SEP-2575, SEP-2663)."""
    return MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY,
                    f"{what} needs the client to declare the {TASKS_EXTENSION} extension in this request's "
                    "capabilities", {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})


def offered(spec: ToolSpec) -> bool:
    return bool(_TOOL_NAME.match(spec.name)) and not spec.name.startswith(BUILTIN_PREFIX)


def _by_name(specs: list[ToolSpec]) -> dict[str, ToolSpec]:
    """The offered tools by name; where two processes claim one name (a Camunda tool name that is another
    process's id), the one the engine lists first (deployed first) keeps it."""
    found: dict[str, ToolSpec] = {}
    for spec in specs:
        if offered(spec):
            found.setdefault(spec.name, spec)
    return found


def as_tool(spec: ToolSpec) -> Tool:
    return Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema(),
        output_schema=spec.output_schema(),
        annotations=ToolAnnotations.model_validate(dict(spec.hints)) if spec.hints else None,
        execution=ToolExecution(task_support=spec.task_support),  # type: ignore[arg-type]  # checked at deployment
    )


class ProcessTools:
    """Starting exposed processes for tool calls, and turning instances into tool results."""

    def __init__(self, engine: Engine, call_timeout_s: float, log_levels: LogLevels | None = None,
                 sampling: SamplingCallers = CALLERS) -> None:
        self.engine = engine
        self.call_timeout_s = call_timeout_s
        self.log_levels = log_levels or LogLevels()
        self.sampling = sampling
        # The input schemas of the tools with x-mcp-header annotations, by name, as last read from the engine
        # (each listing and each call reads the tools): the SDK checks a call's Mcp-Param headers against them
        # before the call is dispatched (``header_schema``), which must not wait for the database.
        self._header_schemas: dict[str, dict[str, Any]] = {}

    def read_tools(self) -> dict[str, ToolSpec]:
        """The offered tools by name, read from the engine now (blocking); the header schemas noted."""
        found = _by_name(self.engine.tools())
        self._header_schemas = {name: schema for name, spec in found.items()
                                if x_mcp_header_map(schema := spec.input_schema())}
        return found

    def header_schema(self, name: str) -> dict[str, Any] | None:
        """The tool's input schema when it has x-mcp-header annotations (as last read), else None."""
        return self._header_schemas.get(name)

    async def tools(self) -> list[Tool]:
        """Read from the engine on every listing, so a new deployment shows without a restart."""
        return [as_tool(spec) for spec in (await in_thread(self.read_tools)).values()]

    async def spec(self, name: str) -> ToolSpec:
        """The offered tool of that name, read now; -32602 when there is none."""
        found = (await in_thread(self.read_tools)).get(name)
        if found is None:
            raise MCPError(INVALID_PARAMS, f"unknown tool '{name}': list the tools to see what this hub offers")
        return found

    async def start(
        self, principal: Principal, name: str, arguments: Mapping[str, Any] | None, spec: ToolSpec | None = None,
        answers: Mapping[str, Any] | None = None,
    ) -> InstanceView | CallToolResult:
        """The started instance, or the tool error that says why nothing started; ``answers``: the start form's,
        added to the checked arguments."""
        require(principal, "start", "calling a process tool")
        spec = spec or await self.spec(name)
        try:
            variables = check_arguments(spec.input_schema(), arguments)
        except ArgumentError as exc:
            return tool_error("invalidArguments", f"invalid arguments for '{name}': {exc}", problems=exc.problems)
        variables.update(answers or {})
        variables["caller"] = principal.name
        try:
            by = actor_of(principal, Channel.MCP)
            return await in_thread(lambda: self.engine.start(spec.process_id, variables, owner=principal.name, by=by,
                                                             start_element=spec.start_element))
        except InvalidInput as exc:
            return tool_error("invalidArguments", f"invalid arguments for '{name}': {exc}")
        except NotFound as exc:  # undeployed between the lookup and the start
            raise MCPError(INVALID_PARAMS, str(exc)) from None

    async def call(
        self, ctx: Context, principal: Principal, name: str, arguments: Mapping[str, Any] | None,
        params: CallToolRequestParams | None = None, *, tasks: bool = False,
    ) -> CallToolResult | InputRequiredResult | TaskCreated:
        """Start the process and follow it for the call's budget; ``params`` carrying a ``requestState`` is the
        same call coming back with its client's answer (2026-07-28, ``_elicitation``): nothing new starts.
        ``tasks``: the request declared the Tasks extension (2026-07-28), so a tool that does not forbid tasks
        follows its instance for ``TASK_AFTER_S`` at most and answers with a task unless it ended by then."""
        require(principal, "start", "calling a process tool")
        spec = await self.spec(name)
        missing = [c for c in spec.client_capabilities if not _offers(ctx, c)]
        if missing:
            raise MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY,
                           f"the tool '{name}' needs a client that offers {' and '.join(missing)}: declare it in "
                           "the client's capabilities", {"requiredCapabilities": {c: {} for c in missing}})
        if spec.task_support == "required" and not tasks:
            if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
                raise needs_tasks_extension(f"the tool '{name}' runs only as a task, so calling it")
            raise MCPError(METHOD_NOT_FOUND, f"the tool '{name}' runs only as a task: call it with 'task'")
        with self.sampling.opening() as pending:  # the instance's mcp:sampling model steps ask this call's client
            return await self._call(ctx, principal, spec, arguments, pending, params,
                                    tasks and spec.task_support != "forbidden")

    async def _call(
        self, ctx: Context, principal: Principal, spec: ToolSpec, arguments: Mapping[str, Any] | None,
        pending: PendingCaller, params: CallToolRequestParams | None, as_task: bool,
    ) -> CallToolResult | InputRequiredResult | TaskCreated:
        began = time.monotonic()
        rounds = 0
        name = spec.name
        if params is not None and params.request_state is not None and not _start_state(params):
            started, rounds = await resume(self.engine, principal, params, self.sampling)
        else:
            answers = await self._before_start(ctx, spec, params)
            if not isinstance(answers, dict):  # asked in the result, or declined: nothing started
                return answers
            fresh = await self.start(principal, name, arguments, spec, answers)
            if isinstance(fresh, CallToolResult):
                return fresh
            started = fresh
        caller = caller_of(ctx, began + self.budget(ctx))
        pending.bind(started.key, caller)
        budget = self.budget(ctx) - (time.monotonic() - began)
        feed = JournalFeed(ctx, self.engine, started.key, self.log_levels.allowed(ctx))

        async def progress(view: InstanceView) -> None:
            await feed.flush()
            feed.step += 1
            await ctx.session.report_progress(feed.step, None, _progress_message(view))

        await ctx.session.report_progress(feed.step, None, _progress_message(started))
        await feed.flush()
        if as_task:
            budget = min(budget, TASK_AFTER_S)
        deadline = time.monotonic() + budget
        view = await self._follow(caller, started, budget, progress)
        if as_task:
            await feed.flush()
            if view is not None and view.state != "active":
                return await self.result(view)  # ended within the inline wait: answered at once
            pending.park()  # its model steps' sampling requests wait for the task's client (tasks/get)
            return TaskCreated(view or started)
        if view is None:  # a step asks the caller's client (its model, its roots), in this call's result (2026-07-28)
            await self._settle(started.key, deadline)
            await feed.flush()
            pending.park()  # steps that ask before the client calls again post for that call
            view = await in_thread(lambda: self.engine.instance(started.key))
            return await self._questions(ctx, principal, view, rounds, name)
        while view.state == "active" and rounds < MAX_ROUNDS and deadline > time.monotonic() and can_elicit(ctx):
            rounds += 1
            if not await ask_caller(ctx, self.engine, principal, view, deadline - time.monotonic()):
                break
            view = await follow(self.engine, view.key, deadline - time.monotonic(), on_change=progress,
                                until_outside=True)
        await feed.flush()
        # a first call may bring answers already (inputResponses without a requestState): each answers the question
        # asked under its key, once
        given = dict(params.input_responses or {}) if params is not None and params.request_state is None else {}
        while view.state == "active" and rounds < MAX_ROUNDS and can_elicit_in_result(ctx):
            tasks = await self._callers_tasks(principal, view)
            if not tasks:
                break
            took = False
            for key, task in question_keys(tasks).items():
                took = await take_answer(self.engine, principal, task.key, given.pop(key, None)) or took
            if not took:
                pending.park()  # asked in the result; the client calls again with the answer
                return await self._questions(ctx, principal, view, rounds, name)
            rounds += 1
            view = await follow(self.engine, view.key, deadline - time.monotonic(), on_change=progress,
                                until_outside=True)
        return await self.result(view)

    async def _before_start(self, ctx: Context, spec: ToolSpec, params: CallToolRequestParams | None
                          ) -> dict[str, Any] | InputRequiredResult | CallToolResult:
        """What the client gives before an instance starts: the start form's answer and, for a tool that needs the
        client's roots (``clientCapabilities="roots"``), its roots as ``clientRoots``; asked now (2025-era
        sessions) or in this call's result (2026-07-28), or taken from the call that comes back with them. A tool
        error when the caller's user declined or answered what the form does not take; -32021 when the client
        cannot be asked (``call`` checked the capabilities the tool names)."""
        form = spec.start_form
        roots = "roots" in spec.client_capabilities
        if form is None and not roots:
            return {}
        key = f"start-{form.element_id}" if form is not None else None
        schema = form.json_schema() if form is not None else {}
        answer: Any = None
        listed: Any = None
        if params is not None and _start_state(params):
            responses = params.input_responses or {}
            answer, listed = (responses.get(key) if key else None), responses.get(ROOTS_KEY)
        elif ctx.session.can_send_request and (form is None or can_elicit(ctx)):
            try:
                with anyio.fail_after(self.budget(ctx)):
                    if roots:
                        with warnings.catch_warnings():  # roots are deprecated from 2026-07-28 on, current before
                            warnings.simplefilter("ignore", MCPDeprecationWarning)
                            listed = await ctx.session.list_roots()
                    if form is not None:
                        answer = await ctx.session.elicit_form(form.message, schema, related_request_id=ctx.request_id)
            except (MCPError, TimeoutError) as exc:
                return tool_error("declined", f"the client did not give what '{spec.name}' asks before it starts "
                                              f"({exc or 'no answer in time'}): nothing started")
        elif not ctx.session.can_send_request and (form is None or can_elicit_in_result(ctx)):
            asked: dict[str, Any] = {}
            if form is not None and key is not None:
                asked[key] = ElicitRequest(params=ElicitRequestFormParams(message=form.message,
                                                                          requested_schema=schema))
            if roots:
                asked[ROOTS_KEY] = ListRootsRequest()
            state = json.dumps({"v": 2, "tool": spec.name, "start": key or ROOTS_KEY}, separators=(",", ":"))
            return InputRequiredResult(input_requests=asked, request_state=state)
        else:
            raise MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY,
                           f"the tool '{spec.name}' first asks its caller's user a start form: it needs a client "
                           "that offers elicitation", {"requiredCapabilities": {"elicitation": {}}})
        given: dict[str, Any] = {}
        if roots:
            if not isinstance(listed, ListRootsResult):
                return tool_error("declined", f"'{spec.name}' needs the client's roots, and the call brought none "
                                              f"under '{ROOTS_KEY}': nothing started")
            given["clientRoots"] = [root.model_dump(mode="json", exclude_none=True) for root in listed.roots]
        if form is None:
            return given
        if not isinstance(answer, ElicitResult) or answer.action != "accept":
            return tool_error("declined", f"the start form of '{spec.name}' was not answered: nothing started")
        try:
            return {**check_arguments(schema, answer.content or {}), **given}
        except ArgumentError as exc:
            return tool_error("invalidArguments", f"the start form's answer for '{spec.name}' does not fit: {exc}",
                              problems=exc.problems)

    async def _follow(self, caller: SamplingCaller, started: InstanceView, budget: float,
                      progress: Callable[[InstanceView], Awaitable[None]]) -> InstanceView | None:
        """The instance once it waits outside or the budget is spent; None as soon as one of its model steps posts
        a sampling request for this call's result (a caller asked in results: ``caller.asked``)."""
        if caller.asked is not None and self.sampling.questions(started.key):
            return None  # posted while no call of this client was open (between its calls): ask at once
        view = await follow(self.engine, started.key, budget, on_change=progress, first=started, until_outside=True,
                            stop=caller.asked)
        return None if caller.asked is not None and self.sampling.questions(started.key) else view

    async def _settle(self, instance: int, deadline: float) -> None:
        """Once a step of ``instance`` has asked the caller's client, wait (``SETTLE_S`` at most) until each of its open
        jobs has asked too, so that questions arising together (parallel branches: a model step, a roots task) go
        in one result rather than one call each."""
        until = min(deadline, time.monotonic() + SETTLE_S)
        while time.monotonic() < until:
            jobs = await in_thread(lambda: self.engine.jobs(instance))
            if len(self.sampling.questions(instance)) >= len(jobs):
                return
            await anyio.sleep(0.02)

    async def _callers_tasks(self, principal: Principal, view: InstanceView) -> list[TaskView]:
        return callers_tasks(await in_thread(lambda: self.engine.user_tasks(instance=view.key)), principal.name)

    async def _questions(self, ctx: Context, principal: Principal, view: InstanceView, rounds: int,
                         tool: str) -> InputRequiredResult:
        """Everything the instance asks of its caller now, in one result: its steps' requests and, for a client
        that offers elicitation, the caller's open user tasks."""
        tasks = await self._callers_tasks(principal, view) if can_elicit_in_result(ctx) else []
        return await input_required(self.engine, view, tasks, self.sampling.questions(view.key), rounds, tool)

    def budget(self, ctx: Context) -> float:
        """``call_timeout_s``, or less when the caller asks for less in ``_meta``; never more."""
        asked = (ctx.meta or {}).get(WAIT_META_KEY)
        if isinstance(asked, int | float) and not isinstance(asked, bool) and math.isfinite(asked):
            return max(0.0, min(float(asked), self.call_timeout_s))
        return self.call_timeout_s

    async def result(self, view: InstanceView) -> CallToolResult:
        """The tool result for an instance as it stands now."""
        meta = {"agenthub/instance": view.key, "agenthub/state": view.state}
        if view.state == "completed":
            return await self._completed(view, meta)
        data = await in_thread(lambda: outcome(self.engine, view))
        if view.state == "incident":
            messages = [w["message"] for w in data.get("waitingFor", []) if w["kind"] == "incident"]
            note = f"instance {view.key} stopped with an incident: " + ("; ".join(messages) or "see the instance")
            return tool_result(data, note=note, error=True, meta=meta)
        if view.state == "terminated":
            note = f"instance {view.key} was terminated before it completed"
            return tool_result(data, note=note, error=True, meta=meta)
        note = (
            f"instance {view.key} is running and waits for: {_waits(data.get('waitingFor', []))}. "
            f'Check on it later with agenthub_get_instance {{"instance": {view.key}}}.'
        )
        return tool_result(data, note=note, meta=meta)


    async def _completed(self, view: InstanceView, meta: dict[str, Any]) -> CallToolResult:
        data = dict(view.variables)
        failed = data.pop(IS_ERROR_VARIABLE, False) is True
        blocks: list[ContentBlock] = []
        note = None
        if CONTENT_VARIABLE in data:
            try:
                blocks = _BLOCKS.validate_python(data[CONTENT_VARIABLE])
                del data[CONTENT_VARIABLE]
            except ValidationError as exc:
                note = f"the variable {CONTENT_VARIABLE} is not a list of MCP content blocks ({exc.error_count()} " \
                       "problems), so it stays in the structured result"
        try:
            outputs = (await in_thread(lambda: self.engine.tool(view.process_id))).outputs
        except NotFound:  # not exposed (any longer): all its variables
            outputs = ()
        if outputs:
            data = {item.name: data[item.name] for item in outputs if item.name in data}
        result = tool_result(data, note=note, meta=meta, error=failed)
        result.content[:0] = blocks  # the process's own answer first, then its data as JSON text
        return result


def _start_state(params: CallToolRequestParams) -> bool:
    """The call comes back with its start form's answer: its ``requestState`` is one the start form gave (for
    this tool; another tool's is -32602)."""
    try:
        found = strict_json.loads(params.request_state or "")
    except ValueError:
        return False
    if not isinstance(found, dict) or found.get("v") != 2 or "start" not in found:
        return False
    if found.get("tool") != params.name:
        raise MCPError(INVALID_PARAMS, f"the requestState was given for a call of '{found.get('tool')}', not "
                                       f"'{params.name}': call this tool afresh")
    return True


def _offers(ctx: Context, capability: str) -> bool:
    """The client declared ``capability`` (``sampling``, ``elicitation`` or ``roots``), on this request or its
    session."""
    declared = ctx.session.client_capabilities
    return declared is not None and getattr(declared, capability, None) is not None


def _progress_message(view: InstanceView) -> str:
    at = sorted({e["elementId"] for e in view.active_elements})
    return f"instance {view.key} {view.state}" + (f" at {', '.join(at)}" if at else "")


def _waits(items: list[dict[str, Any]]) -> str:
    if not items:
        return "its next step"
    described = []
    for item in items[:5]:
        if item["kind"] == "userTask":
            described.append(f"user task '{item.get('name') or item['element']}' (task {item['task']})")
        elif item["kind"] == "timer":
            described.append(f"a timer due {item['dueAt']}")
        elif item["kind"] == "job":
            described.append(f"a worker for job type '{item['type']}'")
        else:
            described.append(f"{item['kind']} '{item.get('name') or item['element']}'")
    return ", ".join(described)
