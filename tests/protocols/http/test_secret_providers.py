"""Where ``{{secrets.NAME}}`` values come from: the environment (Camunda's ``NAME``) and a secrets file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from protocols.http import FileSecrets, InvalidTask, environ_secret, secret_provider


def test_the_environment_gives_name_as_camunda_does_and_the_agenthub_prefix_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_TOKEN", "plain")
    assert environ_secret("CRM_TOKEN") == "plain"
    monkeypatch.setenv("AGENTHUB_SECRET_CRM_TOKEN", "prefixed")
    assert environ_secret("CRM_TOKEN") == "prefixed"
    assert environ_secret("NOT_SET_ANYWHERE_71") is None


def test_the_hubs_own_settings_are_never_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_ADMIN_TOKEN", "admin-token")
    assert environ_secret("AGENTHUB_ADMIN_TOKEN") is None


def test_a_json_secrets_file_is_read_and_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"A": "one", "N": 5}))
    secrets = FileSecrets(path)
    assert (secrets("A"), secrets("N"), secrets("B")) == ("one", None, None)
    path.write_text(json.dumps({"A": "rotated-value"}))
    os.utime(path, ns=(1, 10**18))
    assert secrets("A") == "rotated-value"


def test_a_dotenv_secrets_file_takes_comments_export_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text('# team secrets\nexport A=one\nB = "two words"\n\nC=\'three\'\n')
    secrets = FileSecrets(path)
    assert [secrets(n) for n in "ABC"] == ["one", "two words", "three"]


def test_a_secrets_file_that_cannot_be_read_fails_the_task_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("A=one\nthis-line-holds-a-secret\n")
    with pytest.raises(InvalidTask) as caught:
        FileSecrets(path)("A")
    assert "AGENTHUB_SECRETS_FILE" in str(caught.value) and "this-line" not in str(caught.value)
    with pytest.raises(InvalidTask):
        FileSecrets(tmp_path / "missing.json")("A")


def test_the_hubs_provider_asks_the_file_first_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"A": "from-file"}))
    monkeypatch.setenv("A", "from-env")
    monkeypatch.setenv("B", "env-only")
    provide = secret_provider({"AGENTHUB_SECRETS_FILE": str(path)})
    assert (provide("A"), provide("B")) == ("from-file", "env-only")
    assert secret_provider({}) is environ_secret
