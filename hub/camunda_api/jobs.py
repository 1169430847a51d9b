"""Jobs for Camunda's job workers: activation (long polling), completion, failure, BPMN error, timeout update.

``POST /v2/jobs/activation`` claims up to ``maxJobsToActivate`` due jobs of
``type`` for ``timeout`` ms; with none due it holds the request until one is
(a commit in this hub wakes it at once; jobs made by other hub processes are
seen by polling every half second) or ``requestTimeout`` ms pass (0: 10 s, as
Camunda's default; negative: answer at once).

Fencing: agenthub's own API makes every report carry the lease it was
activated with. Camunda's reports carry none unless the worker asked for a
lease (``withLease``): then each job has a ``jobLeaseToken`` and a report
with it is fenced exactly like agenthub's (409 when the lease went to
another worker). A report without a token applies to the job under whatever
lease holds it now, as Camunda's do.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import ActivatedJob, Engine
from hub.api.common import ApiError, field, hub, json_body, require
from hub.camunda_api.wire import TENANT, Definitions, path_key, root_of
from protocols.commits import commit_signal

__all__ = ["activate", "complete", "fail", "throw_error", "update"]

DEFAULT_POLL_MS = 10_000
MAX_POLL_MS = 60_000
MAX_JOBS = 1000
MAX_TIMEOUT_MS = 24 * 3600 * 1000
_POLL_S = 0.5  # how often a long poll looks again without a commit to wake it
_RESERVED = "agenthub:"  # the engine's own job headers (a listener job's kind and event): not the model's


async def activate(request: Request) -> Response:
    who = require(request, "jobs")
    body = await json_body(request)
    job_type = field(body, "type", str, required=True)
    timeout_ms = field(body, "timeout", int, required=True)
    max_jobs = field(body, "maxJobsToActivate", int, required=True)
    worker = field(body, "worker", str) or f"camunda:{who.name}"
    fetch = field(body, "fetchVariable", list)
    poll_ms = field(body, "requestTimeout", int, default=0)
    lease = field(body, "withLease", bool, default=False)
    if not 1 <= timeout_ms <= MAX_TIMEOUT_MS:
        raise ApiError(400, f"'timeout' must be between 1 and {MAX_TIMEOUT_MS} ms")
    if not 1 <= max_jobs <= MAX_JOBS:
        raise ApiError(400, f"'maxJobsToActivate' must be between 1 and {MAX_JOBS}")
    if poll_ms > MAX_POLL_MS:
        raise ApiError(400, f"'requestTimeout' must be at most {MAX_POLL_MS} ms")
    if fetch is not None and not all(isinstance(n, str) for n in fetch):
        raise ApiError(400, "'fetchVariable' must be an array of variable names")
    engine: Engine = hub(request).engine
    wait_s = 0.0 if poll_ms < 0 else (poll_ms or DEFAULT_POLL_MS) / 1000
    jobs = await _claim(request, engine, job_type, worker, max_jobs, timeout_ms, wait_s)

    def shape() -> list[dict[str, Any]]:
        definitions = Definitions(engine)
        return [job_json(engine, definitions, j, fetch, lease) for j in jobs]

    return JSONResponse({"jobs": await asyncio.to_thread(shape)})


async def _claim(
    request: Request, engine: Engine, job_type: str, worker: str, max_jobs: int, lease_ms: int, wait_s: float
) -> list[ActivatedJob]:
    """Claim jobs; with none due, wait for a commit (or the next poll) and try again until ``wait_s`` passes."""
    loop = asyncio.get_running_loop()
    async with commit_signal(engine) as committed:
        deadline = loop.time() + wait_s
        while True:
            jobs = await asyncio.to_thread(
                engine.activate_jobs, [job_type], worker, max_jobs=max_jobs, lease_ms=lease_ms
            )
            committed.clear()  # after the claim: its own commit is no news (one missed is seen at the next poll)
            left = deadline - loop.time()
            if jobs or left <= 0 or await request.is_disconnected():
                return jobs
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(committed.wait(), min(left, _POLL_S))


def job_json(
    engine: Engine, definitions: Definitions, job: ActivatedJob, fetch: list[str] | None, lease: bool
) -> dict[str, Any]:
    """Camunda's ``ActivatedJobResult``."""
    view = engine.instance(job.instance)
    variables = job.variables if fetch is None else {n: job.variables[n] for n in fetch if n in job.variables}
    data: dict[str, Any] = {
        "type": job.type,
        "processDefinitionId": job.process_id,
        "processDefinitionVersion": view.version,
        "elementId": job.element_id,
        "customHeaders": {k: v for k, v in job.headers.items() if not k.startswith(_RESERVED)},
        "worker": job.worker,
        "retries": job.retries,
        "deadline": job.lease_expires_at,
        "variables": variables,
        "tenantId": TENANT,
        "physicalTenantId": TENANT,
        "jobKey": str(job.key),
        "processInstanceKey": str(job.instance),
        "processDefinitionKey": definitions.key_of(view),
        "elementInstanceKey": str(job.element_instance),
        "kind": job.kind,
        "listenerEventType": job.listener_event or "UNSPECIFIED",
        "userTask": None,
        "tags": [],
        "rootProcessInstanceKey": str(root_of(engine, view)),
        "businessId": None,
        "priority": 0,
    }
    if lease:
        data["jobLeaseToken"] = f"{job.lock_version}:{job.worker}"
    return data


