"""Public BPMN corpora parse without crashing: a model or a clean BpmnParseError, nothing else.

The MIWG reference models and bpmn-moddle fixtures are interchange tests (most
of their processes are not executable, some fixtures are fragments); the
SpiffWorkflow files are executable with Python expressions, which this engine
never runs, so many are rightly refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.parser import BpmnParseError, parse_bpmn

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"

# (folder, least number of files that must parse into Definitions)
SETS = [
    ("bpmn-miwg/Reference", 15),
    ("bpmn-moddle/test/fixtures/bpmn", 30),
    ("spiffworkflow", 25),
]


@pytest.mark.parametrize(("folder", "least"), SETS, ids=[s[0].split("/")[0] for s in SETS])
def test_every_corpus_file_parses_or_is_refused_with_problems(folder: str, least: int) -> None:
    root = CORPUS / folder
    if not root.is_dir():
        pytest.skip(f"corpus not found at {root}")
    files = sorted(root.rglob("*.bpmn"))
    parsed = 0
    refused = 0
    for path in files:
        try:
            parse_bpmn(path.read_bytes(), source_name=path.name)
        except BpmnParseError as error:
            refused += 1
            assert error.problems, path
            internal = [p for p in error.problems if p.message.startswith("internal parser error")]
            assert internal == [], path
        else:
            parsed += 1
    print(f"{folder}: {len(files)} files, {parsed} parsed, {refused} refused")
    assert files
    assert parsed >= least
