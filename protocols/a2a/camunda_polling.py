"""Camunda's A2A polling connector (``io.camunda.agenticai:a2aclient:polling:0``): the hub polls the remote task.

An intermediate catch event or receive task with that ``inbound.type``
waits on its message subscription, whose correlation key Camunda's template
sets to the sender's ``pollingData.id``. While the hub serves, ``poll_forever``
goes over the waiting subscriptions at such elements, as Camunda's inbound
runtime does (``A2aPollingProcessInstancesFetcherTask`` and ``A2aPollingTask``):

1. the element's ``clientResponse`` (``protocols.a2a.camunda_inbound.client_response``);
   a message, or a task no longer ``submitted``/``working``, needs no polling;
2. otherwise the task (``result.id``) is read once (GetTask) from the agent at
   ``data.connection.url``, which must be registered and approved, through the
   egress rules, at most every ``data.taskPollingInterval`` (default PT10S)
   per subscription; the sweep itself runs every ``data.processPollingInterval``
   (the smallest of the deployed elements', default PT5S);
3. ``{result, pollingData}`` is checked against ``activationCondition``
   (FEEL over it; absent: true), and when it holds the subscription's message
   is published with its correlation key and the variables
   ``resultVariable`` / ``resultExpression`` give (Camunda's default
   ``={response: result}``).

The wait is the subscription's: nothing is held while a task runs, a hub
that restarts polls again, and a boundary event or a cancel simply closes the
subscription. A poll that fails is never silent (Camunda writes it to the
connector's activity log and polls on forever; we show it where the instance
is looked at): its error, the failures in a row and the next poll go on the
element's ``waitingFor`` (``Engine.note_wait``, kept on the subscription's row,
so another hub and a restarted one see it and count on), and it is tried again
at the next interval. A poll that cannot succeed (the task is gone: TaskNotFound
or HTTP 404/410; the agent is no longer registered; no ``clientResponse`` to
poll for), or the ``agenthub.maxPollFailures``-th failure in a row (a
``zeebe:property`` of the element, default 5), puts the element in an incident
that says why (``Engine.raise_wait_incident``); resolving it (``agenthub
retry``, ``POST /api/v1/incidents/{key}/resolve``) polls again, counting from zero. ``data.historyLength``
(default 3) is asked of the agent and the task's last messages are the result's ``history``, as Camunda's
``A2aTask`` carries them. The element's ``messageIdExpression`` (FEEL over ``{result, pollingData}``) and
``messageTtl`` (an ISO 8601 duration) are the published message's id and time to live, as Camunda's inbound
runtime sets them: a message with an id that is still buffered is not published twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

import httpx

from engine import Actor, Channel, Conflict, Engine
from engine.feel import compile_expression, strip_marker, to_json
from engine.model import FlowNode, Process
from engine.scheduler.timers import TimerDefinitionError, duration_seconds
from protocols.a2a.call_task import A2ACallTask
from protocols.a2a.camunda_client import registered_agent
from protocols.a2a.camunda_inbound import POLLING_TYPE, catching, client_response, property_of
from protocols.a2a.camunda_results import history_result, send_result
from protocols.a2a.client import TaskOutcome, connect
from protocols.a2a.client_errors import RemoteTaskLost
from protocols.http import ConnectorInputError

__all__ = ["CamundaA2aPolling"]

log = logging.getLogger("agenthub.a2a.camunda")

_RUNNING: Final = ("submitted", "working")
_TASK_INTERVAL_S: Final = 10.0  # Camunda's default data.taskPollingInterval
_SWEEP_S: Final = 5.0  # Camunda's default data.processPollingInterval
_IDLE_S: Final = 1.0  # how soon a hub with no polling element deployed looks again (a definitions read)
_MIN_S, _MAX_S = 0.05, 300.0
DEFAULT_HISTORY_LENGTH: Final = 3  # Camunda's default data.historyLength
_MAX_FAILURES: Final = 5  # failed polls in a row before the element's incident (agenthub.maxPollFailures)
_GONE: Final = (404, 410)
INCIDENT_TYPE: Final = "a2aPolling"


def _seconds(raw: str | None, default: float) -> float:
    if raw is None:
        return default
    try:
        seconds = duration_seconds(raw.strip())
    except (TimerDefinitionError, ValueError):
        return default
    return min(max(seconds, _MIN_S), _MAX_S)


def _ttl_ms(raw: str | None, where: str) -> int:
    """``messageTtl`` (an ISO 8601 duration; absent: 0, the message is not buffered) in milliseconds."""
    if raw is None or not raw.strip():
        return 0
    try:
        seconds = duration_seconds(strip_marker(raw).strip())
    except (TimerDefinitionError, ValueError):
        raise ConnectorInputError(f"{where}: messageTtl must be an ISO 8601 duration (PT1H), not {raw!r}") from None
    if seconds < 0:
        raise ConnectorInputError(f"{where}: messageTtl must not be negative, not {raw!r}")
    return int(seconds * 1000)


def _message_id(expression: str | None, response: dict[str, Any], where: str) -> str | None:
    """``messageIdExpression`` (FEEL over ``{result, pollingData}``): the published message's id, or None."""
    if expression is None or not expression.strip():
        return None
    value = _evaluate(expression, response)
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ConnectorInputError(f"{where}: messageIdExpression must give a string, not {type(value).__name__}")
    return str(value)


