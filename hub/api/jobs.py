"""Jobs for external workers in any language: activate (long polling), complete, fail, throw an error; wake.

An activated job carries ``worker`` and ``lockVersion``: every report on it
(complete, fail, error) must send them back (RELIABILITY I6, fencing). A
report without them is 400; a report whose lease ran out, the job having gone
to another worker, is 409 and never overwrites that worker's result.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine import ActivatedJob
from hub.api.common import ApiError, field, hub, json_body, path_int, require

MAX_JOBS = 100
MAX_LEASE_S = 3600
MAX_POLL_S = 60


def job_json(job: ActivatedJob) -> dict[str, Any]:
    return {
        "key": job.key,
        "type": job.type,
        "instance": job.instance,
        "element": job.element_id,
        "elementInstance": job.element_instance,
        "process": job.process_id,
        "retries": job.retries,
        "headers": job.headers,
        "kind": job.kind,
        "listenerEventType": job.listener_event,
        "variables": job.variables,
        "worker": job.worker,
        "lockVersion": job.lock_version,
        "leaseExpiresAt": job.lease_expires_at,
    }


async def activate(request: Request) -> Response:
    """``{"type", "maxJobs", "leaseSeconds", "requestTimeout": seconds, "worker"}``.

    Claims up to ``maxJobs`` due jobs of ``type``; with none due, holds the
    request open until one is or ``requestTimeout`` passes (long polling),
    then answers ``{"jobs": [...]}``, possibly empty.
    """
    who = require(request, "jobs")
    body = await json_body(request)
    job_type = field(body, "type", str, required=True)
    max_jobs = field(body, "maxJobs", int, default=10)
    lease_s = field(body, "leaseSeconds", (int, float), default=30)
    wait_s = field(body, "requestTimeout", (int, float), default=0)
    worker = field(body, "worker", str, default=f"rest:{who.name}")
    if not 1 <= max_jobs <= MAX_JOBS:
        raise ApiError(400, f"'maxJobs' must be between 1 and {MAX_JOBS}")
    if not 1 <= lease_s <= MAX_LEASE_S:
        raise ApiError(400, f"'leaseSeconds' must be between 1 and {MAX_LEASE_S}")
    if not 0 <= wait_s <= MAX_POLL_S:
        raise ApiError(400, f"'requestTimeout' must be between 0 and {MAX_POLL_S} seconds")
    engine = hub(request).engine
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        jobs = await asyncio.to_thread(
            engine.activate_jobs, [job_type], worker, max_jobs=max_jobs, lease_ms=int(lease_s * 1000)
        )
        left = deadline - time.monotonic()
        if jobs or left <= 0 or await request.is_disconnected():
            break
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, 0.5)
    return JSONResponse({"jobs": [job_json(j) for j in jobs]})


_NO_LEASE = (
    "send the lease the job was activated with: 'worker' and 'lockVersion' exactly as "
    "POST /api/v1/jobs/activate returned them"
)


def _fence(body: dict[str, Any]) -> tuple[str, int]:
    """The caller's lease, required: without it a worker whose lease expired could overwrite the new owner's report."""
    worker = field(body, "worker", str)
    lock_version = field(body, "lockVersion", int)
    if worker is None or lock_version is None:
        missing = [name for name, value in (("worker", worker), ("lockVersion", lock_version)) if value is None]
        raise ApiError(400, f"{_NO_LEASE} (missing: {', '.join(missing)})", missing=missing)
    return worker, lock_version


async def complete(request: Request) -> Response:
    """``{"variables", "result", "worker", "lockVersion"}``; the lease (``worker``, ``lockVersion``) is required.

    ``result`` is a task listener's (``{"denied": true, "deniedReason", "corrections": {"assignee", "dueDate",
    ...}}``, as Camunda's): it denies the task's completion or corrects the task.
    """
    require(request, "jobs")
    key = path_int(request, "key")
    body = await json_body(request, optional=True)
    worker, lock_version = _fence(body)
    variables = field(body, "variables", dict, default={})
    result = field(body, "result", dict)
    await asyncio.to_thread(hub(request).engine.complete_job, key, variables, worker=worker, lock_version=lock_version,
                            result=result)
    return JSONResponse({"key": key, "state": "completed"})


async def fail(request: Request) -> Response:
    """``{"errorMessage", "retries", "retryBackOff": ms, "worker", "lockVersion"}``; 0 retries left: an incident."""
    require(request, "jobs")
    key = path_int(request, "key")
    body = await json_body(request)
    worker, lock_version = _fence(body)
    message = field(body, "errorMessage", str, required=True)
    retries = field(body, "retries", int)
    backoff = field(body, "retryBackOff", int, default=0)
    if retries is not None and retries < 0:
        raise ApiError(400, "'retries' must not be negative")
    left = await asyncio.to_thread(
        hub(request).engine.fail_job,
        key,
        message,
        retries=retries,
        backoff_ms=backoff,
        worker=worker,
        lock_version=lock_version,
    )
    return JSONResponse({"key": key, "retries": left, "state": "failed" if left == 0 else "retrying"})


async def throw_error(request: Request) -> Response:
    """``{"errorCode", "errorMessage", "variables", "worker", "lockVersion"}``: a BPMN error for boundary events."""
    require(request, "jobs")
    key = path_int(request, "key")
    body = await json_body(request)
    worker, lock_version = _fence(body)
    code = field(body, "errorCode", str, required=True)
    await asyncio.to_thread(
        hub(request).engine.throw_error,
        key,
        code,
        field(body, "errorMessage", str, default=""),
        field(body, "variables", dict, default={}),
        worker=worker,
        lock_version=lock_version,
    )
    return JSONResponse({"key": key, "state": "error thrown", "errorCode": code})


async def wake(request: Request) -> Response:
    """A job that waits on remote work (its handler raised ``WaitRemote``) is checked now; 409 if it is not waiting."""
    require(request, "jobs")
    key = path_int(request, "key")
    if not await asyncio.to_thread(hub(request).engine.wake_job, key):
        raise ApiError(409, f"job {key} is not waiting on remote work (it is running, done, or no such job)")
    return JSONResponse({"key": key, "state": "due"})


routes: list[BaseRoute] = [
    Route("/api/v1/jobs/activate", activate, methods=["POST"]),
    Route("/api/v1/jobs/{key}/complete", complete, methods=["POST"]),
    Route("/api/v1/jobs/{key}/fail", fail, methods=["POST"]),
    Route("/api/v1/jobs/{key}/error", throw_error, methods=["POST"]),
    Route("/api/v1/jobs/{key}/wake", wake, methods=["POST"]),
]
