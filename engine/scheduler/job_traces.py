"""The worker loop's telemetry: one span per job, from its claim to its report, and the jobs' metrics.

A job's span continues the trace its instance keeps (``ActivatedJob.trace``),
so the jobs of an instance started by a traced request (an MCP tool call, an
A2A message, a REST call) are children of that request's span, however much
later they run. The handler runs with the span current: what it calls (an
MCP tool, an A2A agent, a model) is a child of it and carries it on. The job
of an agent's tool call carries the GenAI attributes of a tool execution
(``gen_ai.operation.name`` ``execute_tool``, ``gen_ai.tool.name``,
``gen_ai.tool.call.id``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from engine import telemetry
from engine.exceptions import JobLost
from engine.job_reports import CompleteReport, ErrorReport, FailReport, JobReport, ParkReport, WaitReport
from engine.views import ActivatedJob

__all__ = ["JobTraces"]

_OUTCOMES: dict[type[JobReport], str] = {
    CompleteReport: "completed",
    FailReport: "failed",
    ErrorReport: "bpmn-error",
    ParkReport: "parked",
    WaitReport: "waiting",
}


class JobTraces:
    """The open span of every running job of one worker loop, by job key."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[Span, float, str]] = {}

    @contextmanager
    def running(self, job: ActivatedJob) -> Iterator[None]:
        """The job's span, current while its handler runs; ``reported`` ends it."""
        if not telemetry.recording():  # nothing would record it: only its duration is measured
            self._open[job.key] = (trace.INVALID_SPAN, time.perf_counter(), job.type)
            yield
            return
        span = telemetry.tracer().start_span(
            f"job {job.type}",
            context=telemetry.context_of(job.trace),
            kind=SpanKind.CONSUMER,
            attributes={
                "agenthub.job.key": job.key,
                "agenthub.job.type": job.type,
                "agenthub.instance.key": job.instance,
                "agenthub.process.id": job.process_id,
                "agenthub.element.id": job.element_id,
                "agenthub.job.retries": job.retries,
            },
        )
        call = job.variables.get("toolCall")  # an agent's tool call: the loop put its id and tool name in _meta
        meta = call.get("_meta") if isinstance(call, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            span.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": meta["name"],
                    "gen_ai.tool.call.id": str(meta.get("id", "")),
                }
            )
        self._open[job.key] = (span, time.perf_counter(), job.type)
        with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            yield

    @contextmanager
    def reporting(self, reports: Sequence[JobReport]) -> Iterator[None]:
        """The report of a turn's jobs, inside the first one's span: the command is part of that job's trace
        rather than a trace of its own (a batch's other jobs each end their own span with their outcome)."""
        opened = self._open.get(reports[0].key) if reports else None
        if opened is None or not opened[0].is_recording():
            yield
            return
        with trace.use_span(opened[0], end_on_exit=False, record_exception=False, set_status_on_exception=False):
            yield

    def reported(self, report: JobReport, handler_error: BaseException | None, error: BaseException | None) -> None:
        """End the job's span with its outcome (``error``: why the report was refused) and count it."""
        opened = self._open.pop(report.key, None)
        if opened is None:
            return
        span, began, job_type = opened
        outcome = "lost" if isinstance(error, JobLost) else _OUTCOMES.get(type(report), "reported")
        attributes = {"agenthub.job.type": job_type, "agenthub.job.outcome": outcome}
        span.set_attribute("agenthub.job.outcome", outcome)
        if handler_error is not None and isinstance(report, FailReport):
            span.record_exception(handler_error)
            span.set_status(Status(StatusCode.ERROR, str(handler_error)[:200]))
        elif error is not None:
            span.set_status(Status(StatusCode.ERROR, f"the report was refused: {error}"[:200]))
        span.end()
        meters = telemetry.instruments()
        meters.job_duration.record(time.perf_counter() - began, attributes)
        if error is None and isinstance(report, CompleteReport):
            meters.jobs_completed.add(1, attributes)
        elif error is None and isinstance(report, FailReport):
            meters.jobs_failed.add(1, attributes)
