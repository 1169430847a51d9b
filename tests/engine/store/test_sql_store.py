"""The SQL store on both databases: migration, durability settings, keys, text PostgreSQL refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.ports import ManualClock
from engine.store import SqlStore

DATA = Path(__file__).resolve().parents[2] / "data" / "store"


def test_a_fresh_database_is_migrated_and_reopening_it_migrates_nothing(db_url: str) -> None:
    first = SqlStore(db_url)
    try:
        with first.transaction() as tx:
            key = tx.next_key()
    finally:
        first.close()
    again = SqlStore(db_url)
    try:
        with again.transaction() as tx:
            assert tx.next_key() > key, "a reopened store never hands out a key again"
    finally:
        again.close()


def test_durability_reports_the_settings_a_commit_relies_on(db_url: str) -> None:
    store = SqlStore(db_url)
    try:
        settings = store.durability()
    finally:
        store.close()
    if settings["database"] == "sqlite":
        assert settings["journal_mode"] == "WAL"
        assert settings["synchronous"] == "FULL"
    else:
        assert settings == {"database": "postgresql", "synchronous_commit": "on", "fsync": "on"}


def test_a_key_block_outlives_the_rolled_back_transaction_that_reserved_it(postgres_url: str) -> None:
    # Two transactions of one store share its key block, as two threads of a hub would. On PostgreSQL
    # the block is reserved apart and committed at once, so when the transaction that reserved it rolls
    # back, a key the other one committed is never handed out again by another process.
    store, other = SqlStore(postgres_url), SqlStore(postgres_url)
    try:
        with pytest.raises(RuntimeError), store.transaction() as reserving:
            dropped = reserving.next_key()
            with store.transaction() as committed:
                used = committed.next_key()
            raise RuntimeError("the reserving transaction rolls back")
        with other.transaction() as tx:
            fresh = {tx.next_key() for _ in range(5)}
        assert used not in fresh
        assert dropped not in fresh
    finally:
        store.close()
        other.close()


def test_a_handler_error_with_a_nul_character_is_stored_as_the_incident_message(db_url: str) -> None:
    engine = Engine(SqlStore(db_url), ManualClock())
    try:
        engine.deploy([("ledger_job.bpmn", (DATA / "ledger_job.bpmn").read_bytes())])
        instance = engine.start("ledger_job").key
        [job] = engine.activate_jobs(["ledger"], "A")
        engine.fail_job(job.key, "bad byte \x00 in reply", retries=0, worker="A", lock_version=job.lock_version)
        [incident] = engine.incidents(instance=instance)
        assert "bad byte" in incident.message
        assert "\x00" not in incident.message
    finally:
        engine.close()
