"""The cluster as Camunda's clients ask about it: ``GET /v2/topology`` and ``GET /v2/status``.

A hub is one node: the topology is one broker holding one partition, led by
it, on the hub's own host and port. ``/v2/status`` is the hub's readiness
(``hub.health``): 204 when it is ready, 503 with what is not otherwise.
"""

from __future__ import annotations

from importlib import metadata

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.api.common import hub, require
from hub.camunda_api.errors import camunda_problem
from hub.health import Readiness

__all__ = ["status", "topology"]

# The Camunda version whose /v2 API this one follows (the gateway version clients print and compare).
CAMUNDA_VERSION = "8.8.0"


def _version() -> str:
    try:
        return metadata.version("agenthub")
    except metadata.PackageNotFoundError:  # run from a source tree that was not installed
        return "0"


async def topology(request: Request) -> Response:
    require(request, "read")
    settings = hub(request).settings
    partition = {"partitionId": 1, "role": "leader", "health": "healthy", "state": "active"}
    broker = {
        "nodeId": 0,
        "brokerId": "0",
        "host": settings.host,
        "port": settings.port,
        "partitions": [partition],
        "version": CAMUNDA_VERSION,
    }
    return JSONResponse(
        {
            "brokers": [broker],
            "clusterId": None,
            "clusterSize": 1,
            "partitionsCount": 1,
            "replicationFactor": 1,
            "gatewayVersion": CAMUNDA_VERSION,
            "lastCompletedChangeId": "-1",
            "agenthubVersion": _version(),
        }
    )


async def status(request: Request) -> Response:
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.checks(request.app.state.worker)
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.ok]
    if failed:
        return camunda_problem(503, "the hub is not ready: " + "; ".join(failed), request.url.path)
    return Response(status_code=204)
