"""Prompts, resources, outputs and hints a process declares beside its ``<agenthub:tool>`` (engine.declarations)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.shared.inbound import find_invalid_x_mcp_header

from engine import DeploymentError, Engine
from engine.exposure import header_problems

DATA = Path(__file__).resolve().parents[1] / "data" / "mcp_surface"


def test_a_tool_carries_its_prompts_resources_outputs_and_hints(engine: Engine) -> None:
    engine.deploy([("refund.bpmn", (DATA / "refund.bpmn").read_bytes())])
    spec = engine.tool("refund")
    [prompt] = spec.prompts
    assert (prompt.name, [a.name for a in prompt.arguments]) == ("refund_request", ["order", "priority"])
    assert [(m.type, m.uri) for m in prompt.messages] == [("text", None), ("resource", "refunds://orders/{{order}}")]
    policy, order = spec.resources
    assert (policy.template, order.template) == (False, True)
    assert order.match("refunds://orders/O-1") == {"order": "O-1"} and order.match("refunds://policy") is None
    assert policy.match("refunds://policy") == {}
    assert spec.output_schema() == {
        "type": "object",
        "properties": {"refunded": {"type": "number", "description": "The amount refunded"}},
    }
    assert dict(spec.hints) == {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False}


def test_bad_prompt_resource_and_hint_declarations_are_refused_together_with_their_lines(engine: Engine) -> None:
    text = (DATA / "refund.bpmn").read_text()
    text = text.replace('destructiveHint="true"', 'destructiveHint="maybe"')
    text = text.replace('name="refund_request"', 'name="refund request"')
    text = text.replace('type="resource" uri="refunds://orders/{{order}}"', 'type="video"')
    text = text.replace('uri="refunds://policy"', "")
    with pytest.raises(DeploymentError) as caught:
        engine.deploy([("refund.bpmn", text)])
    messages = [p.message for p in caught.value.problems]
    assert any("destructiveHint must be true or false" in m for m in messages)
    assert any("agenthub:prompt needs a name" in m for m in messages)
    assert any("type must be one of text, image, audio, resource, not 'video'" in m for m in messages)
    assert any("needs either a uri or a uriTemplate" in m for m in messages)
    assert all(p.line is not None for p in caught.value.problems)


def test_task_support_client_capabilities_and_a_start_form_are_read_and_checked_at_deployment(engine: Engine) -> None:
    text = (DATA / "refund.bpmn").read_text()
    declared = text.replace('destructiveHint="true"', 'destructiveHint="true" taskSupport="required" '
                                                       'clientCapabilities="sampling, elicitation"')
    form = '<agenthub:schema>{"type": "object", "properties": {"why": {"type": "string"}}}</agenthub:schema>'
    with_form = declared.replace('<bpmn:startEvent id="start"/>',
                                 '<bpmn:startEvent id="start"><bpmn:documentation>Why?</bpmn:documentation>'
                                 f'<bpmn:extensionElements>{form}</bpmn:extensionElements></bpmn:startEvent>')
    assert with_form != declared
    engine.deploy([("refund.bpmn", with_form)])
    spec = engine.tool("refund")
    assert (spec.task_support, spec.client_capabilities) == ("required", ("sampling", "elicitation"))
    assert spec.start_form is not None and (spec.start_form.element_id, spec.start_form.message) == ("start", "Why?")
    assert spec.start_form.json_schema()["properties"] == {"why": {"type": "string"}}
    wrong = with_form.replace('taskSupport="required"', 'taskSupport="always"').replace(
        "sampling, elicitation", "sampling, files").replace('{"type": "object", "properties"', '{"type": "array", "x"')
    with pytest.raises(DeploymentError) as caught:
        engine.deploy([("refund.bpmn", wrong)])
    messages = [p.message for p in caught.value.problems]
    assert any("taskSupport must be forbidden, optional, required, not 'always'" in m for m in messages)
    assert any("clientCapabilities may name sampling, elicitation, roots, not 'files'" in m for m in messages)
    assert any("the start form (agenthub:schema) must be a JSON Schema object" in m for m in messages)


def test_an_explicit_json_schema_replaces_the_declared_inputs_and_must_be_an_object(engine: Engine) -> None:
    text = (
        (DATA / "refund.bpmn")
        .read_text()
        .replace(
            '<agenthub:output name="refunded"',
            '<agenthub:schema>{"type": "object", "minProperties": 1}</agenthub:schema><agenthub:output name="refunded"',
        )
    )
    engine.deploy([("refund.bpmn", text)])
    assert engine.tool("refund").input_schema() == {"type": "object", "minProperties": 1}
    with pytest.raises(DeploymentError, match="must hold a JSON Schema object"):
        engine.deploy([("refund.bpmn", text.replace('{"type": "object", "minProperties": 1}', "[1]"))])


@pytest.mark.parametrize(
    ("properties", "said"),
    [
        ('{"r": {"type": "string", "x-mcp-header": ""}}', "must be a header name token"),
        ('{"r": {"type": "string", "x-mcp-header": "My Region"}}', "must be a header name token"),
        ('{"r": {"type": "string", "x-mcp-header": "Région"}}', "must be a header name token"),
        ('{"n": {"type": "number", "x-mcp-header": "Score"}}', "only allowed on a string, integer or boolean"),
        ('{"o": {"type": "object", "x-mcp-header": "Data"}}', "only allowed on a string, integer or boolean"),
        ('{"a": {"type": "string", "x-mcp-header": "MyField"}, "b": {"type": "string", "x-mcp-header": "myfield"}}',
         "is property '[ab]''s too"),
        ('{"l": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}}',
         "reached through 'properties' alone"),
    ],
)
def test_a_wrong_x_mcp_header_annotation_is_refused_and_a_right_one_kept(
    engine: Engine, properties: str, said: str
) -> None:
    text = (DATA / "refund.bpmn").read_text()
    schema = '<agenthub:schema>{"type": "object", "properties": %s}</agenthub:schema><agenthub:output name="refunded"'
    with pytest.raises(DeploymentError, match=said):
        engine.deploy([("refund.bpmn", text.replace('<agenthub:output name="refunded"', schema % properties))])
    right = '{"r": {"type": "string", "x-mcp-header": "Region"}, "p": {"type": "integer", "x-mcp-header": "Pri"}}'
    engine.deploy([("refund.bpmn", text.replace('<agenthub:output name="refunded"', schema % right))])
    assert engine.tool("refund").input_schema()["properties"]["r"]["x-mcp-header"] == "Region"


_HEADER_SCHEMAS = [
    {"r": {"type": "string", "x-mcp-header": "Region"}, "p": {"type": "integer", "x-mcp-header": "Pri"}},
    {"v": {"type": "string", "x-mcp-header": ""}},
    {"v": {"type": "string", "x-mcp-header": "Region\n"}},
    {"v": {"type": "string", "x-mcp-header": "Region:Primary"}},
    {"b": {"type": "boolean", "x-mcp-header": 7}},
    {"n": {"type": "null", "x-mcp-header": "Nil"}},
    {"t": {"type": ["string", "null"], "x-mcp-header": "T"}},
    {"o": {"type": "object", "properties": {"inner": {"type": "integer", "x-mcp-header": "Inner"}}}},
    {"e": {"type": "string", "enum": ["x"], "default": {"x-mcp-header": "not a schema"}}},
    {"a": {"type": "string", "x-mcp-header": "Same"}, "b": {"type": "boolean", "x-mcp-header": "same"}},
    {"a": {"anyOf": [{"type": "string", "x-mcp-header": "A"}]}},
]


@pytest.mark.parametrize("properties", _HEADER_SCHEMAS)
def test_the_engines_x_mcp_header_check_refuses_what_the_mcp_sdk_refuses(properties: dict[str, object]) -> None:
    """The engine keeps its own copy of SEP-2243's rule (it does not import the MCP SDK); the two must agree."""
    schema = {"type": "object", "properties": properties}
    assert (not header_problems(schema)) == (find_invalid_x_mcp_header(schema) is None)