def _evaluate(source: str, variables: dict[str, Any]) -> Any:
    return to_json(compile_expression(strip_marker(source)).evaluate(variables))


def _max_failures(node: FlowNode) -> int:
    raw = property_of(node, "agenthub.maxPollFailures")
    try:
        return max(int(raw), 1) if raw is not None else _MAX_FAILURES
    except ValueError:
        return _MAX_FAILURES


def _cannot_succeed(exc: BaseException) -> bool:
    """A poll that polling again cannot mend: the task is gone, the agent is not registered, nothing to poll for."""
    if isinstance(exc, RemoteTaskLost | ConnectorInputError):
        return True
    cause = exc.__cause__
    return isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code in _GONE


def _needs_polling(response: dict[str, Any]) -> bool:
    result = response.get("result")
    state = result.get("status", {}).get("state") if isinstance(result, dict) else None
    return isinstance(result, dict) and result.get("kind") == "task" and state in _RUNNING


class CamundaA2aPolling:
    """Polls the remote tasks that waiting polling elements are for; ``calls`` gives the registry and egress."""

    def __init__(self, engine: Engine, calls: A2ACallTask) -> None:
        self.engine = engine
        self.calls = calls
        self._models: dict[int, list[FlowNode]] = {}  # polling elements by definition key (a version never changes)
        self._polled: dict[int, float] = {}  # subscription key -> when its task was last read (monotonic)
        self._reported: dict[int, str] = {}  # subscription key -> the last problem logged for it

    def _elements(self) -> dict[tuple[str, int], dict[str, FlowNode]]:
        """The polling elements of every deployed version, by (process id, version) and element id."""
        found: dict[tuple[str, int], dict[str, FlowNode]] = {}
        for row in self.engine.definitions():
            key = int(str(row["key"]))
            if key not in self._models:
                process: Process = self.engine.process(str(row["processId"]), int(str(row["version"])))
                self._models[key] = catching(process, POLLING_TYPE)
            if self._models[key]:
                found[(str(row["processId"]), int(str(row["version"])))] = {n.id: n for n in self._models[key]}
        return found

    def sweep_interval(self) -> float:
        """How often to sweep: the smallest ``data.processPollingInterval`` of the deployed polling elements."""
        nodes = [n for key in self._models for n in self._models[key]]
        return min((_seconds(property_of(n, "data.processPollingInterval"), _SWEEP_S) for n in nodes),
                   default=_IDLE_S)

    async def poll_once(self) -> int:
        """One sweep over the waiting polling elements; how many messages it published."""
        elements = await asyncio.to_thread(self._elements)
        if not elements:
            return 0
        names = {(pid, node.id) for (pid, _), nodes in elements.items() for node in nodes.values()}
        waiting = [s for s in await asyncio.to_thread(self.engine.subscriptions)
                   if s.get("instance") is not None and (s["process"], s["element"]) in names]
        open_keys = {int(s["key"]) for s in waiting}
        for gone in set(self._polled) - open_keys:
            self._polled.pop(gone, None)
            self._reported.pop(gone, None)
        published = 0
        for subscription in waiting:
            published += await self._poll(subscription, elements)
        return published

    async def poll_forever(self) -> None:
        """``poll_once`` every sweep interval until cancelled (the hub runs it while it serves)."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("polling the A2A tasks of waiting elements failed; trying again")
            await asyncio.sleep(self.sweep_interval())

    async def _poll(self, subscription: dict[str, Any], elements: dict[tuple[str, int], dict[str, FlowNode]]) -> int:
        key, instance = int(subscription["key"]), int(subscription["instance"])
        view = await asyncio.to_thread(self.engine.instance, instance)
        node = elements.get((view.process_id, view.version), {}).get(str(subscription["element"]))
        if node is None:
            return 0
        interval = _seconds(property_of(node, "data.taskPollingInterval"), _TASK_INTERVAL_S)
        now = time.monotonic()
        if now - self._polled.get(key, -interval) < interval:
            return 0
        self._polled[key] = now
        waiting_in = subscription.get("elementInstance")
        if any(e.get("incident") for e in view.active_elements if e.get("elementInstance") == waiting_in):
            return 0  # it waits in an incident: once a person resolves it, polling goes on
        where = f"element '{node.id}' of instance {instance}"
        try:
            published = await self._check(subscription, node, view.variables, where)
        except Exception as exc:  # one subscription's trouble never stops the others
            await self._failed(subscription, node, interval, where, exc)
            return 0
        if subscription.get("waitNote"):
            await asyncio.to_thread(self.engine.note_wait, key, None)
        return published

    async def _check(self, subscription: dict[str, Any], node: FlowNode, variables: dict[str, Any],
                     where: str) -> int:
        """Read the task when it still runs, and publish the message once the activation condition holds."""
        response = client_response(node, variables)
        if not isinstance(response, dict) or not isinstance(response.get("result"), dict):
            raise ConnectorInputError("the element has no A2A client response to poll for (map the sender's "
                                      "result to its input internal_clientResponse)")
        if _needs_polling(response):
            response = {**response, "result": await self._read(node, variables, response["result"], where)}
        condition = property_of(node, "activationCondition")
        if condition is not None and _evaluate(condition, response) is not True:
            return 0
        values: dict[str, Any] = {}
        name = property_of(node, "resultVariable")
        if name is not None:
            values[name.strip()] = response
        expression = property_of(node, "resultExpression")
        if expression is not None:
            mapped = _evaluate(expression, response)
            if isinstance(mapped, dict):
                values.update(mapped)
        by = Actor(id=f"a2a-polling:{node.id}", channel=Channel.ENGINE)
        message_id = _message_id(property_of(node, "messageIdExpression"), response, where)
        ttl_ms = _ttl_ms(property_of(node, "messageTtl"), where)
        try:
            await asyncio.to_thread(self.engine.publish_message, str(subscription["name"]),
                                    str(subscription.get("correlationKey") or ""), values, ttl_ms=ttl_ms,
                                    message_id=message_id, by=by)
        except Conflict:  # messageIdExpression: a message with this id is still buffered, as in Camunda: sent once
            log.info("%s: message '%s' with id %s was already published", where, subscription["name"], message_id)
            return 0
        log.info("%s: the A2A task %s ended; published message '%s'", where,
                 response["result"].get("id"), subscription["name"])
        return 1

    async def _read(self, node: FlowNode, variables: dict[str, Any], task: dict[str, Any], where: str) -> Any:
        """The task as the agent describes it now, in Camunda's shape."""
        url = property_of(node, "data.connection.url")
        location = property_of(node, "data.connection.agentCardLocation")
        connection = {"url": _evaluate(url, variables) if url and url.lstrip().startswith("=") else url,
                      "agentCardLocation": location}
        agent = await asyncio.to_thread(registered_agent, self.calls.registry, {"connection": connection}, where,
                                          self.calls.routes)
        length = _history_length(property_of(node, "data.historyLength"), where)
        async with connect(agent, self.calls.egress, settings=self.calls.settings) as session:
            found = await session.get(str(task.get("id")), history_length=length)
        result = send_result(TaskOutcome.of_task(found).to_variable())
        history = history_result(found.history, length)
        if history:
            result["history"] = history  # as Camunda's A2aTask: left out when empty
        return result

    async def _failed(self, subscription: dict[str, Any], node: FlowNode, interval: float, where: str,
                      exc: Exception) -> None:
        """Note the failure on the element's wait; an incident when it cannot succeed or failed too often."""
        key, instance = int(subscription["key"]), int(subscription["instance"])
        problem = f"{type(exc).__name__}: {exc}"[:1000]
        failures = int(subscription.get("waitFailures") or 0) + 1
        limit = _max_failures(node)
        final = _cannot_succeed(exc)
        if not final and failures < limit:
            self._report(subscription, problem, "trying again at the next interval")
            due = int(self.engine.clock.now().timestamp() * 1000 + interval * 1000)
            await asyncio.to_thread(self.engine.note_wait, key, problem, failures=failures, next_check_ms=due)
            return
        why = "polling again cannot succeed" if final else f"{failures} polls in a row failed (the limit)"
        message = (f"polling the A2A task for {where}: {why}; the last: {problem}. Resolve this incident "
                   "(`agenthub retry <incident>`) to poll again")
        self._report(subscription, problem, "an incident holds the element until it is resolved")
        await asyncio.to_thread(self.engine.note_wait, key, problem, failures=0, next_check_ms=None)
        by = Actor(id=f"a2a-polling:{node.id}", channel=Channel.ENGINE)
        try:
            await asyncio.to_thread(self.engine.raise_wait_incident, instance, int(subscription["elementInstance"]),
                                    INCIDENT_TYPE, message, by=by)
        except Exception as refused:  # it stopped waiting meanwhile (a message, a boundary event, a cancel)
            log.info("%s: no incident raised, the element no longer waits: %s", where, refused)

    def _report(self, subscription: dict[str, Any], problem: str, then: str) -> None:
        key = int(subscription["key"])
        if self._reported.get(key) != problem:
            self._reported[key] = problem
            log.warning("A2A polling for instance %s (element '%s'): %s; %s",
                        subscription["instance"], subscription["element"], problem, then)


def _history_length(value: str | None, where: str) -> int:
    """``data.historyLength``: how many of the task's last messages the result carries (Camunda's default 3)."""
    if value is None or not value.strip():
        return DEFAULT_HISTORY_LENGTH
    text = strip_marker(value).strip() if value.lstrip().startswith("=") else value.strip()
    if not text.isdigit():
        raise ConnectorInputError(f"{where}: data.historyLength must be a whole number of messages, not {value!r}")
    return int(text)
