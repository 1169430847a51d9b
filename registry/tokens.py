"""API tokens: bearer secrets with scopes, stored only as SHA-256 hashes.

A token reads ``ahk_<id>_<secret>``: the id names it in listings and
``agenthub token revoke``; the secret is 256 random bits shown once, at
creation. Only the hash of the whole token is stored.

A token issued to a user (``registry.users``) speaks for that person: it
verifies as the user, with the user's name and groups as they are at verify
time, and stops verifying when the user is removed. A token without a user is
a machine client, named by the token's own name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select, update

from registry.exceptions import InvalidEntry, RegistryConflict, RegistryNotFound
from registry.schema import api_tokens, users
from registry.store import AuditActor, RegistryStore, now_ms

SCOPES = ("read", "deploy", "start", "tasks", "jobs", "admin")
_TOKEN = re.compile(r"^ahk_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as established from a verified token. ``admin`` holds every scope.

    ``name`` is the principal's id: a user's id for a person's token (or a signed-in person), the token's
    name for a machine client's. ``groups`` are the groups the principal belongs to (a user's, or from the
    sign-in's claims); ``person`` tells a person from a machine client; ``display_name`` is for people to read.
    """

    name: str
    scopes: frozenset[str]
    token_id: str | None = None
    groups: frozenset[str] = frozenset()
    person: bool = False
    display_name: str | None = None

    def has(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def in_group(self, group: str) -> bool:
        return group in self.groups

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "scopes": sorted(self.scopes), "token": self.token_id, "groups": sorted(self.groups),
            "person": self.person, **({"displayName": self.display_name} if self.display_name else {}),
        }


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    name: str
    scopes: list[str]
    created_at: int
    revoked_at: int | None
    last_used_at: int | None
    user: str | None = None  # the user it was issued to; None for a machine client's token

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scopes": self.scopes,
            "createdAt": self.created_at,
            "revokedAt": self.revoked_at,
            "lastUsedAt": self.last_used_at,
            "user": self.user,
        }


def parse_scopes(raw: str | list[str]) -> list[str]:
    """``"read,start"`` or a list, checked against the known scopes."""
    items = [s.strip() for s in (raw.split(",") if isinstance(raw, str) else raw) if s.strip()]
    unknown = [s for s in items if s not in SCOPES]
    if unknown:
        raise InvalidEntry(f"unknown scope {', '.join(repr(s) for s in unknown)}: use {', '.join(SCOPES)}")
    if not items:
        raise InvalidEntry(f"a token needs at least one scope: {', '.join(SCOPES)}")
    return sorted(set(items))


