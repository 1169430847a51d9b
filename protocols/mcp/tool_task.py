"""Service tasks of job type ``mcp``: call one pinned tool of a registered upstream MCP server.

Task headers (``zeebe:taskHeaders``)::

    server               required  the MCP server's name in the registry (``agenthub mcp-server list``)
    tool                 required  the tool's name on that server
    resultVariable       optional  where the result goes (default ``result``)
    timeout              optional  seconds for the whole exchange (default: the server entry's ``timeoutSeconds``)
    errorCode            optional  the BPMN error thrown when the tool reports an error (default ``MCP_TOOL_ERROR``)
    inputAssignee        optional  who is asked when the upstream's task asks for input (``tool_input``)
    inputCandidateGroups optional  the groups (comma-separated) asked then

Arguments: the variable ``arguments`` when the instance has one (it must be
an object); otherwise one variable per property of the tool's ``inputSchema``
(exactly those; absent ones are left out, and a missing ``required`` one fails
the job before anything is sent).

Each job leases the server's session from the handler's ``SessionPool``
(``client_pool``: one open session per server on the worker's event loop,
shared by concurrent jobs and kept between them, a new one whenever the
registry entry or a credential it reads changes), lists the server's tools on it and records them
(``registry.mcp.sync``: a changed or new tool is held, with an audit event),
then checks the pin: the tool must be approved in the registry *and* its
definition as listed just now must hash to the approved hash. Only then is it
called, on the session the listing came from. The listing is fetched on every
job, unless the upstream lets the session subscribe to its tool changes
(``tools.listChanged`` and ``subscriptions/listen``): then a listing younger
than ``listing_reuse_s`` is reused until a change notification drops it
(``client_listing``), so an announced change is never called on the old pin.
The SDK uses the listing too, to check structured results against their
output schema. What is cached (``sync_ttl_s`` per server) is the
registry write: a listing identical to the one this handler recorded last is
not recorded again within that time. The hash comparison is never skipped.

An upstream that answers with a task (the MCP Tasks extension, 2026-07-28,
which the hub declares: ``tasks_client``) does not keep the job's worker
slot: the job waits durably (``engine.WaitRemote``) with the task's id as the
local variable ``mcpTask`` (``UpstreamTask``) and in the hub's list of waiting
calls (``registry.mcp_calls``, swept for withdrawn jobs: ``call_sweep``), and
each later attempt reads the task once (``tasks/get``): completed, its result
is handled as a plain call's; failed, cancelled or unknown upstream, the
record is cleared and the attempt fails (the next one calls afresh); else it
waits again. Without an engine (``records`` None) such a task is followed to
its end within the call, as the gateway's calls do (``call_pinned``). A task that asks for input
(``input_required`` with an ``elicitation/create`` request) parks the job on a person's user task
(``engine.AskPerson``, ``tool_input``); their answer goes upstream with ``tasks/update`` at the next attempt,
which then reads the task again. A server that asks before it answers (an ``InputRequiredResult``,
``client_input``) parks the job on a person the same way, and the next attempt sends the call again with the
answer and the server's ``requestState`` (``tool_input.PendingInput``).

A pooled session that fails is dropped; when it fails at the listing, the
job lists again on a fresh session (once). A ``tools/call`` is never sent
twice. Sessions unused for ``idle_s`` are closed, and ``close()`` closes them
all (stdio servers are stopped); a handler that is never closed closes them
when it is garbage collected or the interpreter exits.

Outcomes:

- the result: ``{resultVariable: structuredContent}`` when the tool returned
  structured content, else its text (parsed when it is JSON), else its content
  blocks; output is cleaned and capped (``client_output``), and when something
  was cut ``{resultVariable}Truncated`` is ``true``;
- ``isError: true`` from the tool: the BPMN error ``errorCode`` with the tool's
  text as its message and ``{resultVariable: ...}`` as its variables, for an
  error boundary event to catch;
- a held tool (``registry.ToolBlocked``), an unknown server or tool, a wrong
  header or argument, an unreachable server, a timeout: an ordinary failure,
  retried with backoff and then an incident. A held tool is not a BPMN error
  on purpose: once an admin approves it (``agenthub mcp-server approve``),
  retrying the incident lets the instance go on as modelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult, InputRequiredResult, InputResponses

from engine import BpmnError, TaskView, WaitRemote, strict_json
from engine.canonical import canonical_hash
from engine.exceptions import JobFailure
from engine.scheduler import Job
from protocols.http import EgressPolicy
from protocols.mcp import tasks_client, tool_input
from protocols.mcp.call_sweep import sweep_orphans
from protocols.mcp.client import McpClientError, McpProtocolError, ToolOutcome, deadline, outcome_of
from protocols.mcp.client_pool import DEFAULT_IDLE_S, SessionPool
from protocols.mcp.tasks_client import AskingTask, CreatedTask, DetailedTask, poll_after
from protocols.mcp.tool_input import Asked
from protocols.orphans import CancelRetries
from protocols.task_headers import required_header, timeout_header
from registry import McpServer, PinnedTool, Registry, RegistryNotFound, ToolBlocked, tool_hash

__all__ = [
    "DEFAULT_RESULT_VARIABLE",
    "ERROR_CODE",
    "JOB_TYPE",
    "RECORD_VARIABLE",
    "InvalidToolTask",
    "JobRecords",
    "McpToolTask",
    "UpstreamTask",
    "result_value",
]

log = logging.getLogger("agenthub.mcp.call")

JOB_TYPE = "mcp"
ERROR_CODE = "MCP_TOOL_ERROR"
DEFAULT_RESULT_VARIABLE = "result"
MAX_TIMEOUT_S = 3600.0
DEFAULT_LISTING_REUSE_S = 5.0
"""How long a listing is reused on a session subscribed to the upstream's tool changes (``client_listing``)."""
_MAX_MESSAGE = 2000
RECORD_VARIABLE = "mcpTask"
"""The local variable of an ``mcp`` task's element instance naming the upstream task its job waits on."""
MIN_CHECK_S, MAX_CHECK_S = 0.5, 30.0  # the bounds of the durable wait between two reads of an upstream task
SWEEP_S = 30.0
"""How often the hub looks for upstream tasks whose job was withdrawn while it waited without a worker."""
MAX_TASK_WAIT_S = 30 * 86400
"""The longest a job follows an upstream task; then it is cancelled upstream and the attempt fails."""


