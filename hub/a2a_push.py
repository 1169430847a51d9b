"""``POST /a2a-push/{job}``: an agent's push notification about the task an ``a2a`` service task waits on.

An ``a2a`` call to an agent whose card says it pushes gives the agent this
URL and a fresh token (``protocols.a2a.call_task``). When the call waits
without a worker, the hub's list of waiting calls (``registry.a2a_calls``)
holds the token's hash; a notification that carries the token in
``X-A2A-Notification-Token`` (as A2A's push notifications do) makes the job
due at once (``Engine.wake_job``), so its task is read now rather than at
its next check (up to 30 s later). The notification's body is not trusted,
nor needed: the job reads the task from the agent (GetTask), as at any check.

Anything else is a 401 that changes nothing: no token, a wrong one, a job
that is not waiting (it finished, was withdrawn, or is still in its worker's
hands; that one's next check comes within a second or two). The Guard lets
the path through without a hub token: the call's token is its credential.

A flood is a 429 with ``Retry-After``, decided before anything is read:
``PER_JOB_PER_MINUTE`` (burst ``PER_JOB_BURST``) notifications for one job
URL and ``ALL_PER_MINUTE`` (burst ``ALL_BURST``) for all of them together,
good or bad. An agent's own notifications (one per change of its task) stay
far below; a flood at one job's URL delays nothing but that job's early
wake-up, since the job still checks its task on its own schedule.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import hub
from protocols.a2a.call_task import PUSH_PATH
from protocols.mcp._rate import CallRate

__all__ = ["ALL_BURST", "ALL_PER_MINUTE", "PER_JOB_BURST", "PER_JOB_PER_MINUTE", "TOKEN_HEADER", "routes"]

TOKEN_HEADER = "X-A2A-Notification-Token"
PER_JOB_PER_MINUTE, PER_JOB_BURST = 600, 20
ALL_PER_MINUTE, ALL_BURST = 6000, 200
log = logging.getLogger("agenthub.a2a.call")


class _Rates:
    """The two token buckets of one app: per job URL, and all notifications together."""

    def __init__(self) -> None:
        self.per_job = CallRate(PER_JOB_PER_MINUTE, PER_JOB_BURST)
        self.everyone = CallRate(ALL_PER_MINUTE, ALL_BURST)

    def refuse(self, job: int) -> int | None:
        """None when the notification may be looked at, else the seconds to wait."""
        return self.everyone.take("", "") or self.per_job.take("", str(job))


def _rates(app: Starlette) -> _Rates:
    found = getattr(app.state, "a2a_push_rates", None)
    if found is None:
        found = app.state.a2a_push_rates = _Rates()
    return found


async def notified(request: Request) -> Response:
    wait = _rates(request.app).refuse(request.path_params["job"])
    if wait is not None:
        return JSONResponse({"error": f"too many notifications: try again in {wait} s"}, status_code=429,
                            headers={"Retry-After": str(wait)})
    state = hub(request)
    call = await asyncio.to_thread(state.registry.a2a_calls.get, request.path_params["job"])  # an int: the route's
    if call is None or not call.accepts_push(request.headers.get(TOKEN_HEADER)):
        return JSONResponse({"error": "no a2a call of this hub waits for a notification with this token here"},
                            status_code=401)
    woken = await asyncio.to_thread(state.engine.wake_job, call.job)
    log.info("agent '%s' notified task %s: job %s %s", call.agent, call.task_id, call.job,
             "checks it now" if woken else "is not waiting (it checks the task itself)")
    return JSONResponse({"job": str(call.job), "woken": woken})


routes: list[BaseRoute] = [Route(PUSH_PATH + "{job:int}", notified, methods=["POST"])]