def _lease(engine: Engine, body: dict[str, Any], job: int) -> tuple[str, int]:
    """The lease a report is made under: the one its ``jobLeaseToken`` names, else whoever holds the job now."""
    token = field(body, "jobLeaseToken", str)
    if token is None:
        return engine.job_lease(job)
    version, sep, worker = token.partition(":")
    if not sep or not version.isdigit():
        raise ApiError(400, "'jobLeaseToken' is not a token this hub gave: send it as the activation returned it")
    return worker, int(version)


async def complete(request: Request) -> Response:
    require(request, "jobs")
    job = path_key(request, "jobKey")
    body = await json_body(request, optional=True)
    variables = field(body, "variables", dict, default={})
    result = field(body, "result", dict)
    if result is not None and result.get("type", "userTask") != "userTask":
        raise ApiError(
            400,
            f"a completion 'result' of type '{result.get('type')}' is not supported: only a task listener's "
            "'userTask' result is (agenthub activates ad-hoc elements itself)",
        )
    engine: Engine = hub(request).engine

    def work() -> None:
        worker, version = _lease(engine, body, job)
        engine.complete_job(job, variables, worker=worker, lock_version=version, result=result)

    await asyncio.to_thread(work)
    return Response(status_code=204)


async def fail(request: Request) -> Response:
    """``retries`` is what the job has left (Camunda's default: 0, an incident); ``retryBackOff`` in ms.
    ``variables`` are accepted and dropped: a failed job sets no variables in agenthub."""
    require(request, "jobs")
    job = path_key(request, "jobKey")
    body = await json_body(request, optional=True)
    retries = field(body, "retries", int, default=0)
    backoff = field(body, "retryBackOff", int, default=0)
    message = field(body, "errorMessage", str, default="") or "the worker reported a failure without a message"
    if retries < 0 or backoff < 0:
        raise ApiError(400, "'retries' and 'retryBackOff' must not be negative")
    engine: Engine = hub(request).engine

    def work() -> None:
        worker, version = _lease(engine, body, job)
        engine.fail_job(job, message, retries=retries, backoff_ms=backoff, worker=worker, lock_version=version)

    await asyncio.to_thread(work)
    return Response(status_code=204)


async def throw_error(request: Request) -> Response:
    require(request, "jobs")
    job = path_key(request, "jobKey")
    body = await json_body(request)
    code = field(body, "errorCode", str, required=True)
    message = field(body, "errorMessage", str, default="")
    variables = field(body, "variables", dict, default={})
    engine: Engine = hub(request).engine

    def work() -> None:
        worker, version = _lease(engine, body, job)
        engine.throw_error(job, code, message, variables, worker=worker, lock_version=version)

    await asyncio.to_thread(work)
    return Response(status_code=204)


async def update(request: Request) -> Response:
    """``{"changeset": {"timeout": ms}}``: the activated job's lease runs out ``timeout`` ms from now.
    ``retries`` and ``priority`` are refused: agenthub changes retries by resolving the job's incident."""
    require(request, "jobs")
    job = path_key(request, "jobKey")
    body = await json_body(request)
    changes = field(body, "changeset", dict, required=True)
    refused = sorted(n for n in ("retries", "priority") if changes.get(n) is not None)
    if refused:
        raise ApiError(
            400,
            f"changing {' and '.join(refused)} is not supported: agenthub changes a job's retries "
            "by resolving its incident (POST /v2/incidents/{incidentKey}/resolution)",
        )
    timeout = field(changes, "timeout", int)
    if timeout is None:
        raise ApiError(400, "'changeset.timeout' is required: the only change agenthub makes to a job")
    if not 1 <= timeout <= MAX_TIMEOUT_MS:
        raise ApiError(400, f"'changeset.timeout' must be between 1 and {MAX_TIMEOUT_MS} ms")
    await asyncio.to_thread(hub(request).engine.set_job_timeout, job, timeout)
    return Response(status_code=204)
