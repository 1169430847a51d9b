"""Stopping a long-running command gracefully on SIGTERM or Ctrl-C, and at once on a second signal.

``agenthub worker`` under a process manager (systemd, Kubernetes, a shell's
Ctrl-C) is stopped with SIGTERM or SIGINT. The first signal asks the worker
loop to stop: it claims nothing more, lets the running handlers finish and
reports them, and hands the jobs it had queued but not started back, so no
job is left locked to be counted as a stall when its lease runs out. A
second signal stops at once (Python's ``KeyboardInterrupt``): the jobs then
running are claimed again by another worker once their lease runs out, as
after a crash.

Rejected: Python's default for SIGTERM, which ends the process without
running any cleanup; every in-flight job then waited out its lease and
counted a stall (three stalls make an incident).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["stop_on_signals"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None], say: Callable[[str], None]) -> Iterator[None]:
    """Call ``stop`` on the first SIGTERM or SIGINT, raise ``KeyboardInterrupt`` on the next (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    asked: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if asked:
            raise KeyboardInterrupt(f"{name} again: stopping now")
        asked.append(signum)
        say(f"{name}: stopping; finishing the running jobs (send it again to stop at once)")
        stop()

    previous = {sig: signal.signal(sig, handle) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
