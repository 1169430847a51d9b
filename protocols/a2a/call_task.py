"""Service tasks of job type ``a2a``: send a message to a registered remote agent and wait durably for its task.

Task headers (``zeebe:taskHeaders``)::

    agent           required  the agent's name in the registry (``agenthub agent list``)
    skill           optional  the skill to ask for, sent as the message's ``metadata.skillId``
    resultVariable  optional  where the outcome goes (default ``a2aResult``)
    timeout         optional  seconds to wait for the remote task, counted from the first send and kept
                              across retries and restarts; when they pass, the task is canceled at the
                              agent and the BPMN error ``A2A_TIMEOUT`` is thrown
    inputAssignee, inputCandidateGroups
                    optional  who answers when the remote task asks for input (default: anyone with the
                              ``tasks`` scope)

The message is built from the job's variables: a text part from ``message``
(else ``text``), a data part from ``data``; with neither, one data part with
all the job's variables (what its input mappings give it; without input
mappings, every variable in scope, so map what the agent should see).

Lifecycle of one job:

1. the registry decides (``callable_agent``): an unknown agent, or one whose
   card changed since it was approved, fails the job before anything is sent;
2. a record (``call_record``) is written on the task's element instance, as
   the local variable ``a2aTask``, before the message goes out: the messageId
   (``agenthub-job-<job key>-<random>``) and when it was first sent. It is written again, with
   the remote task's id, as soon as the agent names the task and before any
   waiting. The record is journaled like any variable (it holds no secret)
   and ends with the task's element instance;
3. the wait: streaming (SubscribeToTask) when the card says the agent
   streams, else polling GetTask with exponential backoff (``WaitSettings``).
   A task in ``input-required`` becomes a user task in this process
   (``engine.AskPerson``, listed with ``"kind": "a2a-input"``, the agent's
   question and the artifacts so far); the job waits without a thread.
   Completing the task runs the job again, which sends the answer (a text
   part from ``message``/``text``, a data part with the other variables) to
   the same remote task, once per round, and goes on waiting. A task in
   ``auth-required`` is logged and waited for.

A later attempt of the same job (a retry, or after the hub was killed) reads
the record from its variables: with a task id it goes on waiting for that task
and sends nothing; without one (the hub died between sending and hearing the
task's id) it sends the message again with the same messageId, which an agent
that deduplicates messages answers with the same task.

While it waits, the handler checks every ``job_check_s`` that its job is still
open: a job withdrawn meanwhile (a boundary event fired, the instance was
canceled) cancels the remote task and ends the wait. ``close()`` (the hub
stopping) ends every wait at once without canceling anything: the next
attempt resumes it.

Outcomes:

- ``completed``: ``{resultVariable: {"taskId", "contextId", "state", "artifacts": [...], "message"?}}``,
  each artifact ``{"id", "name", "parts": [...]}`` with data parts as JSON and
  text parts as text; a direct answer (a message, no task) is one artifact
  named ``reply``;
- ``failed`` or ``rejected``: the BPMN error ``A2A_TASK_FAILED``, ``canceled``:
  ``A2A_TASK_CANCELED``, with the status text as message and the outcome as
  ``{resultVariable: ...}``, for an error boundary event to catch;
- anything else (an unknown or held agent, a destination the egress policy
  refuses, an unset token variable, an unreachable agent, a task the agent
  forgot): an ordinary failure, retried with backoff and then an incident.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, Literal, NoReturn

from a2a.types import Message, Part, Role
from google.protobuf.json_format import ParseDict  # type: ignore[import-untyped]
from google.protobuf.struct_pb2 import Value  # type: ignore[import-untyped]

from engine import AskPerson, BpmnError
from engine.ports import Clock, SystemClock
from engine.scheduler import Job
from protocols.a2a.call_record import RECORD_VARIABLE, CallRecord, JobRecords
from protocols.a2a.client import A2ACallError, AgentSession, TaskOutcome, WaitSettings, connect
from protocols.http import EgressPolicy, Resolver, system_resolver
from protocols.task_headers import required_header, timeout_header
from registry import Registry, RemoteAgent

__all__ = [
    "DEFAULT_RESULT_VARIABLE",
    "JOB_TYPE",
    "RECORD_VARIABLE",
    "A2ACallTask",
    "CallRecord",
    "InvalidCallTask",
    "JobRecords",
    "WaitEnded",
    "build_message",
]

log = logging.getLogger("agenthub.a2a.call")

JOB_TYPE = "a2a"
DEFAULT_RESULT_VARIABLE = "a2aResult"
ANSWER_VARIABLE = "a2aInput"  # a person's answer to the remote task's input-required (engine.AskPerson)
FAILED, CANCELED, TIMED_OUT = "A2A_TASK_FAILED", "A2A_TASK_CANCELED", "A2A_TIMEOUT"
MAX_TIMEOUT_S = 30 * 24 * 3600.0
_CANCEL_TIMEOUT_S = 10.0
_MAX_MESSAGE = 2000


class InvalidCallTask(ValueError):
    """The task's headers or input variables are wrong; the message names the header or variable."""


