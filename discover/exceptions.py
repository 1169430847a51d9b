"""Discover's errors: a ``DiscoverError`` is the caller's to fix (a process that is not deployed, a format
that does not exist); each says what was wrong and what to do.

    DiscoverError
    ├── UnknownProcess      the process has no deployed version
    ├── UnknownFormat       an export or import format other than those we read and write
    ├── MiningUnavailable   pm4py (the optional extra agenthub[discover]) is not installed
    ├── LogFormatError      an imported file is not a log we can read: every problem with its line
    ├── UnknownLog          no imported log has that name
    ├── LogExists           an imported log of that name exists (delete it first)
    ├── UnknownDraft        no draft has that id
    ├── DraftRefused        this principal may not decide the draft (not in the owner group, or its requester)
    └── DraftConflict       the draft is not in a state that allows it (decided already, failed its checks)
"""

from __future__ import annotations

__all__ = [
    "DiscoverError",
    "DraftConflict",
    "DraftRefused",
    "LogExists",
    "LogFormatError",
    "MiningUnavailable",
    "UnknownDraft",
    "UnknownFormat",
    "UnknownLog",
    "UnknownProcess",
]


class DiscoverError(Exception):
    pass


class UnknownProcess(DiscoverError):
    pass


class UnknownFormat(DiscoverError):
    pass


class MiningUnavailable(DiscoverError):
    pass


class LogFormatError(DiscoverError):
    """``problems`` are ``"FILE:LINE: what"`` lines, at most ``MAX_PROBLEMS``; the message holds them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class UnknownLog(DiscoverError):
    pass


class LogExists(DiscoverError):
    pass


class UnknownDraft(DiscoverError):
    pass


class DraftRefused(DiscoverError):
    pass


class DraftConflict(DiscoverError):
    pass
