"""Credentials sent by the ``http`` connector reach the upstream server and nothing the hub records.

``data/http_with_credentials.bpmn`` POSTs to ``baseUrl + path`` with the header
``Authorization: "Bearer " + apiToken`` and the token in the body as ``apiKey``; the
test server echoes the request back (``/echo``, ``/status/{code}``). A token
given as ``{{secrets.API_TOKEN}}`` is read from ``AGENTHUB_SECRET_API_TOKEN``
at call time; one given as a plain variable is the modeller's process data,
kept in the instance, but masked in the journal and never copied by the
connector into the variables, errors or incidents it produces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, InstanceView, WorkerRegistry
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from protocols.http import JOB_TYPE, EgressPolicy, HttpConnector
from tests.protocols.http.server import EchoServer

BPMN = Path(__file__).parent / "data" / "http_with_credentials.bpmn"
AGENTHUB = Path(sys.executable).parent / "agenthub"
SECRET = "s3cr3t-Bearer-value-9f2c"
PLACEHOLDER = "{{secrets.API_TOKEN}}"


def run_process(tmp_path: Path, server: EchoServer, path: str, token: str) -> tuple[InstanceView, Engine, str]:
    url = f"sqlite:///{tmp_path / 'agenthub.db'}"
    engine = Engine.open(url, clock=ManualClock())
    engine.deploy([(BPMN.name, BPMN.read_bytes())])
    key = engine.start("http_with_credentials", {"baseUrl": server.url, "path": path, "apiToken": token}).key
    registry = WorkerRegistry()
    registry.register(JOB_TYPE, HttpConnector(EgressPolicy.from_env("127.0.0.1")))
    run_until_idle(engine, registry, timeout_s=60)
    return engine.instance(key), engine, url


def recorded(engine: Engine, view: InstanceView) -> str:
    """Everything the engine keeps about the instance that a ``read`` token can see, as one text."""
    journal = engine.journal(view.key, limit=100_000)
    incidents = [i.message for i in engine.incidents(instance=view.key)]
    return json.dumps({"journal": journal, "variables": view.variables, "incidents": incidents}, ensure_ascii=False)


def cli_journal(db: str, key: int, *args: str) -> str:
    result = subprocess.run(
        [str(AGENTHUB), "journal", str(key), *args], env={**os.environ, "AGENTHUB_DB": db},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(("path", "state", "end"), [
    ("/echo", "completed", "Done"),  # the answer echoes the request into the result variable
    ("/status/404", "completed", "NotFound"),  # ... into the BPMN error's variables
    ("/status/500", "incident", None),  # ... into the failure message, the incident
])
def test_a_secrets_placeholder_is_sent_resolved_and_recorded_nowhere(
    tmp_path: Path, http_server: EchoServer, monkeypatch: pytest.MonkeyPatch, path: str, state: str, end: str | None
) -> None:
    monkeypatch.setenv("AGENTHUB_SECRET_API_TOKEN", SECRET)
    before = len(http_server.received)
    view, engine, db = run_process(tmp_path, http_server, path, PLACEHOLDER)
    try:
        assert view.state == state
        assert http_server.received[before:][-1]["authorization"] == f"Bearer {SECRET}"
        text = recorded(engine, view)
        assert SECRET not in text
        assert PLACEHOLDER in text  # the journal shows what the model asked for
        if end is not None:
            assert any(e["type"] == "element_completed" and e["elementId"] == end for e in engine.journal(view.key))
    finally:
        engine.close()
    assert SECRET not in cli_journal(db, view.key)
    assert SECRET not in cli_journal(db, view.key, "--json")


def test_a_missing_secret_is_an_incident_naming_the_environment_variable_and_nothing_is_sent(
    tmp_path: Path, http_server: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTHUB_SECRET_API_TOKEN", raising=False)
    before = len(http_server.hits)
    view, engine, _ = run_process(tmp_path, http_server, "/echo", PLACEHOLDER)
    try:
        assert view.state == "incident"
        [incident] = engine.incidents(instance=view.key)
        assert "AGENTHUB_SECRET_API_TOKEN" in incident.message
        assert "secrets.API_TOKEN" in incident.message
        assert len(http_server.hits) == before
    finally:
        engine.close()


def test_a_bearer_token_from_a_process_variable_is_masked_in_the_journal_and_not_copied_by_the_connector(
    tmp_path: Path, http_server: EchoServer
) -> None:
    token = "tok-from-a-variable-7d1e"
    before = len(http_server.received)
    view, engine, db = run_process(tmp_path, http_server, "/echo", token)
    try:
        assert view.state == "completed"
        assert http_server.received[before:][-1]["authorization"] == f"Bearer {token}"
        journal = json.dumps(engine.journal(view.key, limit=100_000))
        assert token not in journal
        assert view.variables["apiToken"] == token  # the modeller's own variable stays process data
        answer: Any = view.variables["answer"]
        assert token not in json.dumps(answer)
        assert answer["body"]["headers"]["authorization"] == "[redacted]"
        assert answer["body"]["headers"]["accept"] == "application/json"  # only credentials are masked
    finally:
        engine.close()
    assert token not in cli_journal(db, view.key)

