"""Console sessions: a browser signed in with an API token (or by OpenID Connect) for a while.

The cookie holds a random 256-bit value; the table keeps only its SHA-256, so
a copy of the database signs no one in. A session signed in with a token is
bound to it: the principal is read anew from the token on every request, so
revoking the token (or removing its user, or changing the user's groups) takes
effect on the session at once. A session from an OpenID Connect sign-in keeps
the principal its ID token established until it expires (no token to re-read).

Each session has its own CSRF token, embedded in every form of the console and
checked on every state-changing request (hub/web/render.py).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from registry.schema import console_sessions
from registry.store import RegistryStore, now_ms
from registry.tokens import Principal, Tokens, secret_digest

__all__ = ["DEFAULT_SESSION_S", "Session", "Sessions"]

DEFAULT_SESSION_S = 8 * 3600  # a working day


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: int  # epoch milliseconds
    token_id: str | None


def _principal_json(who: Principal) -> str:
    return json.dumps({"name": who.name, "scopes": sorted(who.scopes), "groups": sorted(who.groups),
                       "person": who.person, "displayName": who.display_name, "token": who.token_id})


def _principal_from(raw: str) -> Principal:
    data = json.loads(raw)
    return Principal(name=data["name"], scopes=frozenset(data["scopes"]), token_id=data.get("token"),
                     groups=frozenset(data["groups"]), person=bool(data["person"]),
                     display_name=data.get("displayName"))


class Sessions:
    def __init__(self, store: RegistryStore, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens

    def create(self, principal: Principal, *, ttl_s: int = DEFAULT_SESSION_S) -> tuple[str, Session]:
        """A new session for ``principal``; returns the cookie's value (shown only here) and the session."""
        value = secrets.token_urlsafe(32)
        at = now_ms()
        session = Session(principal, secrets.token_urlsafe(32), at + ttl_s * 1000, principal.token_id)
        with self.store.begin() as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < at))
            conn.execute(insert(console_sessions).values(
                id_hash=secret_digest(value), token_id=principal.token_id, principal=_principal_json(principal),
                csrf=session.csrf, created_at=at, expires_at=session.expires_at))
            self.store.audit(conn, "session.started", f"principal:{principal.name}",
                             {"token": principal.token_id} if principal.token_id else {}, actor=principal.name)
        return value, session

    def get(self, value: str) -> Session | None:
        """The live session behind a cookie's value, with its principal as of now; None when over or unknown."""
        if not value or len(value) > 128:
            return None
        with self.store.read() as conn:
            query = select(console_sessions).where(console_sessions.c.id_hash == secret_digest(value))
            row = conn.execute(query).first()
        if row is None or row.expires_at <= now_ms():
            return None
        if row.token_id is not None:
            principal = self.tokens.principal_of(row.token_id)
            if principal is None:  # the token was revoked, or its user removed
                return None
        else:
            principal = _principal_from(row.principal)
        return Session(principal, row.csrf, int(row.expires_at), row.token_id)

    def end(self, value: str) -> bool:
        """Sign out: the session stops at once. False when there was none."""
        digest = secret_digest(value)
        with self.store.begin() as conn:
            row = conn.execute(select(console_sessions.c.principal).where(console_sessions.c.id_hash == digest)).first()
            if row is None:
                return False
            conn.execute(delete(console_sessions).where(console_sessions.c.id_hash == digest))
            name = json.loads(row.principal)["name"]
            self.store.audit(conn, "session.ended", f"principal:{name}", actor=name)
        return True
