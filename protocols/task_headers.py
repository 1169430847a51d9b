"""Reading the task headers of built-in service task types (``mcp``, ``a2a``), with errors that name the header."""

from __future__ import annotations

import math

from engine.scheduler import Job

__all__ = ["required_header", "timeout_header"]


def required_header(job: Job, name: str, *, kind: str, known: str, error: type[Exception]) -> str:
    """The header's value; ``error`` says it is missing, listing the headers ``known`` to the task type ``kind``."""
    value = job.headers.get(name, "").strip()
    if not value:
        raise error(f"service task '{job.element_id}' of type '{kind}' needs the task header '{name}' "
                    f"(headers: {known})")
    return value


def timeout_header(job: Job, *, maximum: float, error: type[Exception]) -> float | None:
    """The ``timeout`` header in seconds (None when absent); ``error`` when it is not a number in (0, maximum]."""
    raw = job.headers.get("timeout", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= maximum:
        raise error(f"service task '{job.element_id}': task header 'timeout' must be a number of seconds between 0 "
                    f"and {maximum:g}, not '{raw}'")
    return value