def secret_digest(secret: str) -> str:
    """How the registry keeps a secret it must recognise but never show again (tokens, session ids, push tokens)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return bool(_TOKEN.match(value))


class Tokens:
    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def create(self, name: str, scopes: str | list[str], *, user: str | None = None,
               actor: AuditActor = None) -> tuple[TokenInfo, str]:
        """A new token, for the user ``user`` (a person) or, without one, a machine client named ``name``.

        The secret is returned here and never again. An unknown user is RegistryNotFound; a machine token
        named like a user is RegistryConflict, since both would be the same principal.
        """
        return self._create(name, scopes, user=user, distinct_from_users=True, actor=actor)

    def _create(
        self, name: str, scopes: str | list[str], *, user: str | None, distinct_from_users: bool,
        actor: AuditActor = None,
    ) -> tuple[TokenInfo, str]:
        checked = parse_scopes(scopes)
        if not name or len(name) > 255:
            raise InvalidEntry("a token needs a name of 1 to 255 characters")
        token_id = secrets.token_hex(4)
        token = f"ahk_{token_id}_{secrets.token_urlsafe(32)}"
        at = now_ms()
        with self.store.begin() as conn:
            if user is not None and conn.execute(select(users.c.id).where(users.c.id == user)).first() is None:
                raise RegistryNotFound(f"no user '{user}': add one with `agenthub user add {user}` first")
            named_like_a_user = distinct_from_users and user is None
            if named_like_a_user and conn.execute(select(users.c.id).where(users.c.id == name)).first() is not None:
                raise RegistryConflict(
                    f"'{name}' is a user's id: create the token with --user {name} (REST: \"user\"), "
                    "or give a machine token another name"
                )
            conn.execute(
                insert(api_tokens).values(
                    id=token_id, name=name, token_hash=secret_digest(token), scopes=json.dumps(checked), created_at=at,
                    user_id=user,
                )
            )
            data: dict[str, Any] = {"name": name, "scopes": checked, **({"user": user} if user else {})}
            self.store.audit(conn, "token.created", f"token:{token_id}", data, actor)
        return TokenInfo(token_id, name, checked, at, None, None, user), token

    def verify(self, token: str) -> Principal | None:
        """The principal behind a presented token, or None for a wrong, malformed or revoked one."""
        if not looks_like_token(token):
            return None
        digest = secret_digest(token)
        with self.store.read() as conn:
            row = conn.execute(self._principal_query().where(api_tokens.c.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return self._principal(row)

    def principal_of(self, token_id: str) -> Principal | None:
        """The principal a live token (by id) speaks for now, or None when it was revoked or its user removed.

        For what was signed in with a token earlier (a console session): groups and scopes are read anew.
        """
        with self.store.read() as conn:
            row = conn.execute(self._principal_query().where(api_tokens.c.id == token_id)).first()
        return None if row is None else self._principal(row)

    @staticmethod
    def _principal_query() -> Any:
        return (
            select(api_tokens, users.c.id.label("found_user"), users.c.name.label("user_name"), users.c.groups)
            .select_from(api_tokens.outerjoin(users, users.c.id == api_tokens.c.user_id))
        )

    @staticmethod
    def _principal(row: Any) -> Principal | None:
        if row.revoked_at is not None:
            return None
        scopes = frozenset(json.loads(row.scopes))
        if row.user_id is None:
            return Principal(name=row.name, scopes=scopes, token_id=row.id)
        if row.found_user is None:  # the user was removed (their tokens were revoked then, too)
            return None
        return Principal(
            name=row.user_id, scopes=scopes, token_id=row.id, groups=frozenset(json.loads(row.groups)), person=True,
            display_name=row.user_name,
        )

    def revoke(self, id_or_name: str, *, actor: AuditActor = None) -> list[str]:
        """Revoke the token with this id (or every live token with this name); returns the ids revoked."""
        with self.store.begin() as conn:
            rows = conn.execute(
                select(api_tokens.c.id).where(
                    or_(api_tokens.c.id == id_or_name, api_tokens.c.name == id_or_name),
                    api_tokens.c.revoked_at.is_(None),
                )
            ).all()
            if not rows:
                raise RegistryNotFound(f"no live token with id or name '{id_or_name}' (see `agenthub token list`)")
            ids = [r.id for r in rows]
            conn.execute(update(api_tokens).where(api_tokens.c.id.in_(ids)).values(revoked_at=now_ms()))
            for token_id in ids:
                self.store.audit(conn, "token.revoked", f"token:{token_id}", None, actor)
        return ids

    def all(self, *, include_revoked: bool = False) -> list[TokenInfo]:
        query = select(api_tokens).order_by(api_tokens.c.created_at)
        if not include_revoked:
            query = query.where(api_tokens.c.revoked_at.is_(None))
        with self.store.read() as conn:
            return [
                TokenInfo(r.id, r.name, json.loads(r.scopes), r.created_at, r.revoked_at, r.last_used_at, r.user_id)
                for r in conn.execute(query)
            ]

    def any_admin(self) -> bool:
        return any("admin" in t.scopes for t in self.all())

    def seed_admin(self, token: str | None) -> str | None:
        """Make sure an admin token exists on first start.

        With ``token`` (from ``AGENTHUB_ADMIN_TOKEN``) that exact value becomes
        the admin token if it is not known yet; without one, and with no live
        admin token, a token is generated and returned so the caller can print
        it once. Returns None when nothing new was created.
        """
        if token is not None:
            if not looks_like_token(token):
                raise InvalidEntry(
                    "AGENTHUB_ADMIN_TOKEN must look like a token made by agenthub (ahk_<8 hex>_<43 characters>); "
                    "create one with `agenthub token create --scopes admin` or leave the variable unset"
                )
            if self.verify(token) is not None:
                return None
            token_id = token.split("_")[1]
            with self.store.begin() as conn:
                taken = conn.execute(select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first()
                if taken is not None:
                    raise InvalidEntry("AGENTHUB_ADMIN_TOKEN names a token id that was revoked; choose a new token")
                conn.execute(
                    insert(api_tokens).values(
                        id=token_id,
                        name="admin (AGENTHUB_ADMIN_TOKEN)",
                        token_hash=secret_digest(token),
                        scopes=json.dumps(["admin"]),
                        created_at=now_ms(),
                    )
                )
                self.store.audit(conn, "token.created", f"token:{token_id}", {"name": "admin", "scopes": ["admin"]})
            return None
        if self.any_admin():
            return None
        # The seeded token keeps its name even if a user is called "admin": refusing here would stop the hub starting.
        return self._create("admin", ["admin"], user=None, distinct_from_users=False)[1]


def generate_token() -> str:
    """A well-formed token value for ``AGENTHUB_ADMIN_TOKEN`` (not stored anywhere)."""
    return f"ahk_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
