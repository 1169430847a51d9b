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
  resource, as the MCP schema writes them) follows the JSON text as the
  result's content, so a process can answer with pictures or documents;
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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import x_mcp_header_map
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ContentBlock,
    CreateMessageRequest,
    InputRequiredResult,
    Tool,
    ToolAnnotations,
    ToolExecution,
)
from pydantic import TypeAdapter, ValidationError

from engine import Channel, Engine, InstanceView, InvalidInput, NotFound
from engine.arguments import ArgumentError, check_arguments
from engine.exposure import ToolSpec
from protocols.actors import actor_of
from protocols.instances import follow, outcome
from protocols.mcp._context import Context, in_thread, require, tool_error, tool_result
from protocols.mcp._elicitation import MAX_ROUNDS, ask_caller, can_elicit, can_elicit_in_result, input_required, resume
from protocols.mcp._logging import JournalFeed, LogLevels
from protocols.mcp.sampling import CALLERS, PendingCaller, SamplingCaller, SamplingCallers, caller_of
from registry import Principal

BUILTIN_PREFIX = "agenthub_"
"""Names of the hub's own tools start with this; a process whose id does is not offered as a tool."""

WAIT_META_KEY = "agenthub/waitSeconds"
"""``_meta`` key with which a caller shortens the call's time budget (0 returns right after the start)."""

CONTENT_VARIABLE = "mcpContent"
"""A completed instance's variable holding MCP content blocks for the result (not part of its structured data)."""

_BLOCKS: TypeAdapter[list[ContentBlock]] = TypeAdapter(list[ContentBlock])
_TOOL_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")  # SEP-986: what clients accept as a tool name


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
        execution=ToolExecution(task_support="optional"),
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

    async def start(
        self, principal: Principal, name: str, arguments: Mapping[str, Any] | None
    ) -> InstanceView | CallToolResult:
        """The started instance, or the tool error that says why nothing started."""
        require(principal, "start", "calling a process tool")
        spec = (await in_thread(self.read_tools)).get(name)
        if spec is None:
            raise MCPError(INVALID_PARAMS, f"unknown tool '{name}': list the tools to see what this hub offers")
        try:
            variables = check_arguments(spec.input_schema(), arguments)
        except ArgumentError as exc:
            return tool_error("invalidArguments", f"invalid arguments for '{name}': {exc}", problems=exc.problems)
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
        params: CallToolRequestParams | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Start the process and follow it for the call's budget; ``params`` carrying a ``requestState`` is the
        same call coming back with its client's answer (2026-07-28, ``_elicitation``): nothing new starts."""
        with self.sampling.opening() as pending:  # the instance's mcp:sampling model steps ask this call's client
            return await self._call(ctx, principal, name, arguments, pending, params)

    async def _call(
        self, ctx: Context, principal: Principal, name: str, arguments: Mapping[str, Any] | None,
        pending: PendingCaller, params: CallToolRequestParams | None,
    ) -> CallToolResult | InputRequiredResult:
        began = time.monotonic()
        rounds = 0
        if params is not None and params.request_state is not None:
            started, rounds = await resume(self.engine, principal, params, self.sampling)
        else:
            fresh = await self.start(principal, name, arguments)
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
        deadline = time.monotonic() + budget
        view = await self._follow(caller, started, budget, progress)
        if view is None:  # a model step asks the caller's model, in this call's result (2026-07-28)
            await feed.flush()
            pending.park()  # steps that ask before the client calls again post for that call
            return self._sampling_question(started.key, rounds, name)
        while view.state == "active" and rounds < MAX_ROUNDS and deadline > time.monotonic() and can_elicit(ctx):
            rounds += 1
            if not await ask_caller(ctx, self.engine, principal, view, deadline - time.monotonic()):
                break
            view = await follow(self.engine, view.key, deadline - time.monotonic(), on_change=progress,
                                until_outside=True)
        await feed.flush()
        if view.state == "active" and rounds < MAX_ROUNDS and can_elicit_in_result(ctx):
            question = await input_required(self.engine, principal, view, rounds, name)
            if question is not None:  # asked in the result; the client calls again with the answer
                pending.park()
                return question
        return await self.result(view)

    async def _follow(self, caller: SamplingCaller, started: InstanceView, budget: float,
                      progress: Callable[[InstanceView], Awaitable[None]]) -> InstanceView | None:
        """The instance once it waits outside or the budget is spent; None as soon as one of its model steps posts
        a sampling request for this call's result (a caller asked in results: ``caller.asked``)."""
        if caller.asked is not None and self.sampling.questions(started.key):
            return None  # posted while no call of this client was open (between its calls): ask at once
        view = await follow(self.engine, started.key, budget, on_change=progress, first=started, until_outside=True,
                            stop=caller.asked)
        return None if caller.asked is not None and self.sampling.questions(started.key) else view

    def _sampling_question(self, instance: int, rounds: int, tool: str) -> InputRequiredResult:
        """The model steps' requests (one per agent asking now) as input requests of this call's result, and the
        state to come back with."""
        waiting = self.sampling.questions(instance)
        state = json.dumps({"v": 2, "tool": tool, "instance": instance, "task": 0, "asked": rounds + 1,
                            "sample": ",".join(p.key for p in waiting)}, separators=(",", ":"))
        requests = {p.key: CreateMessageRequest(params=p.params) for p in waiting}
        return InputRequiredResult(input_requests=dict(requests), request_state=state)

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
        result = tool_result(data, note=note, meta=meta)
        result.content.extend(blocks)
        return result


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
