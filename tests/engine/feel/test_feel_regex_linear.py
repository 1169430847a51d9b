"""Hardening item 6: FEEL regular expressions run on RE2, so no pattern can freeze the hub.

``matches(x, "^(a|a)*$")`` on 30 characters held the GIL for 32 s under
Python's backtracking ``re``, past the old nested-quantifier guard. Each
pathological case runs in a child process with a timeout that the old engine
would blow by orders of magnitude (the inputs are sized so that ``re`` would
need far longer than the limit), so a regression fails instead of hanging the run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.feel import FeelEvaluationError, evaluate

REPO = Path(__file__).resolve().parents[3]
CHILD_TIMEOUT_S = 20

# Each doubles its running time under re with every extra character: 30 characters took 32 s, 60 would take years.
PATHOLOGICAL = [
    ('matches("' + "a" * 60 + '!", "^(a|a)*$")', "false"),
    ('matches("' + "a" * 60 + '!", "(a+)+$")', "false"),
    ('matches("' + "a" * 60 + '!", "^(a|aa)*$")', "false"),
    ('matches("' + "x" * 60 + 'y", "^(x*)*$")', "false"),
    ('replace("' + "a" * 60 + '!", "(a|a)*b", "z")', '"' + "a" * 60 + '!"'),
    ('split("' + "a" * 60 + '!", "(a|a)*b")', '["' + "a" * 60 + '!"]'),
    ('matches("' + "a" * 5000 + '", "^(a|a)*$")', "true"),
]


def _run_in_child(source: str) -> str:
    code = (
        "import json, sys\n"
        "from engine.feel import evaluate\n"
        "print(json.dumps(evaluate(sys.argv[1], {})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, source],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(("source", "expected"), PATHOLOGICAL)
def test_a_catastrophic_backtracking_pattern_answers_in_linear_time_instead_of_freezing_the_process(
    source: str, expected: str
) -> None:
    assert _run_in_child(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('matches("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "(a+)+$")', False),
        ('matches("aaaa", "(a+)+$")', True),
        ('matches("John Doe", "^\\p{Lu}\\p{Ll}+\\s\\p{Lu}")', True),
        ('matches("a\\tb", "a\\sb")', True),
        ('matches("3", "\\d")', True),
        ('matches("_", "[\\W]")', False),
        ('matches("!", "[a\\W]")', True),
        ('matches("e", "[a-z-[aeiou]]")', False),
        ('matches("x", "[a-z-[aeiou]]")', True),
        ('matches("E", "[a-z-[aeiou]]", "i")', False),
        ('matches("line1\\nline2", "^line2$", "m")', True),
        ('matches("line1\\nline2", "^line2$")', False),
        ('matches("a\\nb", "a.b", "s")', True),
        ('replace("2024-01-31", "(\\d+)-(\\d+)-(\\d+)", "$3.$2.$1")', "31.01.2024"),
        ('split("a1b22c", "[0-9]+")', ["a", "b", "c"]),
        ('split("a1b", "(1)")', ["a", "b"]),
        ('extract("a1b22", "[0-9]+")', ["1", "22"]),
        ('matches("a.b", "a.b", "q")', True),
        ('matches("axb", "a.b", "q")', False),
        ('matches("(.)\\2", "(.)\\2")', None),
        ('matches("x", "a{1001}")', None),
    ],
)
def test_feel_regular_expressions_keep_their_xml_schema_meaning_on_the_linear_engine(
    source: str, expected: object
) -> None:
    assert evaluate(source, {}) == expected


def test_a_back_reference_is_a_clear_feel_error_since_the_linear_engine_cannot_match_it() -> None:
    with pytest.raises(FeelEvaluationError, match=r"back-reference .* linear-time engine"):
        evaluate('matches("aa", "(a)\\1")', {})
