"""The examples `make examples` runs (and `make run` serves): each one reaches the end its example.json expects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_example_runs_to_completion(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AGENTHUB_DB": f"sqlite:///{tmp_path / 'examples.db'}",
        "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL",
    }
    result = subprocess.run(
        [sys.executable, "-m", "examples.run_all"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("-> completed") == 7
    assert "a person completes 'Approve: Refund the order' with {\"approved\": true}" in result.stdout
    assert "Refunded 120 for order A-100" in result.stdout
    assert "a person completes 'Approve order'" in result.stdout
    assert "publishes 'payment-received'" in result.stdout
