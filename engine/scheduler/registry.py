"""Job handlers, registered by job type with ``@worker("charge-card")``."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Job:
    """What a handler receives.

    ``key`` is stable across retries: pass it on as an idempotency key to
    whatever the handler changes outside, since a job runs at least once.
    """

    key: int
    type: str
    variables: dict[str, Any]
    headers: dict[str, str]
    retries: int
    instance: int
    element_id: str
    process_id: str
    element_instance: int = 0  # the task's element instance: the scope of variables local to this job's task


Result: TypeAlias = dict[str, Any] | None
Handler: TypeAlias = Callable[[Job], Result] | Callable[[Job], Awaitable[Result]]


@dataclass(slots=True)
class WorkerRegistry:
    handlers: dict[str, Handler] = field(default_factory=dict)

    def register(self, job_type: str, handler: Handler) -> None:
        if not job_type:
            raise ValueError("a worker needs a job type")
        self.handlers[job_type] = handler

    def types(self) -> list[str]:
        return sorted(self.handlers)

    def is_async(self, job_type: str) -> bool:
        """Whether the handler is a coroutine function, or an object whose ``__call__`` is one."""
        handler = self.handlers[job_type]
        return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__)


default_registry = WorkerRegistry()


def worker(job_type: str, *, registry: WorkerRegistry | None = None) -> Callable[[Handler], Handler]:
    """Register ``def handler(job)`` (or ``async def``) for jobs of ``job_type``.

    An ``async def`` handler runs on the worker loop's event loop, beside the
    others: it must not block (hand blocking work to ``asyncio.to_thread``). A
    plain ``def`` handler runs on one of the loop's threads.

    The handler returns a dict of variables (or None). Raising
    ``engine.BpmnError(code, message)`` throws a BPMN error; any other
    exception fails the attempt, and the job is retried with backoff until
    its retries run out, which raises an incident.
    """

    def register(handler: Handler) -> Handler:
        (registry or default_registry).register(job_type, handler)
        return handler

    return register