class JobRecords(Protocol):
    """What the handler needs of the engine: a variable on the job's element instance (to forget a record), and an
    instance's open jobs (the sweep's question: is the job that waited still there?)."""

    def set_variables(
        self, instance: int, variables: dict[str, Any], *, scope: int | None = None, local: bool = True
    ) -> None: ...

    def jobs(self, instance: int) -> list[dict[str, Any]]: ...

    def user_tasks(self, *, instance: int | None = None) -> list[TaskView]: ...


@dataclass(frozen=True, slots=True)
class UpstreamTask:
    """The upstream task a job waits on (the local variable ``mcpTask``), as ``WaitRemote`` left it."""

    server: str
    tool: str
    task_id: str
    since_ms: int  # when the call answered with the task, ms since the epoch (the handler's clock)
    answered: int = 0  # people's answers passed on to the task's input requests (``tool_input``)
    asked: Asked | None = None  # the input request a person is asked now, if any

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"server": self.server, "tool": self.tool, "taskId": self.task_id,
                                 "since": self.since_ms}
        if self.answered:
            found["answered"] = self.answered
        if self.asked is not None:
            found["asked"] = self.asked.to_json()
        return found

    @classmethod
    def of(cls, job: Job) -> UpstreamTask | None:
        """The record among the job's variables, if a well-formed one is there."""
        found = job.variables.get(RECORD_VARIABLE)
        if not isinstance(found, Mapping):
            return None
        server, tool, task_id, since = (found.get(k) for k in ("server", "tool", "taskId", "since"))
        if not (isinstance(server, str) and isinstance(tool, str) and isinstance(task_id, str) and
                isinstance(since, int) and not isinstance(since, bool)):
            return None
        answered = found.get("answered", 0)
        if not isinstance(answered, int) or isinstance(answered, bool):
            answered = 0
        return cls(server, tool, task_id, since, answered, Asked.of(found.get("asked")))


def _now_ms() -> int:
    return int(time.time() * 1000)


class InvalidToolTask(ValueError):
    """The task's headers or input variables are wrong; the message names the header or variable."""


