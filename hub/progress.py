"""Live progress of long commands on stderr: a worker's running count of jobs, deploying many files.

On a terminal the line is rewritten in place; elsewhere (a log, a CI job) a
line is printed only when the numbers changed, at most every ``every_s``
seconds, so a long run leaves a readable trail rather than thousands of lines.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["LiveCount"]


class LiveCount:
    """Prints ``describe()`` on ``stream`` while it changes, from a daemon thread, until ``stop``."""

    def __init__(
        self, describe: Callable[[], str], *, stream: TextIO | None = None, tty_every_s: float = 0.5,
        every_s: float = 10.0,
    ) -> None:
        self._describe = describe
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._every_s = tty_every_s if self._tty else every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agenthub-progress", daemon=True)
        self._shown = ""

    def __enter__(self) -> LiveCount:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._tty and self._shown:
            self._stream.write("\n")  # keep the last count; what follows starts on a line of its own
            self._stream.flush()

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(self._every_s):
            text = self._describe()
            if text == self._shown:
                continue
            self._shown = text
            elapsed = int(time.monotonic() - started)
            if self._tty:
                self._stream.write(f"\r\033[K{text} ({elapsed} s)")
            else:
                self._stream.write(f"{text} ({elapsed} s)\n")
            self._stream.flush()
