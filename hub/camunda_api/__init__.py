"""Camunda 8's REST API (the Orchestration Cluster API, ``/v2``) over the hub's engine, for Camunda's SDKs and
Modeler: deploy, start, work jobs, correlate, complete user tasks, watch.

Owns: the /v2 routes, the mapping of each onto the engine facade (one module
per resource), Camunda's shapes (string keys, ISO dates, search pages:
``wire``, ``filters``) and its problem details (``errors``). Authentication is
the hub's guard, as for ``/api/v1`` (bearer tokens, OIDC), and so are the
scopes: ``read``, ``deploy``, ``start``, ``jobs``, ``tasks``.

Does not know: Camunda's cluster management, identity and batch operations,
which have no counterpart here; an unknown /v2 path answers a 404 saying
that. docs/CAMUNDA.md lists what exists and how it differs from Camunda.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from hub.camunda_api import cluster, decisions, deployments, events, incidents, instances, jobs, tasks
from hub.camunda_api.errors import Handler, endpoint, unknown

__all__ = ["routes"]

_TABLE: list[tuple[str, str, Handler]] = [
    ("GET", "/v2/topology", cluster.topology),
    ("GET", "/v2/status", cluster.status),
    ("POST", "/v2/deployments", deployments.deploy),
    ("POST", "/v2/process-instances", instances.create),
    ("POST", "/v2/process-instances/search", instances.search),
    ("POST", "/v2/process-instances/{processInstanceKey}/cancellation", instances.cancel),
    ("PUT", "/v2/element-instances/{elementInstanceKey}/variables", instances.set_variables),
    ("POST", "/v2/jobs/activation", jobs.activate),
    ("POST", "/v2/jobs/{jobKey}/completion", jobs.complete),
    ("POST", "/v2/jobs/{jobKey}/failure", jobs.fail),
    ("POST", "/v2/jobs/{jobKey}/error", jobs.throw_error),
    ("PATCH", "/v2/jobs/{jobKey}", jobs.update),
    ("POST", "/v2/messages/publication", events.publish),
    ("POST", "/v2/messages/correlation", events.correlate),
    ("POST", "/v2/signals/broadcast", events.broadcast),
    ("POST", "/v2/user-tasks/search", tasks.search),
    ("POST", "/v2/user-tasks/{userTaskKey}/assignment", tasks.assign),
    ("DELETE", "/v2/user-tasks/{userTaskKey}/assignee", tasks.unassign),
    ("POST", "/v2/user-tasks/{userTaskKey}/completion", tasks.complete),
    ("PATCH", "/v2/user-tasks/{userTaskKey}", tasks.update),
    ("POST", "/v2/incidents/search", incidents.search_incidents),
    ("POST", "/v2/incidents/{incidentKey}/resolution", incidents.resolve),
    ("POST", "/v2/variables/search", incidents.search_variables),
    ("POST", "/v2/decision-definitions/evaluation", decisions.evaluate),
]

routes: list[BaseRoute] = [
    *(Route(path, endpoint(handler), methods=[method]) for method, path, handler in _TABLE),
    # last: any other /v2 path (or method) is Camunda's, not served here
    Route("/v2/{rest:path}", endpoint(unknown), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
