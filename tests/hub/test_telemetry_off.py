"""Telemetry off (the default): a hub installs no OpenTelemetry SDK, and ``/metrics`` says how to turn it on."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import telemetry
from hub import telemetry as hub_telemetry
from hub.settings import HubSettings
from tests.hub.harness import serve_hub


def test_with_telemetry_off_a_hub_installs_no_sdk_and_metrics_says_how_to_turn_it_on(tmp_path: Path) -> None:
    with serve_hub(tmp_path) as hub, hub.client() as client:
        answer = client.get("/metrics")
        assert hub.app.state.telemetry is None
        assert hub_telemetry.installed() is None and not telemetry.enabled()
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "AGENTHUB_OTEL=1" in answer.json()["detail"]


def test_agenthub_otel_turns_it_on_and_a_value_that_is_neither_on_nor_off_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert HubSettings.from_env().otel is False
    monkeypatch.setenv("AGENTHUB_OTEL", "1")
    assert HubSettings.from_env().otel is True
    monkeypatch.setenv("AGENTHUB_OTEL", "maybe")
    with pytest.raises(ValueError, match="AGENTHUB_OTEL must be 1"):
        HubSettings.from_env()
