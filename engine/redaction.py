"""What the journal may not keep: the values of entries whose names say they are credentials.

The journal is read by anyone with ``read`` scope (``agenthub journal``, REST
``GET /api/v1/process-instances/{key}/journal``), while a credential an
instance needs lives in its variables: a request's ``headers`` context built
with ``Authorization: "Bearer " + token``, or the ``token`` variable itself.
So every variable value the journal records goes through ``journaled``: an
entry, at any depth, whose name marks it as a credential (``CREDENTIAL_NAMES``
and the suffixes in ``CREDENTIAL_SUFFIXES``, compared case-insensitively with
``-`` and ``_`` ignored: ``X-Api-Key``, ``apiToken``, ``client_secret``)
keeps its name and shows ``REDACTED`` for its value.

Only the journal's copy is masked; the instance keeps the real value, since
its jobs need it. Keeping a credential out of the instance too is the
connector's ``{{secrets.NAME}}`` placeholder, resolved only when the call is
made (``docs/CONNECTORS.md``).

Names are the mark because the engine cannot tell a token from any other
string; a per-variable ``secret`` flag in the model was rejected for now: it
needs a model attribute no modeller tool writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["CREDENTIAL_NAMES", "CREDENTIAL_SUFFIXES", "REDACTED", "is_credential_name", "journaled"]

REDACTED: Final = "[redacted]"
CREDENTIAL_NAMES: Final = frozenset({"authorization", "proxyauthorization", "cookie", "setcookie", "passwd"})
# "token" but not "tokens": ``maxTokens`` and ``inputTokens`` are counts, not credentials.
CREDENTIAL_SUFFIXES: Final = ("token", "secret", "password", "apikey", "privatekey", "credentials")


def is_credential_name(name: str) -> bool:
    """Whether an entry called ``name`` holds a credential (``Authorization``, ``X-Api-Key``, ``apiToken``)."""
    folded = name.lower().replace("-", "").replace("_", "")
    return folded in CREDENTIAL_NAMES or folded.endswith(CREDENTIAL_SUFFIXES)


def journaled(value: Any) -> Any:
    """``value`` as the journal keeps it: credential-named entries' values (not null ones) replaced."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if item is not None and is_credential_name(str(key)) else journaled(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [journaled(item) for item in value]
    return value
