"""The diagram layer in a real headless Chromium: bpmn-js draws the model, state overlays and heat badges on it.

Each page is served on 127.0.0.1 with the console's Content-Security-Policy (``diagram_site``), loads the
vendored bpmn-js and ``static/diagram.js``, and is read back through the attributes the console promises:
``data-rendered``, ``.state-overlay[data-element-id][data-state]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.parser.layout import layout
from tests.hub.web.diagram_site import HEAD, DiagramSite, diagram_page, diagram_site, form_page

DATA = Path(__file__).resolve().parents[2] / "data"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"


@pytest.fixture(scope="module")
def site() -> Iterator[DiagramSite]:
    with diagram_site() as served:
        served.deploy(("order.bpmn", (DATA / "parser" / "camunda8_order.bpmn").read_bytes()), ("billing.bpmn", BILLING))
        served.deploy(("support_agent.bpmn", _strip((DATA / "agent" / "support_agent.bpmn").read_bytes())))
        served.deploy(("hostile.bpmn", HOSTILE))
        yield served


def _strip(raw: bytes) -> bytes:
    root = etree.fromstring(raw)
    for diagram in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(diagram)
    return bytes(etree.tostring(root))


BILLING = f"""<definitions xmlns="{BPMN}" id="d_billing" targetNamespace="urn:test">
  <process id="billing" isExecutable="true"><startEvent id="s"/><endEvent id="e"/>
  <sequenceFlow id="f" sourceRef="s" targetRef="e"/></process></definitions>""".encode()
CORPUS = Path("/work/shared/corpus")


def _laid_out_models() -> list[Path]:
    found = sorted(DATA.rglob("*.bpmn"))
    if CORPUS.is_dir():  # read in place where this machine has the shared corpus
        found += sorted(CORPUS.rglob("*.bpmn"))
    return found


HOSTILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN}" id="d_hostile" targetNamespace="urn:test">
  <process id="hostile" isExecutable="true">
    <startEvent id="s" name="&lt;script&gt;window.__xss = 1; alert(1)&lt;/script&gt;"/>
    <task id="t" name="&lt;img src=x onerror=&quot;window.__xss = 2; alert(2)&quot;&gt;"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </process>
</definitions>""".encode()


def _open(page: Any, site: DiagramSite, name: str, html: str) -> None:
    page.context.add_cookies([{"name": "session", "value": "reader", "url": site.base}])
    page.goto(site.page(name, html))
    page.wait_for_selector("[data-diagram][data-rendered='true'], [data-diagram][data-rendered='error']")


def test_an_instance_shows_its_active_element_incident_and_path(page: Any, site: DiagramSite) -> None:
    state = {
        "mode": "instance",
        "elements": {
            "StartEvent_OrderReceived": {"state": "completed"},
            "Task_CheckStock": {"state": "completed"},
            "Task_ReserveItem": {"state": "active", "active": 1},
            "Activity_Bill": {"state": "incident", "incidents": 1},
        },
        "flows": ["Flow_ToCheckStock", "Flow_ToInStock"],
    }

    _open(page, site, "instance", diagram_page("order-fulfilment", state))

    assert page.get_attribute("#d", "data-rendered") == "true"
    assert page.locator('.state-overlay[data-element-id="Task_ReserveItem"][data-state="active"]').count() == 1
    assert page.locator('.state-overlay[data-element-id="Activity_Bill"][data-state="incident"]').count() == 1
    assert page.locator('.state-overlay[data-element-id="Task_CheckStock"][data-state="completed"]').count() == 1
    assert page.locator('.djs-element.state-incident[data-element-id="Activity_Bill"]').count() == 1
    assert page.locator('.djs-connection.state-taken[data-element-id="Flow_ToCheckStock"]').count() == 1
    badge = page.locator('.state-overlay[data-element-id="Activity_Bill"] .state-badge')
    assert badge.inner_text() == "incident"
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark the licence asks for
    assert page.errors == []


def test_a_heat_map_shows_counts_of_instances_there_and_passed(page: Any, site: DiagramSite) -> None:
    state = {
        "mode": "heat",
        "elements": {
            "Task_CheckStock": {"active": 3, "completed": 40},
            "Task_Approve": {"active": 0, "completed": 2, "incidents": 1},
        },
    }

    _open(page, site, "heat", diagram_page("order-fulfilment", state))

    check = page.locator('.state-overlay[data-element-id="Task_CheckStock"]')
    assert check.get_attribute("data-active") == "3"
    assert check.locator(".heat-active").inner_text() == "3"
    assert check.locator(".heat-completed").inner_text() == "40"
    approve = page.locator('.state-overlay[data-element-id="Task_Approve"]')
    assert approve.get_attribute("data-state") == "incident"
    assert approve.locator(".heat-incidents").inner_text() == "1"
    assert page.locator('.djs-element.heat-5[data-element-id="Task_CheckStock"]').count() == 1
    assert page.errors == []


