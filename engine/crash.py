"""Named crash points for durability tests (RELIABILITY.md H1).

``crashpoint("after_commit")`` does nothing unless the environment variable
``HUB_CRASH_AT`` names it (``name`` or ``name:N`` for the N-th time it is
reached in this process); then the process kills itself with SIGKILL, as a
power cut or an OOM kill would, leaving no chance to clean up.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}
_target: tuple[str, int] | None = None
_loaded = False


def _load() -> tuple[str, int] | None:
    raw = os.environ.get("HUB_CRASH_AT", "").strip()
    if not raw:
        return None
    name, _, nth = raw.partition(":")
    return name, int(nth) if nth else 1


def crashpoint(name: str) -> None:
    global _target, _loaded
    if not _loaded:
        _target = _load()
        _loaded = True
    if _target is None or _target[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= _target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
