"""Hardening item 5 at the CLI: ``--vars`` refuses ``1e999``, NaN and lone surrogates, naming the field.

Before, ``--vars '{"amount": 1e999}'`` stored Infinity, and every later listing failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hub.test_cli import DATA, Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"amount": 1e999}', "--vars: 'amount': 1e999 is too large"),
        ('{"order": {"lines": [1, NaN]}}', "--vars: 'order.lines[1]': NaN is not a JSON number"),
        ('{"name": "\\ud800"}', "--vars: 'name': the text '\\ud800' holds a lone surrogate"),
    ],
)
def test_vars_with_infinity_nan_or_a_lone_surrogate_exit_2_naming_the_field_and_start_nothing(
    cli: Cli, raw: str, message: str
) -> None:
    cli("deploy", str(DATA / "cli" / "approval.bpmn"))
    result = cli("start", "approval", "--vars", raw, ok=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.json("instances") == []
