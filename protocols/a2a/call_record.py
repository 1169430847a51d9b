"""The record an ``a2a`` job keeps on its element instance, so that a later attempt goes on where one stopped.

The record is the local variable ``a2aTask`` of the service task's element
instance: written by the handler through ``JobRecords`` (the engine) before
the message goes out and again once the agent names its task; read back from
the job's variables by the next attempt. It holds no secret, is journaled like
any variable, and ends with the element instance.

Rejected alternative: a table of its own in the registry. It would outlive
the element instance and need its own cleanup and migrations, while a
variable is committed by the engine's own transaction and removed with the
task it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine import TaskView
from engine.scheduler import Job

__all__ = ["RECORD_VARIABLE", "CallRecord", "JobRecords"]

RECORD_VARIABLE = "a2aTask"


class JobRecords(Protocol):
    """What the handler needs of the engine: a variable on the job's element instance, and the instance's open jobs.

    ``engine.Engine`` is one; tests may pass an in-memory stand-in.
    """

    def set_variables(
        self, instance: int, variables: dict[str, Any], *, scope: int | None = None, local: bool = True
    ) -> None: ...

    def jobs(self, instance: int) -> list[dict[str, Any]]: ...

    def user_tasks(self, *, instance: int | None = None) -> list[TaskView]: ...


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What a later attempt of the job needs to go on where this one stopped (the variable ``a2aTask``)."""

    job: int
    agent: str
    message_id: str
    sent_at: int  # ms since the epoch, by the handler's clock: when the message was first sent
    task_id: str | None = None
    context_id: str | None = None
    answered: int = 0  # the last round of a person's answers (to the task's input-required) sent to the agent
    waited_since: int | None = None  # ms since the epoch: when the job first left its worker to wait (WaitRemote)
    # Not kept (never in to_json): this attempt resumed a task an earlier attempt started, which may have listed
    # the call in the hub's list of waiting calls and then lost its wait's report (a lease lost under load).
    resumed: bool = False
    # Not kept either: the token this attempt gave the agent for push notifications (only its hash is stored, in
    # the hub's list of waiting calls, when the job leaves its worker; an attempt that did not send has none).
    push_token: str | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "job": self.job,
            "agent": self.agent,
            "messageId": self.message_id,
            "sentAt": self.sent_at,
        }
        if self.task_id:
            found["taskId"] = self.task_id
        if self.context_id:
            found["contextId"] = self.context_id
        if self.answered:
            found["answered"] = self.answered
        if self.waited_since is not None:
            found["waitedSince"] = self.waited_since
        return found

    @classmethod
    def of_job(cls, job: Job, agent: str, answer_variable: str = "a2aInput") -> CallRecord | None:
        """The record an earlier attempt of this very job left for this agent, if any.

        A job that asked a person (the remote task's input-required) comes back
        under a new key; the answer names the parked job, whose record goes on.
        """
        raw = job.variables.get(RECORD_VARIABLE)
        answer = job.variables.get(answer_variable)
        parked = answer.get("job") if isinstance(answer, Mapping) else None
        if not isinstance(raw, Mapping) or raw.get("job") not in (job.key, parked) or raw.get("agent") != agent:
            return None
        message_id, sent_at = raw.get("messageId"), raw.get("sentAt")
        if not isinstance(message_id, str) or not isinstance(sent_at, int):
            return None
        task_id, context_id, answered = raw.get("taskId"), raw.get("contextId"), raw.get("answered")
        waited = raw.get("waitedSince")
        return cls(
            job.key,
            agent,
            message_id,
            sent_at,
            task_id if isinstance(task_id, str) else None,
            context_id if isinstance(context_id, str) else None,
            answered if isinstance(answered, int) and not isinstance(answered, bool) else 0,
            waited if isinstance(waited, int) and not isinstance(waited, bool) else None,
        )
