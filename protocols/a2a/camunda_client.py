"""Camunda's A2A client connector, job type ``io.camunda.agenticai:a2aclient:0``, on our ``a2a`` job type's machinery.

Inputs are Camunda's (its ``a2a.client.v0`` element template):

- ``data.connection.url`` (and optionally ``data.connection.agentCardLocation``):
  must be an agent registered in our registry (``agenthub agent add URL``),
  matched by its URL or its card's address. An unregistered URL is refused
  with no retries (an incident that says how to register it); an agent whose
  card changed since it was approved is held until approved again. Nothing
  is fetched from an unregistered address.
- ``data.connectorMode.type`` ``standalone``: ``operation.type`` is
  ``fetchAgentCard`` (the card is fetched, through the egress rules, and
  checked against the pin: a card that differs is recorded in the registry,
  which holds the agent until an admin approves it) or ``sendMessage`` (``operation.params.text``, ``taskId``,
  ``contextId``, ``referenceTaskIds``; ``operation.settings``).
- ``data.connectorMode.type`` ``aiAgentTool`` (an agent's gateway tool,
  ``engine.agent.gateway_a2a``): ``toolOperation.operation`` and
  ``toolOperation.params`` come from the agent's ``toolCall``;
  ``toolOperation.sendMessageSettings``.

The answer is Camunda's ``A2aClientResponse``: ``{result, pollingData?,
pushNotificationData?}``, where ``result`` is ``{kind: "agentCard", name,
description, skills}``, ``{kind: "message", role, messageId, contextId, taskId,
contents}`` or ``{kind: "task", id, contextId, status: {state, message?},
artifacts?}``, contents being ``{type: "text", text}`` or ``{type: "object",
content}``. Task headers (``resultVariable``, ``resultExpression``,
``errorExpression``) apply as for every Camunda connector (``CamundaOutbound``).

Sending runs on ``A2ACallTask`` (egress rules, bearer token, the record kept
for retries, the durable wait that frees the worker's slot while the remote
task works: ``engine.WaitRemote``). Every response retrieval mode waits that
way: ``blocking`` within ``settings.timeout`` (an ISO 8601 duration; then the
task is canceled and the connector error ``A2A_CLIENT_SEND_MESSAGE_RESPONSE_TIMEOUT``
is raised), ``polling`` and ``notification`` without a limit. The answer is the
task once it ends or asks for input, as Camunda's inbound polling connector
would correlate it; ``polling`` adds ``pollingData.id`` (the task's or
message's id), ``notification`` ``pushNotificationData.token``.
A failed, rejected or canceled task is an answer (``status.state``), not an
error, as in Camunda: the agent's model reads it.

Answering at once: when the job's process has Camunda's catch event for the
mode (``protocols.a2a.camunda_inbound``: the ``a2aclient:polling:0`` connector
for ``polling``, ``a2aclient:webhook:0`` for ``notification``), a standalone
send answers as Camunda does, with the task as the agent first describes it
(usually ``submitted`` or ``working``) and ``pollingData.id`` or
``pushNotificationData.token``; ``notification`` then asks the agent to push
the task's updates to ``responseRetrievalMode.webhookUrl`` with that token (and
``authenticationSchemes``/``credentials`` as its authentication). The catch
event waits on its message subscription, durably and without a worker: the
hub polls the task (``protocols.a2a.camunda_polling``) or receives the push
(``hub.inbound``). The message id is ``agenthub-job-<job key>``, the same on a
retry, for an agent that deduplicates.
Rejected: answering at once without such a catch event, as Camunda always
does: nothing in the model would ever bring the result, and the durable wait
already does that connector's work.

Not done: documents (refused), ``historyLength`` (the task's history is not
returned), and the webhook configuration of ``notification`` without a
webhook catch event (the hub waits itself, it gives the agent no webhook).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from a2a.types import AuthenticationInfo, Message, TaskPushNotificationConfig

from engine import BpmnError, Engine
from engine.agent.camunda import nested
from engine.exceptions import AskPerson
from engine.scheduler import Job
from engine.scheduler.timers import duration_seconds
from protocols.a2a.call_message import ANSWER_VARIABLE, build_message
from protocols.a2a.call_record import RECORD_VARIABLE
from protocols.a2a.call_task import MAX_TIMEOUT_S, A2ACallTask
from protocols.a2a.camunda_inbound import POLLING_TYPE, WEBHOOK_TYPE, catching
from protocols.a2a.camunda_results import agent_card_result, send_result
from protocols.a2a.cards import CardError, card_url, fetch_card
from protocols.a2a.client import connect
from protocols.http import ConnectorInputError
from protocols.http.exceptions import ConnectorError
from protocols.http.routes import HttpRoutes
from registry import Registry, RemoteAgent, ToolBlocked

__all__ = ["A2A_CLIENT_JOB_TYPE", "CARD_CODE", "TIMEOUT_CODE", "CamundaA2aClient", "registered_agent"]

A2A_CLIENT_JOB_TYPE: Final = "io.camunda.agenticai:a2aclient:0"
TIMEOUT_CODE: Final = "A2A_CLIENT_SEND_MESSAGE_RESPONSE_TIMEOUT"
CARD_CODE: Final = "ERROR_CODE_A2A_CLIENT_AGENT_CARD_RETRIEVAL_FAILED"  # sic: Camunda's value
_OUTCOME: Final = "a2aOutcome"  # where the a2a machinery puts its answer, inside this handler only
_MODES: Final = ("blocking", "polling", "notification")


class CamundaA2aClient:
    """The handler of ``io.camunda.agenticai:a2aclient:0``, sending through ``calls`` (the hub's ``a2a`` handler)."""

    def __init__(self, calls: A2ACallTask, engine: Engine | None = None) -> None:
        self.calls = calls
        self.engine = engine  # where the models are read, to see whether an A2A catch event waits (None: never)
        self._catches: dict[tuple[str, int], frozenset[str]] = {}

    async def __call__(self, job: Job) -> dict[str, Any]:
        where = f"task '{job.element_id}' of process '{job.process_id}'"
        data = job.variables.get("data")
        mode = nested(data, "connectorMode", "type")
        if mode == "standalone":
            operation = nested(data, "connectorMode", "operation", "type")
            params = nested(data, "connectorMode", "operation", "params")
            settings = nested(data, "connectorMode", "operation", "settings")
        elif mode == "aiAgentTool":
            operation = nested(data, "connectorMode", "toolOperation", "operation")
            params = nested(data, "connectorMode", "toolOperation", "params")
            settings = nested(data, "connectorMode", "toolOperation", "sendMessageSettings")
        else:
            raise ConnectorInputError(f"{where}: data.connectorMode.type must be standalone or aiAgentTool, "
                                      f"not {mode!r}")
        if operation not in ("fetchAgentCard", "sendMessage"):
            raise ConnectorInputError(f"{where}: the A2A operation must be fetchAgentCard or sendMessage, "
                                      f"not {operation!r}")
        agent = await asyncio.to_thread(self._agent, data, where)
        if operation == "fetchAgentCard":
            return {"result": agent_card_result(await self._fetch_card(agent, where))}
        at_once = mode == "standalone" and await self._caught(job, nested(settings, "responseRetrievalMode", "type"))
        return await self._send(job, agent, params, settings, where, at_once=at_once)

    async def _fetch_card(self, agent: RemoteAgent, where: str) -> dict[str, Any]:
        """The agent's card as it is now, through the egress rules; one that differs from the approved pin is
        recorded (the registry audits it) and holds the agent until an admin approves it."""
        try:
            card = await fetch_card(agent.url, egress=self.calls.egress, token_env=agent.token_env)
        except CardError as exc:
            raise ConnectorError(f"{where}: {exc}", code=CARD_CODE) from None
        now = await asyncio.to_thread(self.calls.registry.agents.refresh, agent.name, card,
                                      actor=f"{A2A_CLIENT_JOB_TYPE} {where}")
        if not now.callable:
            raise ToolBlocked(f"{where}: agent '{agent.name}' now shows a card that differs from the approved one; "
                              f"it is held until an admin approves it (`agenthub agent approve {agent.name}`)")
        return card

    def _agent(self, data: Any, where: str) -> RemoteAgent:
        return registered_agent(self.calls.registry, data, where, self.calls.routes)

    async def _caught(self, job: Job, retrieval: Any) -> bool:
        """Whether the job's process has Camunda's A2A catch event for ``retrieval`` (polling, notification)."""
        wanted = {"polling": POLLING_TYPE, "notification": WEBHOOK_TYPE}.get(str(retrieval))
        if wanted is None or self.engine is None:
            return False
        engine = self.engine
        version = (await asyncio.to_thread(engine.instance, job.instance)).version
        key = (job.process_id, version)
        if key not in self._catches:
            process = await asyncio.to_thread(engine.process, job.process_id, version)
            self._catches[key] = frozenset(k for k in (POLLING_TYPE, WEBHOOK_TYPE) if catching(process, k))
        return wanted in self._catches[key]

    async def _submit(self, job: Job, agent: RemoteAgent, message: Message, settings: Any,
                      where: str) -> dict[str, Any]:
        """Send and answer at once, as Camunda does when a catch event waits for the task's end."""
        mode = nested(settings, "responseRetrievalMode")
        push = None
        if nested(mode, "type") == "notification":
            url = nested(mode, "webhookUrl")
            if not isinstance(url, str) or not url.strip():
                raise ConnectorInputError(f"{where}: notification mode needs responseRetrievalMode.webhookUrl, where "
                                          "the agent sends the task's updates (the hub's /inbound/<webhook id>)")
            token = nested(mode, "token")
            push = TaskPushNotificationConfig(url=url.strip(), token=str(token) if token else "")
            schemes, credentials = nested(mode, "authenticationSchemes"), nested(mode, "credentials")
            scheme = schemes[0] if isinstance(schemes, list) and schemes else schemes
            if isinstance(scheme, str) and scheme.strip():
                push.authentication.CopyFrom(AuthenticationInfo(scheme=scheme.split(",")[0].strip(),
                                                                credentials=str(credentials or "")))
        async with connect(agent, self.calls.egress, settings=self.calls.settings) as session:
            outcome = await session.submit(message, push=push)
        response: dict[str, Any] = {"result": send_result(outcome.to_variable())}
        if push is not None and push.token:
            response["pushNotificationData"] = {"token": push.token}
        elif push is None:
            response["pollingData"] = {"id": response["result"].get("id") or response["result"].get("messageId")}
        return response

    async def _send(self, job: Job, agent: RemoteAgent, params: Any, settings: Any, where: str, *,
                    at_once: bool = False) -> dict[str, Any]:
        text = nested(params, "text")
        if not isinstance(text, str) or not text.strip():
            raise ConnectorInputError(f"{where}: sendMessage needs the message's text (params.text)")
        if nested(params, "documents"):
            raise ConnectorInputError(f"{where}: sending documents to an A2A agent is not supported; send text")
        retrieval = nested(settings, "responseRetrievalMode", "type") or "blocking"
        if retrieval not in _MODES:
            raise ConnectorInputError(f"{where}: responseRetrievalMode.type must be one of {', '.join(_MODES)}, "
                                      f"not {retrieval!r}")
        headers = {"agent": agent.name, "resultVariable": _OUTCOME}
        timeout = nested(settings, "timeout")
        if retrieval == "blocking" and isinstance(timeout, str) and timeout.strip():
            headers["timeout"] = str(_seconds(timeout, where))
        continued = {name: nested(params, name) for name in ("taskId", "contextId", "referenceTaskIds")}
        variables = {k: job.variables[k] for k in (RECORD_VARIABLE, ANSWER_VARIABLE) if k in job.variables}
        inner = Job(job.key, job.type, {**variables, "text": text}, headers, job.retries, job.instance,
                    job.element_id, job.process_id, job.element_instance)

        def compose(of: Job, message_id: str) -> Message:
            message = build_message(of, message_id)
            if isinstance(continued["taskId"], str) and continued["taskId"]:
                message.task_id = continued["taskId"]
            if isinstance(continued["contextId"], str) and continued["contextId"]:
                message.context_id = continued["contextId"]
            references = continued["referenceTaskIds"]
            if isinstance(references, list):
                message.reference_task_ids.extend(str(r) for r in references if r)
            return message

        if at_once:
            return await self._submit(job, agent, compose(inner, f"agenthub-job-{job.key}"), settings, where)
        try:
            outcome = (await self.calls(inner, compose=compose))[_OUTCOME]
        except AskPerson as asked:  # input-required: Camunda hands the task back, for its caller to answer
            details = asked.details
            outcome = {"taskId": details.get("taskId"), "contextId": details.get("contextId"),
                       "state": "input-required", "artifacts": details.get("artifacts") or [],
                       "message": details.get("question")}
        except BpmnError as error:
            if error.code == "A2A_TIMEOUT":
                raise ConnectorError(f"{where}: {error.message}", code=TIMEOUT_CODE) from None
            outcome = error.variables[_OUTCOME]  # failed, rejected, canceled: an answer, as in Camunda
        result = send_result(outcome)
        response: dict[str, Any] = {"result": result}
        if retrieval == "polling":
            response["pollingData"] = {"id": result.get("id") or result.get("messageId")}
        token = nested(settings, "responseRetrievalMode", "token")
        if retrieval == "notification" and isinstance(token, str) and token:
            response["pushNotificationData"] = {"token": token}
        return response


def registered_agent(registry: Registry, data: Any, where: str, routes: HttpRoutes) -> RemoteAgent:
    """The registered agent at ``data.connection.url`` (a registry read: run it on a thread), after the operator's
    ``routes`` sent it where they say; refused when none is, or when its card changed since it was approved."""
    url = nested(data, "connection", "url")
    if not isinstance(url, str) or not url.strip():
        raise ConnectorInputError(f"{where}: data.connection.url must be the A2A agent's URL")
    routed, at = routes.routed(url.strip().rstrip("/"))
    base = routed.rstrip("/")
    location = nested(data, "connection", "agentCardLocation")
    wanted = {base, card_url(base)}
    if isinstance(location, str) and location.strip():
        wanted.add(f"{base}/{location.strip().lstrip('/')}")
    agents = registry.agents
    for agent in agents.all():
        if {agent.url.rstrip("/"), card_url(agent.url.rstrip("/"))} & wanted:
            return agents.callable_agent(agent.name)  # a changed card holds the agent until approved
    raise ConnectorInputError(
        f"{where}: the A2A agent at {at} is not registered, and only registered agents (whose cards are "
        f"pinned and approved) are called; register it with `agenthub agent add {base}`")


def _seconds(duration: str, where: str) -> float:
    try:
        seconds = duration_seconds(duration)
    except ValueError as exc:
        raise ConnectorInputError(f"{where}: settings.timeout: {exc}") from None
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise ConnectorInputError(f"{where}: settings.timeout must be a duration between PT0S and P30D, "
                                  f"not {duration!r}")
    return seconds
