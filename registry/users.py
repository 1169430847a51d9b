"""Local users: the people of an embedded hub, each with an id, a display name and groups.

A user is who a person's API token speaks for: ``Tokens.verify`` reads the user's name and groups at
verify time, so a change of groups applies to the next request (after the hub's two-second token cache)
and a removed user's tokens stop verifying. Machine clients are not users: their tokens carry no user.

Invariants:

- an id is 1 to 64 characters of letters, digits and ``. _ @ -``, starting with a letter or digit, so an
  e-mail address fits but the CLI's own principals (``cli:<login>``) and token names with spaces never do;
- groups are names of the same alphabet, stored sorted and without duplicates;
- removing a user revokes their live tokens in the same transaction. Rejected alternative: refusing the
  removal while tokens are live. Removal is how a person is cut off; a refusal there leaves the
  person's access in place until a second step that may never come.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from registry.exceptions import InvalidEntry, RegistryConflict, RegistryNotFound
from registry.schema import api_tokens, users
from registry.store import AuditActor, RegistryStore, now_ms

__all__ = ["User", "Users", "parse_groups", "valid_user_id"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_MAX_GROUPS = 100
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    groups: tuple[str, ...]
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "groups": list(self.groups), "createdAt": self.created_at}


def valid_user_id(user_id: str) -> str:
    """``user_id`` when it is a well-formed user id; else InvalidEntry saying what one looks like."""
    if not _NAME.match(user_id):
        raise InvalidEntry(
            f"invalid user id {user_id!r}: use 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit (for example 'ada' or 'ada@example.com')"
        )
    return user_id


def parse_groups(raw: str | Iterable[str]) -> tuple[str, ...]:
    """``"ops,finance"`` or a list of group names: checked, without duplicates, sorted."""
    items = [g.strip() for g in (raw.split(",") if isinstance(raw, str) else raw) if g.strip()]
    bad = [g for g in items if not _NAME.match(g)]
    if bad:
        raise InvalidEntry(
            f"invalid group name {', '.join(repr(g) for g in bad)}: use 1 to 64 letters, digits, '.', '_', '@' "
            "or '-', starting with a letter or digit"
        )
    groups = tuple(sorted(set(items)))
    if len(groups) > _MAX_GROUPS:
        raise InvalidEntry(f"a user may be in at most {_MAX_GROUPS} groups, not {len(groups)}")
    return groups


def _display_name(name: str | None, user_id: str) -> str:
    chosen = user_id if name is None else name.strip()
    if not chosen or len(chosen) > 255 or _CONTROL.search(chosen):
        raise InvalidEntry("a user's name must be 1 to 255 printable characters")
    return chosen


def _user(row: Any) -> User:
    return User(row.id, row.name, tuple(json.loads(row.groups)), row.created_at)


class Users:
    """The local users, in the registry's tables."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def add(
        self, user_id: str, name: str | None = None, groups: str | Iterable[str] = (), *, actor: AuditActor = None
    ) -> User:
        """A new user; an id taken already is RegistryConflict (``update`` changes an existing user)."""
        valid_user_id(user_id)
        display, checked = _display_name(name, user_id), parse_groups(groups)
        at = now_ms()
        with self.store.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is not None:
                raise RegistryConflict(
                    f"a user '{user_id}' exists already: change it with `agenthub user add {user_id} --update "
                    "...`, or remove it first with `agenthub user remove`"
                )
            self._refuse_machine_name(conn, user_id)
            conn.execute(
                insert(users).values(
                    id=user_id, name=display, groups=json.dumps(list(checked)), created_at=at, updated_at=at
                )
            )
            data = {"name": display, "groups": list(checked)}
            self.store.audit(conn, "user.added", f"user:{user_id}", data, actor=actor)
        return User(user_id, display, checked, at)

    def update(
        self,
        user_id: str,
        *,
        name: str | None = None,
        groups: str | Iterable[str] | None = None,
        actor: AuditActor = None,
    ) -> User:
        """Change a user's display name and/or groups (None keeps what is there); their tokens follow at once."""
        if name is None and groups is None:
            raise InvalidEntry(f"nothing to change for user '{user_id}': give a name or groups (--name, --groups)")
        with self.store.begin() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
            if row is None:
                raise RegistryNotFound(f"no user '{user_id}' (see `agenthub user list`)")
            values: dict[str, Any] = {"updated_at": now_ms()}
            if name is not None:
                values["name"] = _display_name(name, user_id)
            if groups is not None:
                values["groups"] = json.dumps(list(parse_groups(groups)))
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
            changed = {k: (json.loads(v) if k == "groups" else v) for k, v in values.items() if k != "updated_at"}
            self.store.audit(conn, "user.updated", f"user:{user_id}", changed, actor=actor)
            row = conn.execute(select(users).where(users.c.id == user_id)).one()
        return _user(row)

    def get(self, user_id: str) -> User:
        with self.store.read() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise RegistryNotFound(f"no user '{user_id}' (see `agenthub user list`)")
        return _user(row)

    def all(self) -> list[User]:
        with self.store.read() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.id))]

    def remove(self, user_id: str, *, actor: AuditActor = None) -> list[str]:
        """Remove a user and revoke their live tokens (in one transaction); returns the ids of the tokens revoked."""
        with self.store.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
                raise RegistryNotFound(f"no user '{user_id}' (see `agenthub user list`)")
            live = and_(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            ids = [r.id for r in conn.execute(select(api_tokens.c.id).where(live))]
            if ids:
                conn.execute(update(api_tokens).where(api_tokens.c.id.in_(ids)).values(revoked_at=now_ms()))
            conn.execute(delete(users).where(users.c.id == user_id))
            for token_id in ids:
                self.store.audit(conn, "token.revoked", f"token:{token_id}", {"user": user_id}, actor=actor)
            self.store.audit(conn, "user.removed", f"user:{user_id}", {"tokensRevoked": ids}, actor=actor)
        return ids

    @staticmethod
    def _refuse_machine_name(conn: Connection, user_id: str) -> None:
        """A user may not share its id with a live machine token's name: both would be the same principal."""
        taken = conn.execute(
            select(api_tokens.c.id).where(
                api_tokens.c.name == user_id, api_tokens.c.user_id.is_(None), api_tokens.c.revoked_at.is_(None)
            )
        ).first()
        if taken is not None:
            raise RegistryConflict(
                f"a machine token is named '{user_id}' (token {taken.id}): a user of that id would share its "
                "principal; revoke the token or choose another id"
            )
