"""A live hub on 127.0.0.1 for the hub's tests: uvicorn in a thread, an admin token, a test worker."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.types import ASGIApp, Receive, Scope, Send

from engine import Engine
from engine.scheduler import Job, WorkerRegistry, run_until_idle
from hub.app import create_app
from hub.job_types import close_handlers, job_handlers
from hub.oidc import OidcConfig
from hub.settings import HubSettings
from registry import Principal, Registry, generate_token
from tests.oidc_issuer import Issuer
from tests.ports import free_port

DATA = Path(__file__).resolve().parents[1] / "data" / "hub"


@dataclass
class LiveHub:
    url: str
    port: int
    admin: str
    app: Any

    def client(self, token: str | None = None, *, headers: dict[str, str] | None = None) -> httpx.Client:
        """An HTTP client holding ``token`` (default: the admin token; ``""``: none)."""
        sent = {"Authorization": f"Bearer {token or self.admin}"} if token != "" else {}
        return httpx.Client(base_url=self.url, headers={**sent, **(headers or {})}, timeout=30)

    def token(self, *scopes: str) -> str:
        with self.client() as c:
            answer = c.post("/api/v1/tokens", json={"name": "-".join(scopes), "scopes": list(scopes)})
            answer.raise_for_status()
            return str(answer.json()["token"])

    def deploy(self, *names: str, expose: bool = False) -> dict[str, Any]:
        files = [("files", (n, (DATA / n).read_bytes(), "application/xml")) for n in names]
        with self.client() as c:
            answer = c.post("/api/v1/deployments", files=files, params={"expose": str(expose).lower()})
            answer.raise_for_status()
            return dict(answer.json())


class AsPrincipal:
    """Stands in for the hub's guard: every request is made by ``principal``."""

    def __init__(self, app: ASGIApp, principal: Principal) -> None:
        self.app = app
        self.principal = principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["principal"] = self.principal
        await self.app(scope, receive, send)


def echo(job: Job) -> dict[str, Any]:
    return {"echoed": job.variables.get("text", "nothing")}


def start_hub(settings: HubSettings, workers: WorkerRegistry | None = None) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(settings, workers=workers)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    return server, thread


@contextmanager
def serve_hub(
    folder: Path, workers: WorkerRegistry | None = None, *, port: int | None = None, **settings: Any
) -> Iterator[LiveHub]:
    """A live hub on a free port (or ``port``) with a fresh admin token and its SQLite database in ``folder``, for
    a ``with``; ``settings`` are more ``HubSettings`` fields (``http_allow``, ``oidc``, ``mcp`` ...)."""
    port, admin = port or free_port(), generate_token()
    server, thread = start_hub(
        HubSettings(db=f"sqlite:///{folder / 'hub.db'}", port=port, admin_token=admin, **settings), workers
    )
    try:
        yield LiveHub(url=f"http://127.0.0.1:{port}", port=port, admin=admin, app=server.config.app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def oidc_hub(
    tmp_path: Path, issuer: Issuer, *, refresh_s: float = 0, client_id: str | None = None
) -> Iterator[LiveHub]:
    """A live hub that accepts sign-in by ``issuer``; with ``client_id`` the console's login page offers it too."""
    oidc = OidcConfig(issuer=issuer.url, audience="agenthub", refresh_s=refresh_s, client_id=client_id)
    with serve_hub(tmp_path, oidc=oidc) as live:
        yield live


def one_user_task(process_id: str, name: str, candidate_groups: str) -> bytes:
    """A process that waits on one user task offered to ``candidate_groups``: the smallest model a task test needs."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:userTask id="approve" name="{name}">
      <bpmn:extensionElements>
        <zeebe:userTask/>
        <zeebe:assignmentDefinition candidateGroups="{candidate_groups}"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


@asynccontextmanager
async def assistant(hub: LiveHub, token: str, mode: str = "auto", **options: Any) -> AsyncIterator[Client]:
    """The official MCP client on the hub's ``/mcp`` with a bearer ``token``, as an assistant connects;
    ``mode`` is the client's: ``"auto"`` (its default), ``"legacy"`` (the initialize handshake) or a version;
    ``options``: more of the ``Client``'s settings (an ``elicitation_callback``...)."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode, **options) as client,
    ):
        yield client


def run_hub_jobs(engine: Engine, registry: Registry, **settings: Any) -> None:
    """Run every job the hub's handlers take (``job_handlers``, egress open to 127.0.0.1, more ``HubSettings``
    fields in ``settings``) until none is due."""
    workers = job_handlers(registry, HubSettings(http_allow="127.0.0.1", **settings), engine=engine)
    try:
        run_until_idle(engine, workers, timeout_s=60)
    finally:
        close_handlers(workers)
