"""Fixtures of the durability suite: a sandbox (database file, ledger file, processes) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.durability.harness import Sandbox, migrated_database


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_database(tmp_path_factory.mktemp("template"))


@pytest.fixture
def sandbox(tmp_path: Path, migrated_db: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path, template=migrated_db)
    yield box
    box.stop_all()
