"""Hardening item 5 in the engine: ``check_variables`` is the last line of defence for every path.

A worker's result, a model's answer or an embedding program can hand the
engine Infinity or a lone surrogate without any JSON parser in between; the
engine refuses it naming the field, and the instance stays readable.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, InvalidInput
from engine.validation import check_variables

EXTERNAL = Path(__file__).resolve().parents[1] / "data" / "hub" / "external.bpmn"


@pytest.mark.parametrize(
    ("variables", "field", "problem"),
    [
        ({"amount": math.inf}, "'variables.amount'", "inf is not a finite number"),
        ({"order": {"lines": [1.5, -math.inf]}}, "'variables.order.lines[1]'", "-inf is not a finite number"),
        ({"ratio": math.nan}, "'variables.ratio'", "nan is not a finite number"),
        ({"name": "x\ud800"}, "'variables.name'", "lone surrogate"),
        ({"tags": ("ok", "\udfff")}, "'variables.tags[1]'", "lone surrogate"),
        ({"\ud800": 1}, "'variables'", "the key '\\ud800' holds a lone surrogate"),
    ],
)
def test_check_variables_refuses_infinity_nan_and_lone_surrogates_naming_the_field(
    variables: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_variables(variables)
    assert field in str(refused.value) and problem in str(refused.value)


def test_a_worker_result_holding_infinity_is_refused_and_the_instance_stays_listable(engine: Engine) -> None:
    engine.deploy([("external.bpmn", EXTERNAL.read_bytes())])
    key = engine.start("external", {"n": 1}).key
    [job] = engine.activate_jobs(["remote-work"], "w1", lease_ms=60_000)
    with pytest.raises(InvalidInput, match=r"'variables\.result': inf is not a finite number"):
        engine.complete_job(job.key, {"result": math.inf}, worker="w1", lock_version=job.lock_version)
    with pytest.raises(InvalidInput, match="lone surrogate"):
        engine.start("external", {"n": "\ud800"})
    with pytest.raises(InvalidInput, match=r"'variables\.n'"):
        engine.publish_message("paid", "k", {"n": math.nan})
    assert [view.key for view in engine.instances()] == [key]
    assert engine.instance(key).variables == {"n": 1}
