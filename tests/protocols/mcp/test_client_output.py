"""M16: what an upstream tool returns is cleaned of control sequences and held to a size budget."""

from __future__ import annotations

import pytest

from protocols.mcp.client_output import clean_text, limit_outcome


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),
        ("\x1b]0;window title\x07after", "after"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("bell\x07 and backspace\x08", "bell and backspace"),
        ("line\r\nnext\rover", "line\nnextover"),
        ("\u202egnp.exe\u202c", "gnp.exe"),
        ("\u2066isolate\u2069 \u200fmark", "isolate mark"),
        ("tag\U000e0041\U000e0042s", "tags"),
        ("\x9b31mC1 CSI", "C1 CSI"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("emoji 👩‍💻 and accents é", "emoji 👩‍💻 and accents é"),
    ],
)
def test_clean_text_strips_escapes_controls_and_bidi_overrides(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_text_beyond_the_budget_is_cut_and_the_block_and_outcome_are_marked() -> None:
    outcome = limit_outcome(
        [{"type": "text", "text": "a" * 6}, {"type": "text", "text": "b" * 6}], None, False, max_chars=8
    )
    assert [b["text"] for b in outcome.content] == ["aaaaaa", "bb"]
    assert "truncated" not in outcome.content[0] and outcome.content[1]["truncated"] is True
    assert outcome.truncated


def test_binary_data_that_does_not_fit_is_dropped_and_marked() -> None:
    outcome = limit_outcome([{"type": "image", "mimeType": "image/png", "data": "A" * 20}], None, False, max_chars=10)
    assert outcome.content == [{"type": "image", "mimeType": "image/png", "truncated": True}]
    assert outcome.truncated


def test_embedded_resource_text_is_cleaned_and_counted() -> None:
    block = {"type": "resource", "resource": {"uri": "file:///x", "text": "\x1b[1m" + "z" * 20}}
    outcome = limit_outcome([block], None, False, max_chars=5)
    assert outcome.content[0]["resource"]["text"] == "zzzzz"
    assert outcome.content[0]["truncated"] is True


def test_structured_content_is_cleaned_and_kept_whole_or_dropped() -> None:
    kept = limit_outcome([], {"note\x1b[0m": "\u202eok"}, False, max_chars=100)
    assert kept.structured_content == {"note": "ok"} and not kept.truncated
    dropped = limit_outcome([], {"rows": ["x" * 50] * 5}, False, max_chars=100)
    assert dropped.structured_content is None and dropped.truncated


def test_an_outcome_is_json_friendly() -> None:
    outcome = limit_outcome([{"type": "text", "text": "hi"}], {"n": 1}, True)
    assert outcome.to_json() == {
        "content": [{"type": "text", "text": "hi"}],
        "structuredContent": {"n": 1},
        "isError": True,
        "truncated": False,
    }
    assert outcome.text() == "hi"
