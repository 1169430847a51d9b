"""agenthub's BPMN engine: parse, run and persist processes, with no network and no protocol knowledge.

Owns: the BPMN model and parser, FEEL, the deterministic step, the store,
the job scheduler and the facade that wires them (``Engine``).

Does not know: HTTP, MCP, A2A, models or anything of the layers above; they
plug in through ``engine.ports`` and job handlers.

    from engine import Engine, worker, BpmnError

    @worker("charge-card")
    def charge(job):
        return {"charged": True}
"""

from engine.actor import Actor, Channel
from engine.engine import Engine
from engine.exceptions import (
    AskPerson,
    BpmnError,
    Conflict,
    DeploymentError,
    EngineError,
    FieldError,
    FormInvalid,
    InvalidInput,
    JobLost,
    NotFound,
    PersonAnswer,
    WaitRemote,
)
from engine.scheduler import Job, WorkerLoop, WorkerRegistry, WorkerSettings, worker
from engine.store.task_order import TASK_SORTS
from engine.views import ActivatedJob, DeployedProcess, IncidentView, InstanceView, TaskView

__all__ = [
    "TASK_SORTS",
    "ActivatedJob",
    "Actor",
    "AskPerson",
    "BpmnError",
    "Channel",
    "Conflict",
    "DeployedProcess",
    "DeploymentError",
    "Engine",
    "EngineError",
    "FieldError",
    "FormInvalid",
    "IncidentView",
    "InstanceView",
    "InvalidInput",
    "Job",
    "JobLost",
    "NotFound",
    "PersonAnswer",
    "TaskView",
    "WaitRemote",
    "WorkerLoop",
    "WorkerRegistry",
    "WorkerSettings",
    "worker",
]
