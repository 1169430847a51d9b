"""Launching a stdio MCP server: the registered argv, never a shell, and a scrubbed environment.

The SDK's ``mcp.client.stdio.stdio_client`` is not used because it cannot be
narrowed enough: it always passes on ``USER``, ``SHELL``, ``TERM`` and
``LOGNAME`` besides what it is given, and it buffers a line of any length.
Here the child gets exactly ``PATH``, ``HOME`` and ``LANG`` plus the variables
its registry entry names, and a line longer than the cap ends the connection
(``overflowed`` says so) instead of filling the hub's memory.

The child runs in a session of its own; closing the transport closes its
stdin, waits a moment, then terminates (and if need be kills) its whole
process group, all inside a cancellation shield with every wait bounded, so a
cancelled call leaves no process behind. Its stderr is discarded: a server
may print its own secrets there. POSIX only.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress

import anyio
import mcp_types as types
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.message import SessionMessage

__all__ = ["BASE_ENV", "StdioTransport", "scrubbed_environment"]

BASE_ENV = ("PATH", "HOME", "LANG")
_EXIT_GRACE_S = 2.0
Streams = tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
_KILL_GRACE_S = 2.0


class MissingVariable(Exception):
    """An environment variable the registry entry names is not set (the message names it, never a value)."""


def scrubbed_environment(listed: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``PATH``, ``HOME`` and ``LANG`` (where set) and every variable in ``listed``, which must be set."""
    env = {k: environ[k] for k in BASE_ENV if k in environ}
    for name in listed:
        if name not in environ:
            raise MissingVariable(f"environment variable {name} is not set")
        env[name] = environ[name]
    return env


class StdioTransport:
    """One child process speaking newline-delimited JSON-RPC on its stdin and stdout."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, max_line_bytes: int) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.max_line_bytes = max_line_bytes
        self.overflowed = False
        self.returncode: int | None = None

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Streams]:
        # A list argv goes straight to exec: no shell ever sees ';', '&&' or '$(...)'.
        # Shielded: a deadline that fires while the child is being spawned must not lose track of it.
        with anyio.CancelScope(shield=True):
            process = await anyio.open_process(
                self.argv, env=self.env, stderr=subprocess.DEVNULL, start_new_session=True
            )
        try:
            async with self._streams(process) as streams:
                yield streams
        finally:
            if process.returncode is None:  # stopped before the streams were up (or the stop above did not take)
                with anyio.CancelScope(shield=True):
                    self.returncode = await _stop(process)

    @asynccontextmanager
    async def _streams(self, process: Process) -> AsyncIterator[Streams]:
        reader_in, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, writer_out = anyio.create_memory_object_stream[SessionMessage](0)

        async def read_lines() -> None:
            assert process.stdout is not None
            pending = bytearray()
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError):
                async with reader_in:
                    async for chunk in process.stdout:
                        pending += chunk
                        while (end := pending.find(b"\n")) >= 0:
                            line = bytes(pending[:end])
                            del pending[: end + 1]
                            if line.strip():
                                await reader_in.send(_parse(line))
                        if len(pending) > self.max_line_bytes:
                            self.overflowed = True
                            return

        async def write_lines() -> None:
            assert process.stdin is not None
            try:
                async with writer_out:
                    async for message in writer_out:
                        data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                        await process.stdin.send(data.encode())
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                await reader_in.aclose()  # the child stopped reading: let the session see the end

        async with anyio.create_task_group() as tg:
            tg.start_soon(read_lines)
            tg.start_soon(write_lines)
            try:
                yield read_stream, write_stream
            finally:
                with anyio.CancelScope(shield=True):
                    await write_stream.aclose()
                    await read_stream.aclose()
                    self.returncode = await _stop(process)
                tg.cancel_scope.cancel()


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


async def _stop(process: Process) -> int | None:
    """Close stdin, give the child a moment to exit, then terminate (and kill) its process group."""
    assert process.stdin is not None and process.stdout is not None
    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await process.stdin.aclose()
    if not await _exited(process, _EXIT_GRACE_S):
        await terminate_posix_process_tree(process, _KILL_GRACE_S)
        await _exited(process, _KILL_GRACE_S)
    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await process.stdout.aclose()
    with anyio.move_on_after(_KILL_GRACE_S):
        await process.aclose()
    return process.returncode


async def _exited(process: Process, seconds: float) -> bool:
    # Polling returncode rather than process.wait(): a grandchild holding the pipes open would make wait() hang.
    with anyio.move_on_after(seconds):
        while process.returncode is None:  # noqa: ASYNC110 - nothing signals an exit but returncode
            await anyio.sleep(0.01)
    return process.returncode is not None
