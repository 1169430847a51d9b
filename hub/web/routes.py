"""Every route of the console, in one list that hub/app.py mounts next to the API."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hub.web import (
    diagram,
    discover_page,
    drafts_page,
    incidents,
    inspector,
    instance,
    instances,
    live,
    oidc_login,
    processes,
    registry_page,
    session,
    tasks,
)

__all__ = ["routes"]

STATIC = Path(__file__).parent / "static"

routes: list[BaseRoute] = [
    *session.routes,
    *oidc_login.routes,
    *tasks.routes,
    *incidents.routes,
    *registry_page.routes,
    *drafts_page.routes,  # before discover_page: /discover/{processId} would take /discover/drafts
    *discover_page.routes,
    *inspector.routes,
    *diagram.routes,  # before processes: /processes/{id}/diagram.bpmn
    *processes.routes,
    *instances.routes,  # before instance: /instances/bulk
    *live.routes,
    *instance.routes,
    Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
]