def test_a_model_without_a_diagram_is_laid_out_and_drawn(page: Any, site: DiagramSite) -> None:
    state = {"mode": "instance", "elements": {"refund": {"state": "active"}, "OverBudget": {"state": "completed"}}}

    _open(page, site, "agent", diagram_page("support_agent", state))

    assert page.get_attribute("#d", "data-rendered") == "true"
    for element in ("Start", "Support", "lookup_order", "refund", "ask_customer", "OverBudget", "Done"):
        assert page.locator(f'.djs-element[data-element-id="{element}"]').count() == 1, element
    assert page.locator('.state-overlay[data-element-id="refund"][data-state="active"]').count() == 1
    assert page.errors == []


def test_markup_in_a_models_names_and_state_is_shown_as_text_never_run(page: Any, site: DiagramSite) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    state = {"mode": "instance", "elements": {"t": {"state": "active"}, "<img src=x onerror=alert(3)>": {}}}

    _open(page, site, "hostile", diagram_page("hostile", state))

    assert page.get_attribute("#d", "data-rendered") == "true"
    assert page.evaluate("window.__xss") is None
    assert page.locator("#d img").count() == 0
    assert page.locator("#d script").count() == 0
    drawn_text = page.locator("#d svg").first.text_content() or ""
    assert "<script>" in drawn_text and "<img src=x" in drawn_text  # the names, drawn as text
    assert dialogs == []
    assert page.errors == []


def test_a_model_that_cannot_be_loaded_shows_why_inside_the_diagram(page: Any, site: DiagramSite) -> None:
    _open(page, site, "missing", diagram_page("no_such_process", {"mode": "instance", "elements": {}}))

    assert page.get_attribute("#d", "data-rendered") == "error"
    message = page.locator("#d .diagram-error").inner_text()
    assert "404" in message and "no_such_process" in message
    assert page.errors == []


def test_the_diagram_needs_the_session(page: Any, site: DiagramSite) -> None:
    page.goto(site.page("anonymous", diagram_page("order-fulfilment", None)))  # no session cookie
    page.wait_for_selector("[data-diagram][data-rendered='error']")

    assert "401" in page.locator("#d .diagram-error").inner_text()


def test_a_form_sends_its_values_as_json_in_variables(page: Any, site: DiagramSite) -> None:
    schema = {
        "type": "default",
        "components": [
            {"type": "textfield", "key": "name", "label": "Name", "validate": {"required": True}},
            {"type": "number", "key": "amount", "label": "Amount"},
        ],
    }
    page.goto(site.page("form", form_page(schema, {"amount": 5})))
    page.wait_for_selector("#f[data-rendered='true']")

    page.click("#send")  # "name" is required: form-js shows the error, nothing is sent
    page.wait_for_selector(".fjs-form-field-error")
    assert site.posted == []

    page.get_by_label("Name").fill("Ada <b>")
    with page.expect_navigation():
        page.click("#send")

    assert json.loads(site.posted[-1]["variables"]) == {"amount": 5, "name": "Ada <b>"}
    assert page.errors == []


_IMPORT_ALL = """async (models) => {
  const results = [];
  for (const [name, xml] of models) {
    const holder = document.createElement("div");
    holder.style.width = "800px";
    holder.style.height = "600px";
    document.body.appendChild(holder);
    const viewer = new BpmnJS({ container: holder });
    try {
      const imported = await viewer.importXML(xml);
      results.push([name, "ok", imported.warnings.map((w) => w.message)]);
    } catch (error) {
      results.push([name, "error", [String(error.message)]]);
    }
    viewer.destroy();
    holder.remove();
  }
  return results;
}"""


def test_every_laid_out_model_is_accepted_by_the_viewer(page: Any, site: DiagramSite) -> None:
    models = []
    for path in _laid_out_models():
        try:
            root = etree.fromstring(path.read_bytes())
        except etree.XMLSyntaxError:
            continue  # the deliberately broken ones
        processes = root.findall(f"{{{BPMN}}}process")
        ids = [e.get("id") for e in root.iter() if e.get("id")]
        if root.tag != f"{{{BPMN}}}definitions" or not processes or len(ids) != len(set(ids)):
            continue  # fragments, models with no process and models no engine would deploy (duplicate ids)
        if any(not p.get("id") for p in processes):
            continue
        drawn = layout(_strip(path.read_bytes()))
        models.append((str(path), drawn.decode("utf-8")))
    page.goto(site.page("bulk", HEAD + "</body></html>"))

    results = page.evaluate(_IMPORT_ALL, models)

    refused = [(name, why) for name, outcome, why in results if outcome != "ok"]
    assert refused == []
    assert len(results) == len(models)
    assert page.errors == []
