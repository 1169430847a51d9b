"""Whatever bytes arrive, parse_bpmn returns a model or raises BpmnParseError, and nothing else."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from engine.model import Definitions
from engine.parser import BpmnParseError, parse_bpmn

SEED = (Path(__file__).resolve().parents[2] / "data" / "parser" / "camunda8_order.bpmn").read_bytes()
SEED_TREE = etree.fromstring(SEED)
SEED_IDS = sorted({str(e.get("id")) for e in SEED_TREE.iter() if e.get("id")})
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
LOCAL_TAGS = """task serviceTask scriptTask userTask callActivity subProcess adHocSubProcess startEvent endEvent
boundaryEvent intermediateCatchEvent exclusiveGateway parallelGateway eventBasedGateway sequenceFlow process
complexGateway transaction timerEventDefinition messageEventDefinition conditionExpression
multiInstanceLoopCharacteristics extensionElements definitions"""
TAGS = [BPMN + t for t in LOCAL_TAGS.split()]
TAGS += ["{http://camunda.org/schema/zeebe/1.0}taskDefinition", "{urn:other}thing", "plain"]

# A few seconds in CI; PARSER_FUZZ_EXAMPLES=10000 for a long local run.
FUZZ = settings(
    max_examples=int(os.environ.get("PARSER_FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def outcome(data: bytes | str) -> Definitions | BpmnParseError:
    try:
        return parse_bpmn(data, source_name="fuzz.bpmn", known_process_ids=("billing",))
    except BpmnParseError as error:
        internal = [p for p in error.problems if p.message.startswith("internal parser error")]
        assert internal == []
        return error


@FUZZ
@given(st.binary(max_size=2_000))
def test_random_bytes_only_ever_raise_bpmn_parse_error(data: bytes) -> None:
    outcome(data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcdefx:!?&;[]-\n")), max_size=400))
def test_random_markup_like_text_only_ever_raises_bpmn_parse_error(text: str) -> None:
    outcome(text)


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    tree = copy.deepcopy(SEED_TREE)
    elements = list(tree.iter())
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        element = elements[draw(st.integers(min_value=0, max_value=len(elements) - 1))]
        action = draw(st.sampled_from(["drop-attribute", "swap-id", "retag", "remove", "duplicate", "text"]))
        if action == "drop-attribute" and element.attrib:
            del element.attrib[draw(st.sampled_from(sorted(element.attrib)))]
        elif action == "swap-id" and element.attrib:
            name = draw(st.sampled_from(sorted(element.attrib)))
            element.set(name, draw(st.sampled_from([*SEED_IDS, "", "=x +", "true", "nope"])))
        elif action == "retag":
            element.tag = draw(st.sampled_from(TAGS))
        elif action == "remove" and (parent := element.getparent()) is not None:
            parent.remove(element)
        elif action == "duplicate" and (parent := element.getparent()) is not None:
            parent.append(copy.deepcopy(element))
        elif action == "text":
            element.text = draw(st.sampled_from(["=", "=a ==", "PT1H", "R/PT0S", "=items", ""]))
    return etree.tostring(tree)


@FUZZ
@given(mutated_documents())
def test_mutated_camunda_documents_only_ever_raise_bpmn_parse_error(data: bytes) -> None:
    outcome(data)


@FUZZ
@given(st.integers(min_value=0, max_value=len(SEED)), st.integers(min_value=0, max_value=200), st.binary(max_size=20))
def test_spliced_bytes_only_ever_raise_bpmn_parse_error(at: int, cut: int, insert: bytes) -> None:
    outcome(SEED[:at] + insert + SEED[at + cut :])


def test_the_unmutated_seed_parses() -> None:
    assert isinstance(outcome(SEED), Definitions)
