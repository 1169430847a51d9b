"""Discover's errors: a ``DiscoverError`` is the caller's to fix (a process that is not deployed, a format
that does not exist); each says what was wrong and what to do.

    DiscoverError
    ├── UnknownProcess      the process has no deployed version
    ├── UnknownFormat       an export format other than xes or ocel
    └── MiningUnavailable   pm4py (the optional extra agenthub[discover]) is not installed
"""

from __future__ import annotations

__all__ = ["DiscoverError", "MiningUnavailable", "UnknownFormat", "UnknownProcess"]


class DiscoverError(Exception):
    pass


class UnknownProcess(DiscoverError):
    pass


class UnknownFormat(DiscoverError):
    pass


class MiningUnavailable(DiscoverError):
    pass
