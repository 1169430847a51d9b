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
3. the wait, first holding the worker's slot for ``inline_wait_s`` (1 s):
   streaming (SubscribeToTask) when the card says the agent streams, else
   polling GetTask (``WaitSettings``). A task still running then is waited
   for without a worker: the record gets ``waitedSince``, the hub's list of
   waiting calls (``registry.a2a_calls``) names the task, and the handler
   raises ``engine.WaitRemote``, which frees the slot. Each later attempt
   (at the next check, or when ``Engine.wake_job`` is called) reads the task
   once and ends, asks, or waits again; the wait between checks doubles
   (the task's age, between ``MIN_CHECK_S`` and ``MAX_CHECK_S``), and never
   reaches past the ``timeout``'s deadline.
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

While it waits holding the slot, the handler checks every ``job_check_s``
that its job is still open: a job withdrawn meanwhile (a boundary event
fired, the instance was canceled) cancels the remote task and ends the wait.
A job withdrawn while it waits without a worker is found by the hub's sweep
(``sweep_forever``, ``protocols.a2a.call_sweep``), which cancels its task.
``close()`` (the hub stopping) ends every wait at once without canceling
anything: the next attempt resumes it.

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
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, NoReturn

import httpx
from a2a.types import Message, TaskPushNotificationConfig, TaskState
from a2a.utils.errors import InvalidParamsError, PushNotificationNotSupportedError, UnsupportedOperationError

from engine import BpmnError, WaitRemote
from engine.ports import Clock, SystemClock
from engine.scheduler import Job
from protocols.a2a.call_list import CallList
from protocols.a2a.call_message import (
    ANSWER_VARIABLE,
    MAX_MESSAGE,
    InvalidCallTask,
    answer_message,
    ask_person,
    build_message,
)
from protocols.a2a.call_record import RECORD_VARIABLE, CallRecord, JobRecords
from protocols.a2a.call_supervise import supervise
from protocols.a2a.call_sweep import CancelRetries, cancel_quietly, sweep_orphans
from protocols.a2a.client import TERMINAL, A2ACallError, AgentSession, TaskOutcome, WaitSettings, connect, state_name
from protocols.http import EgressPolicy, Resolver, system_resolver
from protocols.http.routes import HttpRoutes
from protocols.task_headers import required_header, timeout_header
from registry import Registry, RemoteAgent, RemoteCall, secret_digest

__all__ = [
    "DEFAULT_RESULT_VARIABLE",
    "JOB_TYPE",
    "PUSH_PATH",
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
FAILED, CANCELED, TIMED_OUT = "A2A_TASK_FAILED", "A2A_TASK_CANCELED", "A2A_TIMEOUT"
MAX_TIMEOUT_S = 30 * 24 * 3600.0
INLINE_WAIT_S = 1.0  # how long a job waits for its task holding a worker slot, before it waits without one
MIN_CHECK_S, MAX_CHECK_S = 1.0, 30.0  # the bounds of the durable wait between two checks of the task
PUSH_REFUSED_S = 3600.0  # an agent that refused a push config is not asked again for this long
PUSH_PATH = "/a2a-push/"  # + the job's key: where agents notify a call's task (hub.a2a_push)
SWEEP_S = 30.0  # how often the hub looks for tasks whose job was withdrawn while it waited without a worker


# What an agent answers a message whose push notification config it will not take (a URL its rules refuse, or no
# push support after all): the message is sent again without one.
_PUSH_REFUSED = (InvalidParamsError, PushNotificationNotSupportedError, UnsupportedOperationError)


class WaitEnded(A2ACallError):
    """The wait stopped without an outcome: the job was withdrawn, or the hub is stopping (the next attempt resumes)."""


class A2ACallTask:
    """The job handler for ``a2a`` service tasks: ``workers.register("a2a", A2ACallTask(registry, engine, policy))``.

    ``egress`` decides which addresses an agent's interface may be reached at
    (the hub passes the ``http`` connector's, from ``AGENTHUB_HTTP_ALLOW``).
    ``environ`` is where tokens are read (default ``os.environ``, at each call).
    ``inline_wait_s``: how long a call follows its task holding its worker slot before it waits without one
    (``engine.WaitRemote``), checked again every ``MIN_CHECK_S`` to ``MAX_CHECK_S``. ``push_base``: the hub's
    URL as agents reach it; with it, an agent whose card says it pushes is asked to notify the task's updates
    to ``{push_base}/a2a-push/{job}``, which checks a waiting job at once. ``routes``: the operator's
    (``AGENTHUB_HTTP_ROUTES``), for the agents Camunda's A2A clients name by URL.
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
        inline_wait_s: float = INLINE_WAIT_S,
        environ: Mapping[str, str] | None = None,
        resolve: Resolver = system_resolver,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
        push_base: str | None = None,
        routes: HttpRoutes | None = None,
    ) -> None:
        self.registry = registry
        self.records = records
        self.egress = egress
        self.clock = clock or SystemClock()
        self.settings = settings or WaitSettings()
        self.job_check_s = job_check_s
        self.inline_wait_s = inline_wait_s
        self._environ = environ
        self._resolve = resolve
        self._new_id = new_id
        self.push_base = push_base.rstrip("/") if push_base else None
        self.routes = routes or HttpRoutes()  # where Camunda's A2A clients' data.connection.url goes
        self._push_refused: dict[str, float] = {}  # agent -> when it last refused a push config (monotonic)
        self._lock = threading.Lock()
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._ssl: ssl.SSLContext | None = None
        self._calls = CallList(registry.a2a_calls)
        self.cancel_retries = CancelRetries()  # the sweep's cancels that could not reach their agent yet

    def _ssl_context(self) -> ssl.SSLContext:
        """One TLS context for every call: building one reads the CA bundle (~0.1 s of CPU), and a job that waits
        long connects once per check."""
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def close(self) -> None:
        """End every wait now (from any thread); each of those jobs fails this attempt and resumes on the next.

        Nothing is canceled at any agent: a job waiting without a worker is not touched at all.
        """
        with self._lock:
            waiting = list(self._waiting)
        for loop, stop in waiting:
            with contextlib.suppress(RuntimeError):  # that loop has finished already
                loop.call_soon_threadsafe(stop.set)

    async def sweep(self) -> int:
        """Cancel the tasks whose job was withdrawn while it waited without a worker; how many were canceled."""
        return await sweep_orphans(self.registry, self.records, self.egress, settings=self.settings,
                                   environ=self._environ_now(), resolve=self._resolve, ssl_context=self._ssl_context(),
                                   retries=self.cancel_retries)

    async def sweep_forever(self, every_s: float = SWEEP_S) -> None:
        """``sweep`` every ``every_s`` until cancelled (the hub runs one while it serves); a failed sweep is logged."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeping the A2A tasks of withdrawn jobs failed; trying again in %g s", every_s)

    async def __call__(self, job: Job, *, compose: Callable[[Job, str], Message] = build_message) -> dict[str, Any]:
        """Run one attempt of ``job``. ``compose(job, message_id)`` builds the message to send (Camunda's A2A
        client, ``camunda_client``, passes its own: its text, and the task or context it continues)."""
        name = _header(job, "agent")
        result_variable = job.headers.get("resultVariable", "").strip() or DEFAULT_RESULT_VARIABLE
        timeout_s = _timeout(job)
        if not job.element_instance:
            raise A2ACallError(f"job {job.key} does not say its element instance, where the a2a task keeps its record")
        agent = await asyncio.to_thread(self.registry.agents.callable_agent, name)
        record = CallRecord.of_job(job, name, ANSWER_VARIABLE)
        message = compose(job, record.message_id if record else f"agenthub-job-{job.key}-{self._new_id()}")
        stop = asyncio.Event()
        entry = (asyncio.get_running_loop(), stop)
        with self._lock:
            self._waiting.add(entry)
        try:
            outcome, current = await self._call(job, agent, message, record, timeout_s, result_variable, stop)
        finally:
            with self._lock:
                self._waiting.discard(entry)
        await self._handled(job, current)
        if outcome.state == "input-required":
            raise ask_person(job, name, outcome, current)
        value = outcome.to_variable()
        if outcome.state in ("failed", "rejected", "canceled"):
            code = CANCELED if outcome.state == "canceled" else FAILED
            said = outcome.message or f"agent '{name}' reports task {outcome.task_id} as {outcome.state}"
            raise BpmnError(code, said[:MAX_MESSAGE], {result_variable: value})
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
            agent, self.egress, settings=self.settings, environ=self._environ_now(), resolve=self._resolve,
            ssl_context=self._ssl_context(),
        ) as session:
            if remaining is not None and remaining <= 0:
                await self._time_out(job, session, current, timeout_s, result_variable)
            if record is None:
                await self._remember(job, current)
            elif not record.task_id:
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
                    await cancel_quietly(session, task_id)  # a task no attempt would ever wait for
                    raise

            answer = answer_message(job, current)
            if answer is not None:  # a person answered the task's input-required: pass it on, once per round
                current = replace(current, answered=answer[0], job=job.key)
                await self._remember(job, current)
                work = session.send(answer[1], started=started)
            elif current.task_id and current.waited_since is not None:
                # a check after a wait without a worker (or after a restart): the task once, then wait again
                return await self._check(job, session, current, remaining), current
            elif current.task_id:
                log.info("job %s: waiting again for task %s of agent '%s' (nothing is sent again)",
                         job.key, current.task_id, agent.name)
                work = session.follow(current.task_id)
                current = replace(current, resumed=True)
            else:

                async def first_send() -> TaskOutcome:
                    """The message, asking a pushing agent for notifications; one that refuses them (its own egress
                    rules may not reach this hub) gets the message again without, and its task is polled."""
                    nonlocal current
                    push = self._push_config(job, session)
                    if push is None:
                        return await session.send(message, started=started)
                    current = replace(current, push_token=push.token)
                    try:
                        return await session.send(message, started=started, push=push)
                    except _PUSH_REFUSED as exc:
                        if current.task_id:
                            raise
                        log.info("job %s: agent '%s' refused to notify %s (%s: %s); sending without, checking the "
                                 "task itself (and not asking it again for %g min)", job.key, agent.name, push.url,
                                 type(exc).__name__, exc, PUSH_REFUSED_S / 60)
                        with self._lock:
                            self._push_refused[agent.name] = time.monotonic()
                        current = replace(current, push_token=None)
                        return await session.send(message, started=started)

                work = first_send()
            ended = await supervise(
                work, remaining=remaining, stop=stop, inline_s=self.inline_wait_s, check_s=self.job_check_s,
                job_open=lambda: asyncio.to_thread(self._job_open, job), may_leave=lambda: bool(current.task_id),
            )
            if isinstance(ended, TaskOutcome):
                return ended, current
            if ended == "inline":  # the task runs on: wait for it without holding the worker's slot
                await self._leave(job, current, remaining)
            if ended == "timeout":
                await self._time_out(job, session, current, timeout_s, result_variable)
            if ended == "withdrawn":
                if current.task_id:
                    await cancel_quietly(session, current.task_id)
                await self._handled(job, current)
                raise WaitEnded(
                    f"job {job.key} was withdrawn while it waited for agent '{agent.name}' "
                    f"(task {current.task_id or 'not started'}, canceled there)"
                )
            raise WaitEnded(
                f"the hub is stopping; the next attempt of job {job.key} goes on waiting for task "
                f"{current.task_id or '(not known yet)'} of agent '{agent.name}'"
            )

    async def _check(
        self, job: Job, session: AgentSession, record: CallRecord, remaining: float | None
    ) -> TaskOutcome:
        """Read the task once: its outcome when it ended or asks for input, else ``WaitRemote`` again."""
        assert record.task_id is not None
        task = await session.get(record.task_id)
        if task.status.state in TERMINAL or task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            return TaskOutcome.of_task(task)
        raise self._wait(record, remaining, state_name(task.status.state))

    async def _leave(self, job: Job, record: CallRecord, remaining: float | None) -> NoReturn:
        """Leave the worker's slot: the hub's list of waiting calls names the task, then ``WaitRemote``, which
        writes the record with ``waitedSince`` in the transaction that starts the wait."""
        assert record.task_id is not None
        token_hash = secret_digest(record.push_token) if record.push_token else None
        await self._calls.add(RemoteCall(job.key, job.instance, record.agent, record.task_id, self._now_ms(),
                                         token_hash))
        waited = replace(record, waited_since=self._now_ms()) if record.waited_since is None else record
        wait = self._wait(waited, remaining, "working")
        wait.variables[RECORD_VARIABLE] = waited.to_json()
        raise wait

    def _push_config(self, job: Job, session: AgentSession) -> TaskPushNotificationConfig | None:
        """Where the agent notifies the task's updates, so that a wait without a worker is checked at once rather
        than at its next check: given when the hub has a URL for it and the agent's card says it pushes. A fresh
        token per call; only its hash is kept (``registry.a2a_calls``), and a push that does not carry it is
        refused (``hub.a2a_push``). A push only brings the check forward: the outcome is still read from the
        agent (GetTask), never taken from the notification."""
        if self.push_base is None or not session.pushes:
            return None
        with self._lock:
            refused = self._push_refused.get(session.name)
        if refused is not None and time.monotonic() - refused < PUSH_REFUSED_S:
            return None  # it refused lately: each call would cost it a refused request first
        return TaskPushNotificationConfig(url=f"{self.push_base}{PUSH_PATH}{job.key}", token=secrets.token_urlsafe(24))

    def _wait(self, record: CallRecord, remaining: float | None, state: str) -> WaitRemote:
        """The durable wait until the next check: as long as the task has run so far, within the bounds and the
        timeout, so the waits double (a task that takes an hour is looked at every 30 s, one that takes seconds
        within a second or two of its end).

        Rejected: a backoff counter in the record, written at every check: a journal event each time, for every
        waiting call, for as long as it waits. The time since the first send, recorded already, gives the same
        doubling for nothing.
        """
        ran_s = max(self._now_ms() - record.sent_at, 0) / 1000
        delay = min(max(ran_s, MIN_CHECK_S), MAX_CHECK_S)
        if remaining is not None:
            delay = min(delay, max(remaining, 0.0))  # the next check at the deadline at the latest: it times out
        return WaitRemote(delay, f"A2A task {record.task_id} of agent '{record.agent}' ({state})")

    async def _time_out(
        self, job: Job, session: AgentSession, record: CallRecord, timeout_s: float | None, result_variable: str
    ) -> NoReturn:
        if record.task_id:
            await cancel_quietly(session, record.task_id)
        await self._handled(job, record)
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

    async def _handled(self, job: Job, record: CallRecord) -> None:
        """The task's outcome is in hand: the hub's list of waiting calls forgets the job (it may hold none).

        Asked whenever the job may be listed: it waited without a worker, or this attempt resumed a task an
        earlier attempt started (that one may have listed the call and then lost its wait's report).
        """
        if record.waited_since is not None or record.resumed:
            await self._calls.remove(job.key)

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


def _header(job: Job, name: str) -> str:
    return required_header(job, name, kind="a2a", known="agent, and optionally skill, resultVariable, timeout",
                           error=InvalidCallTask)


def _timeout(job: Job) -> float | None:
    return timeout_header(job, maximum=MAX_TIMEOUT_S, error=InvalidCallTask)
