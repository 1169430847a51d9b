"""A process offered Camunda's way (its MCP start event) is an A2A skill too: a message starts it at that event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from a2a.types import TaskState

from tests.protocols.a2a.harness import artifact_data, message, send

pytestmark = pytest.mark.anyio
MODEL = Path(__file__).resolve().parents[2] / "data" / "hub" / "camunda_mcp_start.bpmn"


async def test_a_message_starts_a_process_with_camundas_mcp_start_event_at_that_event(a2a_hub: Any) -> None:
    a2a_hub.engine.deploy([(MODEL.name, MODEL.read_bytes())])  # no expose: the start event offers it
    async with a2a_hub.client("refund_order") as client:
        task = await send(client, message(data={"orderId": "o-3", "amount": 5}))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_data(task)["refund"] == {"status": "refunded", "order": "o-3", "amount": 5}
    activated = [e.get("elementId") for e in a2a_hub.engine.journal(int(task.id)) if e["type"] == "element_activated"]
    assert activated[:2] == ["RefundRequested", "Refund"]
