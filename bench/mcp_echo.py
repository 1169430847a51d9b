"""The benchmark's upstream: an ``echo`` tool on the official ``mcp`` SDK server, over streamable HTTP.

python bench/mcp_echo.py PORT
"""

from __future__ import annotations

import sys
from typing import Any

import mcp.types as types
import uvicorn
from mcp.server.lowlevel import Server

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
    app = Server("bench-echo", on_list_tools=list_tools, on_call_tool=call_tool).streamable_http_app()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
