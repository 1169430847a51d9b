"""The job handler of Camunda's AI Agent Task (``io.camunda.agenticai:aiagent:1``): one model turn per job.

    workers.register(TASK_TYPE, CamundaOutbound(CamundaAgentTask(engine, model_task)))

(no secret provider for ``CamundaOutbound``: the provider's ``{{secrets.NAME}}``
are resolved at the model call and scrubbed from what it returns, as for a
sub-process agent, so a run on ``AGENTHUB_CAMUNDA_MODEL`` needs none of them)

Each job is one turn (``engine.agent.camunda_task``): the tools are read from
the deployed process the instance runs (the ad-hoc subprocess that
``data.tools.containerElementId`` names), the model is the one a Camunda
agent's model step gets (``ModelTask.model_for``: its ``provider``, or the
hub's ``AGENTHUB_CAMUNDA_MODEL``), and the answer is Camunda's ``agent``,
which the task header ``resultVariable`` names, as the element template sets it.

Failures are Camunda's connector errors, so the task's ``errorExpression``
sees ``error.code`` and may throw a BPMN error: ``MAXIMUM_NUMBER_OF_MODEL_CALLS_REACHED``,
``NO_USER_MESSAGE_CONTENT`` and ``TOOL_CALL_RESULTS_ON_EMPTY_CONTEXT`` leave no
retries (another attempt ends the same); ``FAILED_MODEL_CALL`` (the provider
failed, or the model called a tool that does not exist or with arguments that
do not fit) and ``FAILED_TO_PARSE_RESPONSE_CONTENT`` are retried, as a new
attempt asks the model again. Unhandled, the last attempt raises an incident.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from engine import InstanceView
from engine.agent.camunda_task import TASK_TYPE, AgentTaskError, discovery_result, task_result, task_turn
from engine.agent.turn import AgentTurn
from engine.model import Process
from engine.scheduler import Job
from protocols.http.exceptions import ConnectorError, ConnectorInputError
from protocols.llm.exceptions import ModelError, ModelUnavailable, UnknownModel
from protocols.llm.model_task import ModelTask
from protocols.llm.traced import complete

__all__ = ["TASK_TYPE", "CamundaAgentTask", "ProcessSource"]

MODEL_CALL_ERROR: Final = "FAILED_MODEL_CALL"


class ProcessSource(Protocol):
    """Where a job's process comes from: ``engine.Engine`` in the hub."""

    def instance(self, key: int) -> InstanceView: ...

    def process(self, process_id: str, version: int | None = None) -> Process: ...


class CamundaAgentTask:
    """Takes one turn of a Camunda AI Agent Task; put it under ``CamundaOutbound`` for the task headers."""

    def __init__(self, processes: ProcessSource, models: ModelTask) -> None:
        self.processes = processes
        self.models = models

    def __call__(self, job: Job) -> Any:
        where = f"Camunda AI Agent Task '{job.element_id}'"
        if not (job.headers.get("resultVariable") or "").strip() and not job.headers.get("resultExpression"):
            raise ConnectorInputError(f"{where}: the task header resultVariable is missing; Camunda's element "
                                      "template sets it to 'agent', the variable the process reads the answer from")
        view = self.processes.instance(job.instance)
        process = self.processes.process(view.process_id, view.version)
        try:
            turn = task_turn(process, job.variables, instance=job.instance, definition=None,
                             conversation_id=f"{job.instance}-{job.element_instance}")
        except AgentTaskError as exc:
            raise _connector_error(where, exc) from None
        discovering = discovery_result(turn)
        if discovering is not None:  # the gateways list their tools first: no model call this time
            return discovering
        asked = AgentTurn(job=job.key, instance=job.instance, element_id=job.element_id,
                          element_instance=job.element_instance, model=turn.model, model_endpoint=None,
                          messages=turn.messages, tools=turn.tools, model_calls=turn.model_calls,
                          provider=turn.provider)
        try:
            asked = self.models.read_documents(asked)
            reply = complete(self.models.model_for(asked), asked)
        except (UnknownModel, ModelUnavailable) as exc:  # no retry helps (a document the hub cannot send)
            raise ConnectorInputError(f"{where}: {exc}", code=MODEL_CALL_ERROR) from None
        except ModelError as exc:
            raise ConnectorError(f"{where}: {exc}", code=MODEL_CALL_ERROR) from None
        try:
            return task_result(turn, reply.answer, reply.usage, job.variables.get("data"))
        except AgentTaskError as exc:
            raise _connector_error(where, exc) from None


def _connector_error(where: str, exc: AgentTaskError) -> ConnectorError:
    if exc.retry:
        return ConnectorError(f"{where}: {exc}", code=exc.code)
    return ConnectorInputError(f"{where}: {exc}", code=exc.code)
