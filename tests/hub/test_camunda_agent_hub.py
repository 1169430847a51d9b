"""The hub runs Camunda's AI Agent sub-process: AGENTHUB_CAMUNDA_MODEL sends every Camunda agent to one model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import Engine
from engine.ports import ManualClock
from engine.scheduler import run_until_idle
from hub.job_types import job_handlers
from hub.settings import HubSettings
from registry import Registry

AGENT = Path(__file__).resolve().parents[1] / "data" / "agent" / "camunda_agent.bpmn"


def test_the_camunda_model_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_CAMUNDA_MODEL", " scripted:calc.json ")
    assert HubSettings.from_env().camunda_model == "scripted:calc.json"
    monkeypatch.delenv("AGENTHUB_CAMUNDA_MODEL")
    assert HubSettings.from_env().camunda_model is None


def test_a_camunda_agent_runs_on_the_model_the_hub_names_for_camunda_agents(tmp_path: Path) -> None:
    (tmp_path / "calc.json").write_text(json.dumps([
        {"tool_calls": [{"id": "c1", "name": "Add", "arguments": {"a": 5, "b": 3}}]},
        {"final": "5 + 3 = 8"},
    ]))
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}", clock=ManualClock())
    try:
        settings = HubSettings(model_files=str(tmp_path), camunda_model="scripted:calc.json")
        workers = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), settings, engine=engine)
        engine.deploy([(AGENT.name, AGENT.read_bytes())])
        view = engine.start("camunda_agent", {"inputText": "What is 5 + 3?", "followUpInput": None, "maxCalls": 5,
                                              "responseFormat": "text", "llmEndpoint": "http://127.0.0.1:9/v1"})
        run_until_idle(engine, workers, timeout_s=60)
        agent = engine.instance(view.key).variables["agent"]
        assert agent["responseText"] == "5 + 3 = 8"
        assert [m["role"] for m in agent["context"]["conversation"]["messages"]] == [
            "system", "user", "assistant", "tool_call_result", "assistant"]
    finally:
        engine.close()
