"""What a worker reports on a job, as values: ``Engine.report_jobs`` applies a list of them in one commit.

Each mirrors one of the engine's single report commands (``complete_job``,
``fail_job``, ``throw_error``, ``park_job``, ``wait_job``) and carries the lease the job
was activated with. Plain data, apart from the engine, so the worker loop
builds them without importing the engine's commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.exceptions import AskPerson, WaitRemote


@dataclass(frozen=True, slots=True)
class CompleteReport:
    """``complete_job`` as one report of ``report_jobs``."""

    key: int
    worker: str
    lock_version: int
    variables: dict[str, Any] | None = None
    result: dict[str, Any] | None = None  # a task listener's: {"denied", "deniedReason", "corrections"}


@dataclass(frozen=True, slots=True)
class FailReport:
    """``fail_job`` as one report of ``report_jobs`` (its result: the retries left)."""

    key: int
    message: str
    worker: str
    lock_version: int
    retries: int | None = None
    backoff_ms: int = 0


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """``throw_error`` as one report of ``report_jobs``."""

    key: int
    code: str
    worker: str
    lock_version: int
    message: str = ""
    variables: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ParkReport:
    """``park_job`` as one report of ``report_jobs``."""

    key: int
    ask: AskPerson
    worker: str
    lock_version: int


@dataclass(frozen=True, slots=True)
class WaitReport:
    """``wait_job`` as one report of ``report_jobs``: the handler raised ``WaitRemote``."""

    key: int
    wait: WaitRemote
    worker: str
    lock_version: int


JobReport = CompleteReport | FailReport | ErrorReport | ParkReport | WaitReport