class WaitEnded(A2ACallError):
    """The wait stopped without an outcome: the job was withdrawn, or the hub is stopping (the next attempt resumes)."""


class A2ACallTask:
    """The job handler for ``a2a`` service tasks: ``workers.register("a2a", A2ACallTask(registry, engine, policy))``.

    ``egress`` decides which addresses an agent's interface may be reached at
    (the hub passes the ``http`` connector's, from ``AGENTHUB_HTTP_ALLOW``).
    ``environ`` is where tokens are read (default ``os.environ``, at each call).
    """

    def __init__(
        self,
        registry: Registry,
        records: JobRecords,
        egress: EgressPolicy,
        *,
        clock: Clock | None = None,
        settings: WaitSettings | None = None,
        job_check_s: float = 10.0,
        environ: Mapping[str, str] | None = None,
        resolve: Resolver = system_resolver,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
    ) -> None:
        self.registry = registry
        self.records = records
        self.egress = egress
        self.clock = clock or SystemClock()
        self.settings = settings or WaitSettings()
        self.job_check_s = job_check_s
        self._environ = environ
        self._resolve = resolve
        self._new_id = new_id
        self._lock = threading.Lock()
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def close(self) -> None:
        """End every wait now (from any thread); each of those jobs fails this attempt and resumes on the next."""
        with self._lock:
            waiting = list(self._waiting)
        for loop, stop in waiting:
            with contextlib.suppress(RuntimeError):  # that loop has finished already
                loop.call_soon_threadsafe(stop.set)

    async def __call__(self, job: Job) -> dict[str, Any]:
        name = _header(job, "agent")
        result_variable = job.headers.get("resultVariable", "").strip() or DEFAULT_RESULT_VARIABLE
        timeout_s = _timeout(job)
        if not job.element_instance:
            raise A2ACallError(f"job {job.key} does not say its element instance, where the a2a task keeps its record")
        agent = await asyncio.to_thread(self.registry.agents.callable_agent, name)
        record = CallRecord.of_job(job, name, ANSWER_VARIABLE)
        message = build_message(job, record.message_id if record else f"agenthub-job-{job.key}-{self._new_id()}")
        stop = asyncio.Event()
        entry = (asyncio.get_running_loop(), stop)
        with self._lock:
            self._waiting.add(entry)
        try:
            outcome, current = await self._call(job, agent, message, record, timeout_s, result_variable, stop)
        finally:
            with self._lock:
                self._waiting.discard(entry)
        if outcome.state == "input-required":
            raise _ask(job, name, outcome, current)
        value = outcome.to_variable()
        if outcome.state in ("failed", "rejected", "canceled"):
            code = CANCELED if outcome.state == "canceled" else FAILED
            said = outcome.message or f"agent '{name}' reports task {outcome.task_id} as {outcome.state}"
            raise BpmnError(code, said[:_MAX_MESSAGE], {result_variable: value})
        return {result_variable: value}

    async def _call(
        self,
        job: Job,
        agent: RemoteAgent,
        message: Message,
        record: CallRecord | None,
        timeout_s: float | None,
        result_variable: str,
        stop: asyncio.Event,
    ) -> tuple[TaskOutcome, CallRecord]:
        current = record or CallRecord(job.key, agent.name, message.message_id, self._now_ms())
        remaining = None if timeout_s is None else timeout_s - (self._now_ms() - current.sent_at) / 1000
        async with connect(
            agent, self.egress, settings=self.settings, environ=self._environ_now(), resolve=self._resolve
        ) as session:
            if remaining is not None and remaining <= 0:
                await self._time_out(session, current, timeout_s, result_variable)
            if record is None:
                await self._remember(job, current)
            elif record.task_id:
                log.info(
                    "job %s: waiting again for task %s of agent '%s' (nothing is sent again)",
                    job.key,
                    record.task_id,
                    agent.name,
                )
            else:
                log.warning(
                    "job %s: an earlier attempt sent message %s to agent '%s' and did not learn its task; "
                    "sending it again with the same messageId",
                    job.key,
                    record.message_id,
                    agent.name,
                )

            async def started(task_id: str, context_id: str) -> None:
                nonlocal current
                current = replace(current, task_id=task_id, context_id=context_id or None)
                try:
                    # shielded: once the write is under way it finishes, even if the wait is ended meanwhile
                    await asyncio.shield(self._remember(job, current))
                except Exception:
                    await _cancel_quietly(session, task_id)  # a task no attempt would ever wait for
                    raise

            answer = _answer(job, current)
            if answer is not None:  # a person answered the task's input-required: pass it on, once per round
                current = replace(current, answered=answer[0], job=job.key)
                await self._remember(job, current)
                work = session.send(answer[1], started=started)
            elif current.task_id:
                work = session.follow(current.task_id)
            else:
                work = session.send(message, started=started)
            ended = await self._supervise(job, work, remaining, stop)
            if isinstance(ended, TaskOutcome):
                return ended, current
            if ended == "timeout":
                await self._time_out(session, current, timeout_s, result_variable)
            if ended == "withdrawn":
                if current.task_id:
                    await _cancel_quietly(session, current.task_id)
                raise WaitEnded(
                    f"job {job.key} was withdrawn while it waited for agent '{agent.name}' "
                    f"(task {current.task_id or 'not started'}, canceled there)"
                )
            raise WaitEnded(
                f"the hub is stopping; the next attempt of job {job.key} goes on waiting for task "
                f"{current.task_id or '(not known yet)'} of agent '{agent.name}'"
            )

    async def _supervise(
        self,
        job: Job,
        work: Coroutine[Any, Any, TaskOutcome],
        remaining: float | None,
        stop: asyncio.Event,
    ) -> TaskOutcome | Literal["timeout", "withdrawn", "closing"]:
        """Run ``work``: its outcome (or what it raised), unless the wait ends first; then why it ended.

        ``"withdrawn"``: the job is no longer open. Whatever the answer, ``work``
        has been canceled and awaited by then, so nothing of it outlives the call.
        """
        loop = asyncio.get_running_loop()
        deadline = None if remaining is None else loop.time() + remaining
        waiter = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            next_check = loop.time() + self.job_check_s
            while True:
                until = next_check if deadline is None else min(next_check, deadline)
                done, _ = await asyncio.wait(
                    {waiter, stopped}, timeout=max(0.0, until - loop.time()), return_when=asyncio.FIRST_COMPLETED
                )
                if waiter in done:
                    return waiter.result()
                if stopped in done:
                    return "closing"
                if deadline is not None and loop.time() >= deadline:
                    return "timeout"
                if loop.time() >= next_check:
                    if not await asyncio.to_thread(self._job_open, job):
                        return "withdrawn"
                    next_check = loop.time() + self.job_check_s
        finally:
            for pending in (waiter, stopped):
                if not pending.done():
                    pending.cancel()
            await asyncio.gather(waiter, stopped, return_exceptions=True)

    async def _time_out(
        self, session: AgentSession, record: CallRecord, timeout_s: float | None, result_variable: str
    ) -> NoReturn:
        if record.task_id:
            await _cancel_quietly(session, record.task_id)
        value: dict[str, Any] = {
            "taskId": record.task_id,
            "contextId": record.context_id,
            "state": "canceled",
            "artifacts": [],
        }
        raise BpmnError(
            TIMED_OUT,
            f"agent '{session.name}' did not finish task {record.task_id or '(not started)'} within {timeout_s:g} s "
            "of the first send; it was canceled there",
            {result_variable: value},
        )

    async def _remember(self, job: Job, record: CallRecord) -> None:
        variables = {RECORD_VARIABLE: record.to_json()}
        await asyncio.to_thread(
            self.records.set_variables, job.instance, variables, scope=job.element_instance, local=True
        )

    def _job_open(self, job: Job) -> bool:
        return any(found.get("key") == job.key for found in self.records.jobs(job.instance))

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _environ_now(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ


async def _cancel_quietly(session: AgentSession, task_id: str) -> None:
    """Ask the agent to cancel the task; what it answers changes nothing here (it may have ended already)."""
    try:
        async with asyncio.timeout(_CANCEL_TIMEOUT_S):
            await session.cancel(task_id)
    except Exception as exc:
        log.info("agent '%s': canceling task %s failed: %s: %s", session.name, task_id, type(exc).__name__, exc)


def build_message(job: Job, message_id: str) -> Message:
    """The user message of the job: text from ``message``/``text``, data from ``data``, else all its variables."""
    where = f"service task '{job.element_id}' (type 'a2a')"
    variables = {k: v for k, v in job.variables.items() if k not in (RECORD_VARIABLE, ANSWER_VARIABLE)}
    parts: list[Part] = []
    for name in ("message", "text"):
        text = variables.get(name)
        if text is None:
            continue
        if not isinstance(text, str):
            raise InvalidCallTask(f"{where}: variable '{name}' must be text, not {type(text).__name__}")
        parts.append(Part(text=text, media_type="text/plain"))
        break
    data = variables.get("data")
    if data is not None:
        parts.append(Part(data=ParseDict(data, Value()), media_type="application/json"))
    if not parts:
        parts.append(Part(data=ParseDict(variables, Value()), media_type="application/json"))
    message = Message(message_id=message_id, role=Role.ROLE_USER, parts=parts)
    skill = job.headers.get("skill", "").strip()
    if skill:
        message.metadata.update({"skillId": skill})
    return message


def _answer(job: Job, record: CallRecord) -> tuple[int, Message] | None:
    """A person's answer to the task's input-required, not yet sent: its round and the message that carries it."""
    raw = job.variables.get(ANSWER_VARIABLE)
    if not record.task_id or not isinstance(raw, Mapping):
        return None
    round_, variables = raw.get("round"), raw.get("variables")
    if not isinstance(round_, int) or round_ <= record.answered or not isinstance(variables, Mapping):
        return None
    parts: list[Part] = []
    text = variables.get("message", variables.get("text"))
    if isinstance(text, str):
        parts.append(Part(text=text, media_type="text/plain"))
    data = {k: v for k, v in variables.items() if k not in ("message", "text")}
    if data or not parts:
        parts.append(Part(data=ParseDict(data, Value()), media_type="application/json"))
    message = Message(message_id=f"{record.message_id}-answer-{round_}", role=Role.ROLE_USER, parts=parts,
                      task_id=record.task_id, context_id=record.context_id or "")
    return round_, message


def _ask(job: Job, agent: str, outcome: TaskOutcome, record: CallRecord) -> AskPerson:
    """The remote task asks for input: a user task in this process, whose answer the next attempt sends on."""
    question = outcome.message or f"agent '{agent}' needs more input for task {outcome.task_id}"
    groups = tuple(g.strip() for g in job.headers.get("inputCandidateGroups", "").split(",") if g.strip())
    return AskPerson(
        f"{agent}: {question}"[:255],
        details={"kind": "a2a-input", "agent": agent, "taskId": outcome.task_id, "question": question[:_MAX_MESSAGE],
                 "artifacts": outcome.artifacts},
        assignee=job.headers.get("inputAssignee", "").strip() or None,
        candidate_groups=groups,
        answer_variable=ANSWER_VARIABLE,
        round=record.answered + 1,
    )


def _header(job: Job, name: str) -> str:
    return required_header(job, name, kind="a2a", known="agent, and optionally skill, resultVariable, timeout",
                           error=InvalidCallTask)


def _timeout(job: Job) -> float | None:
    return timeout_header(job, maximum=MAX_TIMEOUT_S, error=InvalidCallTask)
