"""Local users: a person's token verifies as the user, with the user's groups as they are now (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from registry import InvalidEntry, Principal, Registry, RegistryConflict, RegistryNotFound
from registry.store import _MIGRATIONS, HEAD_REVISION


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    opened = Registry.open(db_url)
    yield opened
    opened.close()


def test_a_token_issued_to_a_user_verifies_as_that_person_with_their_groups(registry: Registry) -> None:
    registry.users.add("ada", "Ada Lovelace", "ops,finance,ops")
    info, secret = registry.tokens.create("laptop", "read,start", user="ada")
    assert info.user == "ada" and info.to_json()["user"] == "ada"
    assert registry.tokens.verify(secret) == Principal(
        name="ada", scopes=frozenset({"read", "start"}), token_id=info.id, groups=frozenset({"finance", "ops"}),
        person=True, display_name="Ada Lovelace",
    )
    assert [t.user for t in registry.tokens.all()] == ["ada"]


def test_a_token_without_a_user_stays_a_machine_client_with_no_groups(registry: Registry) -> None:
    info, secret = registry.tokens.create("ci", ["read"])
    assert registry.tokens.verify(secret) == Principal(name="ci", scopes=frozenset({"read"}), token_id=info.id)
    assert info.to_json()["user"] is None


def test_a_change_of_groups_applies_to_the_next_verify(registry: Registry) -> None:
    registry.users.add("ada", groups=["ops"])
    _, secret = registry.tokens.create("laptop", ["read"], user="ada")
    updated = registry.users.update("ada", groups="finance, audit")
    assert updated.groups == ("audit", "finance") and updated.name == "ada"
    principal = registry.tokens.verify(secret)
    assert principal is not None and principal.groups == {"audit", "finance"} and principal.in_group("audit")
    registry.users.update("ada", name="Ada L.")
    principal = registry.tokens.verify(secret)
    assert principal is not None and principal.display_name == "Ada L." and principal.groups == {"audit", "finance"}


def test_removing_a_user_revokes_their_tokens_and_leaves_other_tokens_alone(registry: Registry) -> None:
    registry.users.add("ada")
    ada, ada_secret = registry.tokens.create("laptop", ["read"], user="ada")
    _, ci_secret = registry.tokens.create("ci", ["read"])
    assert registry.users.remove("ada") == [ada.id]
    assert registry.tokens.verify(ada_secret) is None
    assert registry.tokens.verify(ci_secret) is not None
    assert registry.users.all() == []
    with pytest.raises(RegistryNotFound, match="no user 'ada'"):
        registry.users.remove("ada")
    registry.users.add("ada")  # the same id again is a new user: the old tokens stay revoked
    assert registry.tokens.verify(ada_secret) is None
    kinds = [e["kind"] for e in registry.store.events("user:ada")]
    assert kinds == ["user.added", "user.removed", "user.added"]


def test_bad_ids_groups_and_names_are_refused_with_what_a_good_one_looks_like(registry: Registry) -> None:
    for bad in ("", "has space", "-dash", "cli:ada", "x" * 65, "ünïcode"):
        with pytest.raises(InvalidEntry, match="invalid user id"):
            registry.users.add(bad)
    with pytest.raises(InvalidEntry, match="invalid group name 'a b'"):
        registry.users.add("ada", groups="ops,a b")
    with pytest.raises(InvalidEntry, match="printable"):
        registry.users.add("ada", "Ada\x1b[31m")
    assert registry.users.all() == []


def test_a_taken_id_an_unknown_user_and_a_principal_name_shared_with_a_machine_are_refused(registry: Registry) -> None:
    registry.users.add("ada")
    with pytest.raises(RegistryConflict, match=r"exists already.*--update"):
        registry.users.add("ada")
    with pytest.raises(RegistryNotFound, match="no user 'bob'"):
        registry.tokens.create("laptop", ["read"], user="bob")
    with pytest.raises(RegistryNotFound, match="no user 'bob'"):
        registry.users.update("bob", groups=["ops"])
    with pytest.raises(InvalidEntry, match="nothing to change for user 'ada'"):
        registry.users.update("ada")
    with pytest.raises(RegistryConflict, match="is a user's id"):
        registry.tokens.create("ada", ["read"])
    registry.tokens.create("ci", ["read"])
    with pytest.raises(RegistryConflict, match="a machine token is named 'ci'"):
        registry.users.add("ci")


def test_the_migration_adds_users_to_a_registry_made_by_the_earlier_migrations(db_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    engine = create_engine(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(
            text(
                "INSERT INTO api_tokens (id, name, token_hash, scopes, created_at) "
                "VALUES ('0000abcd', 'old', :hash, :scopes, 1)"
            ),
            {"hash": "0" * 64, "scopes": json.dumps(["read"])},
        )
    with engine.connect() as conn:
        assert not inspect(conn).has_table("users")
    engine.dispose()

    registry = Registry.open(db_url)  # upgrades to the head revision
    try:
        with registry.store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM registry_alembic_version")).scalar() == HEAD_REVISION
            assert "user_id" in {c["name"] for c in inspect(conn).get_columns("api_tokens")}
        [old] = registry.tokens.all()
        assert old.name == "old" and old.user is None  # an existing token stays a machine client's
        registry.users.add("ada", groups="ops")
        _, secret = registry.tokens.create("laptop", ["read"], user="ada")
        principal = registry.tokens.verify(secret)
        assert principal is not None and principal.person and principal.groups == {"ops"}
    finally:
        registry.close()
