"""The engine's telemetry (engine.telemetry): command and job spans, the trace an instance keeps, the metrics.

The SDK's in-memory exporter and reader stand in for the hub's exporters;
``engine.telemetry.use`` hands their providers in, as ``hub.telemetry`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from engine import Engine, Job, WorkerRegistry, telemetry
from engine.runtime import InstanceState
from engine.scheduler import WorkerLoop, WorkerSettings, run_until_idle
from engine.store.sql import SqlStore
from tests.models import one_service_task

ONE_JOB = one_service_task("one_job")


@pytest.fixture
def recorded() -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.use(tracer_provider, meter_provider)
    try:
        yield spans, reader
    finally:
        telemetry.use(None, None)
        tracer_provider.shutdown()
        meter_provider.shutdown()


def _workers() -> WorkerRegistry:
    workers = WorkerRegistry()
    workers.register("work", lambda job: {"done": job.key})
    return workers


def _named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def _sums(reader: InMemoryMetricReader) -> dict[str, float]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, float] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points: Any = metric.data.data_points
                found[metric.name] = sum(getattr(p, "value", getattr(p, "count", 0)) for p in points)
    return found


def test_a_started_instance_runs_its_job_in_a_span_that_is_a_child_of_the_start_command(
    recorded: tuple[InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    spans, reader = recorded
    engine = Engine.open("memory:")
    engine.deploy([("one_job.bpmn", ONE_JOB)])
    view = engine.start("one_job")
    run_until_idle(engine, _workers())
    assert engine.instance(view.key).state == "completed"
    [start] = _named(spans, "agenthub.command start")
    [job] = _named(spans, "job work")
    assert start.attributes is not None and start.attributes["agenthub.instance.key"] == view.key
    assert job.context is not None and start.context is not None and job.parent is not None
    assert job.context.trace_id == start.context.trace_id
    assert job.parent.span_id == start.context.span_id
    assert job.attributes is not None and job.attributes["agenthub.job.outcome"] == "completed"
    [report] = _named(spans, "agenthub.command report_jobs")
    assert report.parent is not None and job.context.span_id == report.parent.span_id  # no trace of its own
    sums = _sums(reader)
    assert sums["agenthub.instances.started"] == 1
    assert sums["agenthub.instances.ended"] == 1
    assert sums["agenthub.jobs.completed"] == 1
    assert sums["agenthub.job.duration"] == 1  # one recorded duration
    assert sums["agenthub.command.duration"] >= 2  # start and the report


def test_the_trace_of_an_instance_survives_a_restart_of_the_engine_and_its_job_joins_it(
    recorded: tuple[InMemorySpanExporter, InMemoryMetricReader],
    tmp_path: Any,
) -> None:
    spans, _ = recorded
    url = f"sqlite:///{tmp_path / 'e.db'}"
    engine = Engine(SqlStore(url))
    engine.deploy([("one_job.bpmn", ONE_JOB)])
    with telemetry.tracer().start_as_current_span("request") as request:
        key = engine.start("one_job").key
    engine.close()
    again = Engine(SqlStore(url))
    try:
        run_until_idle(again, _workers())
    finally:
        again.close()
    [job] = _named(spans, "job work")
    assert job.context is not None and job.context.trace_id == request.get_span_context().trace_id
    assert job.attributes is not None and job.attributes["agenthub.instance.key"] == key


def test_a_failing_job_is_an_error_span_and_a_failed_attempt(
    recorded: tuple[InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    spans, reader = recorded
    engine = Engine.open("memory:")
    engine.deploy([("one_job.bpmn", ONE_JOB)])
    engine.start("one_job")
    workers = WorkerRegistry()

    def broken(job: Job) -> dict[str, Any]:
        raise RuntimeError("the printer is on fire")

    workers.register("work", broken)
    WorkerLoop(engine, workers, settings=WorkerSettings(backoff_base_ms=1, backoff_max_ms=1)).run(until_idle=True)
    attempts = _named(spans, "job work")  # three retries, then an incident
    assert len(attempts) == 3
    for failed in attempts:
        assert failed.attributes is not None and failed.attributes["agenthub.job.outcome"] == "failed"
        assert not failed.status.is_ok and "printer" in (failed.status.description or "")
    assert _sums(reader)["agenthub.jobs.failed"] == 3


def test_an_instance_keeps_no_trace_when_nothing_records() -> None:
    engine = Engine.open("memory:")
    engine.deploy([("one_job.bpmn", ONE_JOB)])
    assert not telemetry.enabled()
    key = engine.start("one_job").key
    with engine.store.transaction() as tx:
        loaded = tx.instances.load(key, lock=False)
    assert loaded is not None and loaded[0].trace is None
    assert "trace" not in loaded[0].to_dict()


def test_a_carrier_round_trips_and_a_malformed_one_is_ignored(
    recorded: tuple[InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    with telemetry.tracer().start_as_current_span("outer") as outer:
        carrier = telemetry.carrier()
    assert carrier["traceparent"].split("-")[1] == f"{outer.get_span_context().trace_id:032x}"
    with telemetry.span("inner", parent=carrier) as inner:
        assert inner.get_span_context().trace_id == outer.get_span_context().trace_id
    assert telemetry.context_of({"traceparent": "not-a-trace"}) is None
    assert telemetry.context_of({"traceparent": 7}) is None
    assert telemetry.context_of(None) is None
    state = InstanceState(key=1, process_id="p", definition_key=2, version=1, trace=carrier)
    assert InstanceState.from_dict(state.to_dict()).trace == carrier


def test_with_metrics_on_and_tracing_off_commands_and_jobs_are_measured_and_no_span_is_started() -> None:
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.use(None, meter_provider)  # what a hub gets with metrics only: no tracer provider
    try:
        assert not telemetry.recording()
        engine = Engine.open("memory:")
        engine.deploy([("one_job.bpmn", ONE_JOB)])
        seen: list[bool] = []
        workers = WorkerRegistry()

        def work(job: Job) -> dict[str, Any]:
            seen.append(trace.get_current_span().is_recording())
            return {}

        workers.register("work", work)
        with telemetry.command_span("probe") as probe:
            assert probe is trace.INVALID_SPAN and telemetry.carrier() == {}
        view = engine.start("one_job")
        run_until_idle(engine, workers)
        assert engine.instance(view.key).state == "completed" and seen == [False]
        sums = _sums(reader)
        assert sums["agenthub.jobs.completed"] == 1 and sums["agenthub.job.duration"] == 1
        assert sums["agenthub.command.duration"] >= 3  # the probe, the start and the report
    finally:
        telemetry.use(None, None)
        meter_provider.shutdown()


def test_spans_are_recorded_again_once_a_tracer_provider_is_handed_in(
    recorded: tuple[InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    spans, _ = recorded
    assert telemetry.recording()
    with telemetry.span("visible") as current:
        assert current.is_recording() and telemetry.carrier()["traceparent"]
    assert [s.name for s in spans.get_finished_spans()] == ["visible"]
