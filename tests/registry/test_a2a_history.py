"""The registry's A2A task history on SQLite and PostgreSQL: appended in order, read back by the last N,
digests by message id, an oversized message kept as a note."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry import Registry, TaskHistory
from registry.a2a_history import MAX_MESSAGE_CHARS


@pytest.fixture
def history(db_url: str) -> Iterator[TaskHistory]:
    registry = Registry.open(db_url)
    yield registry.a2a_history
    registry.close()


def _message(message_id: str, text: str, role: str = "ROLE_USER") -> dict[str, object]:
    return {"messageId": message_id, "role": role, "taskId": "7", "parts": [{"text": text}]}


def test_messages_are_kept_in_order_per_task_and_read_as_the_last_n(history: TaskHistory) -> None:
    history.append("7", [(_message("m1", "one"), "d1")])
    history.append("8", [(_message("x", "elsewhere"), "dx")])
    history.append("7", [(_message("q", "which?", "ROLE_AGENT"), None), (_message("m2", "two"), "d2")])
    assert [m["messageId"] for m in history.last("7", 100)] == ["m1", "q", "m2"]
    assert [m["messageId"] for m in history.last("7", 2)] == ["q", "m2"]
    assert history.last("7", 0) == [] and history.last("9", 5) == []
    assert history.digests("7", "m2") == ["d2"] and history.digests("7", "x") == []


def test_an_id_used_twice_on_a_task_has_both_digests_and_a_huge_message_is_kept_as_a_note(
    history: TaskHistory,
) -> None:
    history.append("7", [(_message("same", "first"), "d1")])
    history.append("7", [(_message("same", "x" * (MAX_MESSAGE_CHARS + 1)), "d2")])
    assert history.digests("7", "same") == ["d1", "d2"]
    note = history.last("7", 1)[0]
    assert note["messageId"] == "same" and note["role"] == "ROLE_USER" and note["taskId"] == "7"
    assert "not kept in the task's history" in note["parts"][0]["text"]
