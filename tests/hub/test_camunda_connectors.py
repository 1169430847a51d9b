"""The hub runs Camunda's REST connector itself, and shows every other Camunda connector as waiting for a worker.

``job_handlers`` (what ``agenthub serve``, ``run`` and ``worker`` use) registers
``io.camunda:http-json:1`` on the same ``HttpConnector`` as ``http``: same egress
allow-list (``AGENTHUB_HTTP_ALLOW``), same secret provider (the environment, and the
file named by ``AGENTHUB_SECRETS_FILE``). A connector it does not run (Slack here)
is warned about at deploy time, and its job waits, visibly, for an external worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, Job, WorkerRegistry
from engine.scheduler import run_until_idle
from hub.job_types import job_handlers
from hub.output import print_run_hints
from hub.settings import HubSettings
from protocols.http import CAMUNDA_REST_JOB_TYPE, CamundaRestConnector
from registry import Registry
from tests.protocols.http.server import EchoServer, serve

DATA = Path(__file__).resolve().parents[1] / "data"
REST = DATA.parent / "protocols" / "http" / "data" / "camunda_rest.bpmn"
SLACK = DATA / "deploy" / "camunda_slack.bpmn"


@pytest.fixture(scope="module")
def server() -> Iterator[EchoServer]:
    with serve() as running:
        yield running


def handlers(tmp_path: Path) -> CamundaRestConnector:
    workers = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), HubSettings(http_allow="127.0.0.1"))
    rest = workers.handlers[CAMUNDA_REST_JOB_TYPE]
    assert isinstance(rest, CamundaRestConnector)
    assert rest.http is workers.handlers["http"]  # one implementation, one allow-list
    return rest


def test_the_hub_runs_the_rest_connector_with_a_secret_from_the_secrets_file(
    tmp_path: Path, server: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"REST_SIGNING_KEY": "from-the-file-0a9d"}))
    monkeypatch.setenv("AGENTHUB_SECRETS_FILE", str(secrets))
    monkeypatch.delenv("REST_SIGNING_KEY", raising=False)
    workers = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), HubSettings(http_allow="127.0.0.1"))
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    try:
        [deployed] = engine.deploy([(REST.name, REST.read_bytes())])
        assert deployed.warnings == ()  # a connector the hub runs is not warned about
        key = engine.start("camunda_rest", {"baseUrl": server.url, "path": "/echo", "method": "GET"}).key
        run_until_idle(engine, workers, timeout_s=60)
        view = engine.instance(key)
        assert view.state == "completed" and view.variables["status"] == 200
        assert server.received[-1]["x-signature"] == "from-the-file-0a9d"
        assert "from-the-file-0a9d" not in json.dumps(engine.journal(key, limit=10_000))
    finally:
        engine.close()


def test_the_rest_connector_shares_the_http_job_types_connector(tmp_path: Path) -> None:
    handlers(tmp_path)


def test_an_unknown_camunda_connector_is_warned_about_and_its_job_waits_visibly_for_a_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workers = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), HubSettings(http_allow="127.0.0.1"))
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    try:
        [deployed] = engine.deploy([(SLACK.name, SLACK.read_bytes())])
        [warning] = deployed.warnings
        assert warning.element_id == "Notify"
        assert "'io.camunda:slack:1', a Camunda connector that is not built in" in warning.message
        key = engine.start("camunda_slack", {}).key
        run_until_idle(engine, workers, timeout_s=60)  # nothing here runs it, and nothing fails it either
        view = engine.instance(key)
        assert view.state == "active"
        [element] = view.active_elements
        assert element["elementId"] == "Notify" and element["waitingFor"]["jobType"] == "io.camunda:slack:1"
        assert element["waitingFor"]["claims"] == 0 and engine.incidents(instance=key) == []
        print_run_hints(view)
        hint = capsys.readouterr().err
        assert "a Camunda connector that agenthub does not run" in hint and '@worker("io.camunda:slack:1")' in hint
    finally:
        engine.close()


def test_a_worker_written_for_a_camunda_connector_type_honours_its_result_variable_and_gets_secrets_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_TOKEN", "xoxb-slack-token-31")
    seen: list[str] = []

    def slack(job: Job) -> dict[str, Any]:
        seen.append(job.variables["token"])
        return {"ok": True, "channel": job.variables["data"]["channel"], "echo": job.variables["token"]}

    extra = WorkerRegistry()
    extra.register("io.camunda:slack:1", slack)
    workers = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), HubSettings(), extra)
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    try:
        engine.deploy([(SLACK.name, SLACK.read_bytes())])
        key = engine.start("camunda_slack", {}).key
        run_until_idle(engine, workers, timeout_s=60)
        view = engine.instance(key)
        assert view.state == "completed"
        assert seen == ["xoxb-slack-token-31"]  # the worker got the secret, the instance only the placeholder
        assert view.variables["slackAnswer"] == {"ok": True, "channel": "#ops", "echo": "[redacted]"}
        assert "ok" not in view.variables  # as in Camunda: the answer lands where resultVariable says
        assert "xoxb-slack-token-31" not in json.dumps(engine.journal(key, limit=10_000))
    finally:
        engine.close()
