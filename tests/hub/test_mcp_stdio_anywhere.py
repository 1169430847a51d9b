"""The README's stdio config for a desktop assistant works from any working directory.

A desktop assistant starts ``agenthub mcp --db sqlite:////abs/path.db`` in a
folder of its own choosing. The complaint example's agent names its rules
file relative to its BPMN; the file was deployed with the process, so the
agent finds it wherever the assistant starts the hub.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]
COMPLAINT = REPO / "examples" / "complaint"
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def deployed(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'agenthub.db'}"  # an absolute path, as in the README's config
    subprocess.run([AGENTHUB, "deploy", "--expose", "examples/complaint/complaint.bpmn", "--db", db], cwd=REPO,
                   check=True, capture_output=True, timeout=120)
    return db


async def test_the_complaint_agent_runs_over_stdio_started_in_another_folder(deployed: str, tmp_path: Path) -> None:
    db = deployed
    assistant_home = tmp_path / "assistant"
    assistant_home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("AGENTHUB_MODEL_FILES", "AGENTHUB_DB")}
    command = StdioServerParameters(
        command=AGENTHUB, args=["mcp", "--db", db, "--workers", str(COMPLAINT / "workers.py")], env=env,
        cwd=assistant_home,
    )
    async with Client(command, mode="legacy") as client:
        result = await client.call_tool(
            "complaint", {"customer": "ada", "orderId": "A-100", "complaint": "Never arrived."}
        )
        data = result.structured_content
        assert data is not None, result
        # the agent ran on its deployed rules file and now asks the customer: no incident about a missing file
        assert data["state"] == "active", data
        [wait] = data["waitingFor"]
        assert wait["kind"] == "userTask" and wait["element"] == "ask_customer" and wait["assignee"] == "ada"
        listed = await client.call_tool("agenthub_list_user_tasks", {})
        assert listed.structured_content == {"tasks": [], "next": None}  # ada's question: not the assistant's
