"""The FEEL part of the DMN TCK (compliance level 3) must keep its pass rate."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus"
# Measured at 97.0% (1892 of 1950 test cases); the margin leaves room for harmless changes in the runner.
MIN_PASS_RATE = 0.965


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feel_tck", REPO / "bench" / "feel_tck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("feel_tck", module)
    spec.loader.exec_module(module)
    return module


def test_dmn_tck_feel_pass_rate_does_not_regress() -> None:
    if not (CORPUS / "dmn-tck").is_dir():
        pytest.skip(f"DMN TCK corpus not found at {CORPUS / 'dmn-tck'}")
    runner = _load_runner()
    outcomes = runner.run_tck(CORPUS)
    passed = sum(o.passed for o in outcomes)
    rate = passed / len(outcomes)
    print(f"DMN TCK FEEL: {passed}/{len(outcomes)} passed ({rate:.1%})")
    assert len(outcomes) > 1500
    assert rate >= MIN_PASS_RATE, f"TCK pass rate fell to {rate:.1%} ({passed}/{len(outcomes)})"
