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

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "CREDENTIAL_NAMES", "CREDENTIAL_SUFFIXES", "REDACTED", "SECRET_SHAPES", "is_credential_name", "journaled",
    "secret_in",
]

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


# What a secret looks like wherever it is written: a private key's PEM armour and the key formats of the common
# providers (OpenAI/Anthropic ``sk-``, AWS access keys, GitHub and Slack tokens, Google API keys, Hugging Face).
SECRET_SHAPES: Final = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an OpenSSH private key", re.compile(r"\bb3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]{20,}")),
    ("an API key (sk-...)", re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{20,}")),
    ("an AWS access key", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("a Google API key", re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_\-]{30,}")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9\-]{10,}")),
    ("a Hugging Face token", re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}")),
)
_MAX_SCANNED: Final = 1_000_000  # characters of one string looked at (arguments are capped far below this)


def secret_in(value: Any, path: str = "") -> tuple[str, str] | None:
    """``(what, where)`` for the first string in ``value`` (keys too) shaped like a secret, or None.

    ``where`` is the path of the entry (``note``, ``items[2].body``; empty for ``value`` itself).
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            text = item[:_MAX_SCANNED]
            for what, shape in SECRET_SHAPES:
                if shape.search(text):
                    return what, where
        elif isinstance(item, Mapping):
            for key, inner in reversed(list(item.items())):
                name = f"{where}.{key}" if where else str(key)
                stack.append((inner, name))
                stack.append((str(key), name))
        elif isinstance(item, list | tuple):
            stack.extend((inner, f"{where}[{i}]") for i, inner in reversed(list(enumerate(item))))
    return None
