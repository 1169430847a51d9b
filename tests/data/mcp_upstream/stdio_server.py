"""The fake upstream MCP server over stdio: ``python stdio_server.py STATE.json [ignored args...]``.

``STATE.json`` holds ``{"tools": {...}, "ledger": "ledger.jsonl"}`` and is read on every
request, so a test changes the tools by rewriting it. Extra arguments are
ignored: a test passes shell metacharacters there to show nothing interprets them.
The server records its argv in the ledger when it starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from mcp.server.stdio import stdio_server
from upstream import FileUpstream  # this file's folder is sys.path[0]


async def main(state: Path) -> None:
    upstream = FileUpstream(state)
    upstream.record({"event": "started", "argv": sys.argv})
    server = upstream.server()
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]))