class McpToolTask:
    """The job handler for ``mcp`` service tasks; register it with ``workers.register("mcp", McpToolTask(registry))``.

    ``default_timeout_s`` replaces the server entries' own timeout as the default
    for tasks without a ``timeout`` header; leave it None to use each entry's.
    ``idle_s``: how long an unused upstream session stays open. ``egress``: the
    allow-list each connection to an HTTP server is checked against when it is
    made (the hub passes ``AGENTHUB_HTTP_ALLOW``'s); None checks nothing.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        default_timeout_s: float | None = None,
        sync_ttl_s: float = 10.0,
        idle_s: float = DEFAULT_IDLE_S,
        egress: EgressPolicy | None = None,
        listing_reuse_s: float = DEFAULT_LISTING_REUSE_S,
        records: JobRecords | None = None,
    ) -> None:
        self.registry = registry
        self.records = records
        self.cancel_retries = CancelRetries()  # the sweep's cancels that could not reach their server yet
        self.default_timeout_s = default_timeout_s
        self.sync_ttl_s = sync_ttl_s
        self.egress = egress
        self.pool = SessionPool(idle_s=idle_s, egress=egress, listing_reuse_s=listing_reuse_s)
        self._synced: dict[str, tuple[str, float]] = {}  # server -> (digest of its listing, when recorded)
        self._lock = threading.Lock()  # the registry's calls run on threads
        self._finalizer = weakref.finalize(self, self.pool.close)

    def close(self) -> None:
        """Close the upstream sessions (and stop stdio servers); a later job opens them again."""
        self.pool.close()

    async def __call__(self, job: Job) -> dict[str, Any]:
        server_name, tool = _header(job, "server"), _header(job, "tool")
        result_variable = job.headers.get("resultVariable") or DEFAULT_RESULT_VARIABLE
        error_code = job.headers.get("errorCode") or ERROR_CODE
        try:
            server = await asyncio.to_thread(self.registry.mcp.get, server_name)  # SQL: off the worker's loop
        except RegistryNotFound:
            self.pool.discard(server_name)  # removed from the registry: its session, if any, is closed
            raise
        timeout = _timeout(job) or self.default_timeout_s or float(server.timeout_s)
        record = UpstreamTask.of(job)
        if record is not None and (record.server, record.tool) == (server_name, tool):
            outcome = await self._follow(job, server, record, timeout)
        elif self.records is None:  # no engine to keep a record with: a task is followed within the call
            found = await self.call_pinned(server, tool, lambda pinned: _arguments(job, pinned), timeout)
            if not isinstance(found, ToolOutcome):  # nothing is handed back without input_back: never one here
                raise McpProtocolError(f"MCP server '{server_name}' left tools/call '{tool}' unanswered")
            outcome = found
        else:
            outcome = await self._start(job, server, tool, timeout)
        value = result_value(outcome)
        if outcome.is_error:
            message = outcome.text()[:_MAX_MESSAGE] or f"tool '{tool}' of MCP server '{server_name}' reported an error"
            raise BpmnError(error_code, message, {result_variable: value})
        variables = {result_variable: value}
        if outcome.truncated:
            variables[f"{result_variable}Truncated"] = True
        return variables

    async def call_pinned(
        self, server: McpServer, tool: str, arguments: Callable[[PinnedTool], dict[str, Any]], timeout_s: float,
        *, input_back: bool = False, responses: InputResponses | None = None, state: str | None = None,
    ) -> ToolOutcome | InputRequiredResult | AskingTask:
        """List, record, check the pin, then call ``tool`` with ``arguments(pinned)``: what every job does, and
        what the hub's gateway (``protocols.gateway``) does for a federated call, so both hold the same pins. An
        upstream that answers with a task is followed to its end within ``timeout_s``; its questions, or the
        upstream's before it answers, are answered by the call's asker (``client_input``), or, with
        ``input_back``, handed back: sent again with the answers (``responses``) and its ``state``, or, for a
        task's (``AskingTask``), passed on with ``follow_task``."""
        found = await self._pinned(server, tool, arguments, timeout_s, input_back=input_back, responses=responses,
                                   state=state)
        if isinstance(found, CreatedTask):  # the extension's resolver finishes tasks: never one here
            raise McpProtocolError(f"MCP server '{server.name}' left tools/call '{tool}' as a task")
        return found

    async def _pinned(
        self, server: McpServer, tool: str, arguments: Callable[[PinnedTool], dict[str, Any]], timeout_s: float,
        *, tasks_back: bool = False, input_back: bool = False, responses: InputResponses | None = None,
        state: str | None = None,
    ) -> ToolOutcome | CreatedTask | InputRequiredResult | AskingTask:
        async with (
            deadline(timeout_s, f"tool '{tool}' of MCP server '{server.name}'"),
            self.pool.session(server) as session,
        ):
            listed = await session.list_tools()
            pinned = await asyncio.to_thread(self._checked, server.name, tool, listed)
            return await session.call(tool, arguments(pinned), tasks_back=tasks_back, input_back=input_back,
                                      responses=responses, state=state)

    async def follow_task(
        self, server: McpServer, task_id: str, responses: dict[str, Any], timeout_s: float
    ) -> ToolOutcome | AskingTask:
        """Pass the caller's answers to the questions of the upstream's task ``task_id`` on and follow it to its end
        within ``timeout_s`` (a further question is handed back): the gateway's call that comes back with them."""
        async with (
            deadline(timeout_s, f"task {task_id} of MCP server '{server.name}'"),
            self.pool.session(server) as session,
        ):
            return await session.follow_task(task_id, responses, input_back=True)

    async def _start(self, job: Job, server: McpServer, tool: str, timeout_s: float) -> ToolOutcome:
        """Call the tool (again, with a person's answer, when the server asked one: ``tool_input.PendingInput``);
        a task it answers with makes the job wait for it (``WaitRemote``), a question a person of the process."""
        pending = tool_input.PendingInput.of(job)
        answer: tuple[int, dict[str, Any]] | None = None
        responses: InputResponses | None = None
        state: str | None = None
        if pending is not None and (pending.server, pending.tool) == (server.name, tool):
            answer = tool_input.answer_of(job, pending.asked, pending.answered)
            if answer is not None:
                responses, state = {pending.asked.key: ElicitResult.model_validate(answer[1])}, pending.state
        try:
            started = await self._pinned(server, tool, lambda pinned: _arguments(job, pinned), timeout_s,
                                         tasks_back=True, input_back=True, responses=responses, state=state)
        except McpProtocolError:
            if answer is not None:  # the server refused the answer's round (its state expired, or it changed):
                await self._remember(job, tool_input.PENDING_VARIABLE, None)  # the next attempt calls afresh
            raise
        if isinstance(started, CreatedTask):  # listed first: a job withdrawn while it waits is swept
            await asyncio.to_thread(self.registry.mcp_calls.add, job.key, job.instance, server.name, started.task_id)
            raise self._wait(UpstreamTask(server.name, tool, started.task_id, _now_ms()), started)
        if isinstance(started, AskingTask):  # tasks are handed back before they are followed: never one here
            raise McpProtocolError(f"MCP server '{server.name}' left tools/call '{tool}' unanswered")
        if isinstance(started, InputRequiredResult):
            round_ = answer[0] if answer is not None else 0
            request, pending = tool_input.pending_input(server.name, tool, started, round_)
            await self._remember(job, tool_input.PENDING_VARIABLE, pending.to_json())
            raise tool_input.ask_person(job, server.name, tool, None, request, round_ + 1)
        return started

    async def _follow(self, job: Job, server: McpServer, record: UpstreamTask, timeout_s: float) -> ToolOutcome:
        """Pass on a person's answer to the task's input request, if one came back, then read the task once: its
        outcome when it ended, a person asked when it waits for input (``tool_input``), else ``WaitRemote`` again.
        A task that failed, was cancelled or is unknown upstream is forgotten (the record cleared) and the attempt
        fails, so the next one calls the tool afresh, as after a failed plain call."""
        what = f"task {record.task_id} of tool '{record.tool}' of MCP server '{server.name}'"
        answer = tool_input.answer_of(job, record.asked, record.answered)
        async with deadline(timeout_s, what), self.pool.session(server) as session:
            if answer is not None and record.asked is not None:
                round_, response = answer
                try:
                    await session.update_task(record.task_id, {record.asked.key: response})
                except McpProtocolError as exc:  # the server answered: that request is gone (or was answered before
                    # a crash); what the task does now is read below
                    log.warning("job %s: the answer to request %r of %s was refused: %s", job.key, record.asked.key,
                                what, exc)
                except McpClientError as exc:  # not delivered: the next attempt sends it again
                    raise JobFailure(f"a person's answer to {what} could not be passed on: {exc}") from exc
                record = replace(record, answered=round_, asked=None)
                await self._relist(job, server.name, record.task_id)
            task = await session.task(record.task_id)
            if task is None:
                await self._forget(job)
                raise JobFailure(f"MCP server '{server.name}' no longer knows task {record.task_id} (expired, or the "
                                 "server lost it): the next attempt calls the tool again")
            ended = tasks_client.outcome(task)
            if ended is None and _now_ms() - record.since_ms > MAX_TASK_WAIT_S * 1000:
                with contextlib.suppress(McpClientError):
                    await session.cancel_task(record.task_id)
                await self._forget(job)
                raise JobFailure(f"{what} ran longer than {MAX_TASK_WAIT_S / 86400:g} days: cancelled")
        if ended is None:
            request = tool_input.first_request(task)
            if request is None:
                raise self._wait(record, task)
            record = replace(record, asked=request.asked)
            # which request the person answers, for the attempt that sends it
            await self._remember(job, RECORD_VARIABLE, record.to_json())
            raise tool_input.ask_person(job, server.name, record.tool, record.task_id, request, record.answered + 1)
        if isinstance(ended, MCPError):
            await self._forget(job)
            raise JobFailure(f"{what} failed: {ended.error.message} (code {ended.error.code}); the next attempt "
                             "calls the tool again")
        await asyncio.to_thread(self.registry.mcp_calls.remove, job.key)  # handled: nothing left to cancel
        return outcome_of(ended)

    def _wait(self, record: UpstreamTask, task: CreatedTask | DetailedTask) -> WaitRemote:
        """Leave the worker's slot until the task is worth reading again: as long as it has run so far (so reads
        space out as a task proves long, as for A2A tasks), never sooner than its ``pollIntervalMs`` asks, between
        ``MIN_CHECK_S`` and ``MAX_CHECK_S``."""
        age_s = max(0.0, (_now_ms() - record.since_ms) / 1000)
        delay = min(max(poll_after(task, MIN_CHECK_S), age_s, MIN_CHECK_S), MAX_CHECK_S)
        said = f": {task.status_message}" if task.status_message else ""
        reason = f"MCP task {record.task_id} of tool '{record.tool}' of server '{record.server}' ({task.status}{said})"
        methods = tool_input.unanswered(task) if isinstance(task, DetailedTask) else []
        if methods:
            reason += (f"; it asks for {', '.join(methods)}, which the hub does not answer for an upstream server: "
                       "answer it there, or cancel the instance")
        return WaitRemote(delay, reason, variables={RECORD_VARIABLE: record.to_json()})

    async def _relist(self, job: Job, server: str, task_id: str) -> None:
        """The job is a new one (the person's task stood in for the parked one, which the list still names): list
        it for the sweep under its own key, then forget the parked one's entry."""
        await asyncio.to_thread(self.registry.mcp_calls.add, job.key, job.instance, server, task_id)
        parked = tool_input.parked_job(job)
        if parked is not None and parked != job.key:
            await asyncio.to_thread(self.registry.mcp_calls.remove, parked)

    async def _remember(self, job: Job, variable: str, value: dict[str, Any] | None) -> None:
        """Write a record of the job as it stands now (the job is about to be parked, with no wait to carry it),
        or clear it (None): a local variable of its element instance."""
        records = self.records
        if records is not None:
            await asyncio.to_thread(lambda: records.set_variables(job.instance, {variable: value},
                                                                  scope=job.element_instance, local=True))

    async def _forget(self, job: Job) -> None:
        """Clear the job's record, so that its next attempt calls the tool afresh, and its entry in the hub's list
        of waiting calls."""
        await self._remember(job, RECORD_VARIABLE, None)
        await asyncio.to_thread(self.registry.mcp_calls.remove, job.key)

    async def sweep(self) -> int:
        """Cancel the upstream tasks whose job was withdrawn while it waited without a worker; how many were
        settled (``call_sweep``). Nothing to do without the engine (no job waits then)."""
        if self.records is None:
            return 0
        return await sweep_orphans(self.registry, self.records, self.pool, self.cancel_retries)

    async def sweep_forever(self, every_s: float | None = None) -> None:
        """``sweep`` every ``every_s`` (default ``SWEEP_S``) until cancelled (the hub runs one while it serves); a
        failed sweep is logged."""
        while True:
            await asyncio.sleep(every_s if every_s is not None else SWEEP_S)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeping the upstream MCP tasks of withdrawn jobs failed; trying again later")

    async def offered(self, server: McpServer, timeout_s: float) -> list[PinnedTool]:
        """The server's tools that may be called now: listed upstream just now (and recorded) with exactly the
        definition an admin approved. A tool new or changed upstream is not among them until approved."""
        async with deadline(timeout_s, f"listing MCP server '{server.name}'"), self.pool.session(server) as session:
            listed = await session.list_tools()
        await asyncio.to_thread(self._record, server.name, listed)
        seen = {str(t.get("name")): tool_hash(t) for t in listed}
        pins = await asyncio.to_thread(self.registry.mcp.tools, server.name)
        return [p for p in pins if p.callable and seen.get(p.name) == p.approved_hash]

    def callable_listed(self, server: str, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record the listing; the listed tools that may be called now (approved, as approved). Blocking: a thread."""
        self._record(server, listed)
        pins = {pin.name: pin for pin in self.registry.mcp.tools(server)}
        return [t for t in listed if (pin := pins.get(str(t.get("name")))) is not None and pin.callable
                and tool_hash(t) == pin.approved_hash]

    def checked_tool(self, server: str, tool: str, listed: list[dict[str, Any]]) -> PinnedTool:
        """Record the listing, then the pin of ``tool`` or ``ToolBlocked``, as this job type checks it (a thread)."""
        return self._checked(server, tool, listed)

    def _checked(self, server: str, tool: str, listed: list[dict[str, Any]]) -> PinnedTool:
        """Record the listing, then check the pin (registry calls: run on a thread, not on the worker's loop)."""
        self._record(server, listed)
        return self._check_pin(server, tool, listed)

    def _record(self, server: str, listed: list[dict[str, Any]]) -> None:
        digest = canonical_hash(sorted(tool_hash(t) for t in listed))  # in memory only: what the last sync saw
        now = time.monotonic()
        with self._lock:
            last = self._synced.get(server)
            if last is not None and last[0] == digest and now - last[1] < self.sync_ttl_s:
                return
        self.registry.mcp.sync(server, listed)
        with self._lock:
            self._synced[server] = (digest, now)

    def _check_pin(self, server: str, tool: str, listed: list[dict[str, Any]]) -> PinnedTool:
        """The pinned tool, if approved and listed just now with exactly the approved definition."""
        pinned = self.registry.mcp.callable_tool(server, tool)
        current = next((t for t in listed if t.get("name") == tool), None)
        if current is None or tool_hash(current) != pinned.approved_hash:
            with self._lock:
                self._synced.pop(server, None)  # record the listing next time, whatever the cache says
            raise ToolBlocked(
                f"tool '{tool}' of MCP server '{server}' is not offered upstream as it was approved; it is blocked "
                f"until an admin reviews it (`agenthub mcp-server tools {server}`, then "
                f"`agenthub mcp-server approve {server} --tool {tool}`)"
            )
        return pinned


def _header(job: Job, name: str) -> str:
    known = "server, tool, and optionally resultVariable, timeout, errorCode, inputAssignee, inputCandidateGroups"
    return required_header(job, name, kind="mcp", known=known, error=InvalidToolTask)


def _timeout(job: Job) -> float | None:
    return timeout_header(job, maximum=MAX_TIMEOUT_S, error=InvalidToolTask)


def _arguments(job: Job, pinned: PinnedTool) -> dict[str, Any]:
    where = f"service task '{job.element_id}' (tool '{pinned.name}' of MCP server '{pinned.server}')"
    if "arguments" in job.variables:
        given = job.variables["arguments"]
        if not isinstance(given, Mapping):
            raise InvalidToolTask(f"{where}: variable 'arguments' must be an object, not {type(given).__name__}")
        return dict(given)
    schema = pinned.definition.get("inputSchema") or {}
    properties = schema.get("properties") or {}
    missing = [n for n in schema.get("required") or [] if n not in job.variables]
    if missing:
        raise InvalidToolTask(
            f"{where} needs variable(s) {', '.join(repr(n) for n in missing)} (required by the tool's input "
            "schema), or an 'arguments' object"
        )
    return {name: job.variables[name] for name in properties if name in job.variables}


def result_value(outcome: ToolOutcome) -> Any:
    """Structured content, else the text (parsed when it is JSON), else the content blocks (None when empty)."""
    if outcome.structured_content is not None:
        return outcome.structured_content
    if any(block.get("type") == "text" for block in outcome.content):
        return _maybe_json(outcome.text())
    return outcome.content or None


def _maybe_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in '{["-0123456789tfn':
        return text
    try:
        return strict_json.loads(stripped)
    except strict_json.JsonProblem:
        return text
