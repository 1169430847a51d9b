"""A small MCP server with a few tools, a resource and a resource template, for Camunda's MCP examples.

Camunda's ``ai-agent-chat-with-mcp-resources`` example (fetched, never committed) lists and reads resources of
a remote MCP server at ``localhost:12001``; this one answers there in the sweep of Camunda's examples
(``tests/hub/test_camunda_examples.py``). The sweep also registers it under the names and routes the public
URLs that the other MCP examples name (their ``filesystem`` and ``time`` clients, a fetch server, a wiki
server), so it offers a tool of each kind they list or call: ``fetch``, ``list_allowed_directories``,
``get_current_time``, ``ask_question``. Written for these tests, with the SDK's ``MCPServer``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server import MCPServer

from tests.servers import serve_app


def example_server() -> MCPServer:
    server = MCPServer(name="example-resources", version="1.0.0")

    @server.tool()
    def greet(name: str) -> str:
        """Greets someone by name."""
        return f"Hello, {name}!"

    @server.tool()
    def fetch(url: str, max_length: int = 5000) -> str:
        """Fetches a URL and returns its text (here: a fixed page, never the network)."""
        return f"The page at {url}: nothing to see here."[:max_length]

    @server.tool()
    def list_allowed_directories() -> str:
        """Lists the directories this server may read."""
        return "Allowed directories:\n/srv/shared"

    @server.tool()
    def get_current_time(timezone: str = "UTC") -> str:
        """Tells the current time in a timezone (here: a fixed instant)."""
        return f"2026-12-07T12:00:00 {timezone}"

    @server.tool()
    def ask_question(repoName: str, question: str) -> str:
        """Answers a question about a repository's documentation."""
        return f"About {repoName}: the answer to {question!r} is in its README."

    @server.resource("docs://readme", name="readme", description="What this server offers.", mime_type="text/plain")
    def readme() -> str:
        return "This server greets people and keeps one document."

    @server.resource("docs://notes/{topic}", name="note", description="A note on a topic.", mime_type="text/plain")
    def note(topic: str) -> str:
        return f"A note on {topic}."

    return server


@contextmanager
def serve_example(port: int) -> Iterator[str]:
    """The server at ``http://127.0.0.1:port/mcp`` until the block ends; its URL as the examples name it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    try:
        with serve_app(example_server().streamable_http_app(), sock, what=f"the example MCP server on port {port}"):
            yield f"http://localhost:{port}/mcp"
    finally:
        sock.close()
