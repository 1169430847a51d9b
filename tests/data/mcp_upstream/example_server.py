"""A small MCP server with a tool, a resource and a resource template, for Camunda's MCP resources example.

Camunda's ``ai-agent-chat-with-mcp-resources`` example (fetched, never committed) lists and reads resources of
a remote MCP server at ``localhost:12001``; this one answers there in the sweep of Camunda's examples
(``tests/hub/test_camunda_examples.py``). Written for these tests, with the SDK's ``MCPServer``.
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
