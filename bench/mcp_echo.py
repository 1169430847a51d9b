"""The benchmark's upstream: an ``echo`` tool on the official ``mcp`` SDK server, over streamable HTTP.

python bench/mcp_echo.py PORT [--announce]

With ``--announce`` it also serves ``subscriptions/listen``, so it advertises
``tools.listChanged`` (it never changes its tools): a hub may then reuse its
listing between calls (``protocols.mcp.client_listing``).
"""

from __future__ import annotations

import sys
from typing import Any

import mcp.types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler

ECHO = types.Tool(
    name="echo",
    description="Echo the text back",
    input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
)


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[ECHO])


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    text = str((params.arguments or {}).get("text", ""))
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content={"text": text})


def main() -> None:
    listen = ListenHandler(InMemorySubscriptionBus()) if "--announce" in sys.argv[2:] else None
    server = Server("bench-echo", on_list_tools=list_tools, on_call_tool=call_tool, on_subscriptions_listen=listen)
    app = server.streamable_http_app()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
