"""Waiting in a test for something a hub does in its own threads: poll until it is there, or fail naming it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["until_found"]

T = TypeVar("T")


def until_found(found: Callable[[], T | None], what: str, timeout_s: float = 30) -> T:
    """``found()``'s first answer that is not None, polled every 0.1 s; AssertionError naming ``what`` after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = found()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout_s:g} s")
        time.sleep(0.1)
