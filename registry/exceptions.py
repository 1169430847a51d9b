"""What the registry raises.

RegistryError            base: a message fit for a user
├── RegistryNotFound     no such token, server, tool or agent
├── RegistryConflict     a name already taken
├── InvalidEntry         a malformed name, URL, command or scope
└── ToolBlocked          a tool not callable until an admin approves its current definition
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base of the registry's errors; the message says what was wrong and what to do."""


class RegistryNotFound(RegistryError):
    pass


class RegistryConflict(RegistryError):
    pass


class InvalidEntry(RegistryError):
    pass


class ToolBlocked(RegistryError):
    pass
