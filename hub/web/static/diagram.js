/*
 * The console's diagrams: every element with data-diagram="{processId}" gets the model drawn by bpmn-js
 * (static/vendor/bpmn-js, the global BpmnJS) with the state of an instance or a heat map on top.
 *
 *   data-xml-url   where the BPMN XML comes from (same origin; the session cookie goes along)
 *   data-state-id  id of a <script type="application/json"> holding the state:
 *                  {"mode": "instance" | "heat" | "bottleneck",
 *                   "elements": {"<id>": {"state": "active"|"completed"|"incident", "active": n, "completed": n,
 *                                         "incidents": n}},
 *                   "flows": ["<sequenceFlowId>", ...]}
 *                  in "bottleneck" mode an element is {"weight": ms, "label": "42%", "title": "..."} instead
 *                  in "diff" mode (a drafted change) an element or flow is {"change": "added" | "changed"}
 *
 * Afterwards the element carries data-rendered="true" (or "error", with the reason shown inside it), and each
 * element with a state has an overlay <div class="state-overlay" data-element-id data-state>. Text from the model
 * or the state only ever reaches the page through textContent and attributes, never as HTML.
 * window.AgenthubDiagram.update(element) re-reads the state JSON and redraws the overlays (for live updates).
 * The bpmn.io watermark the viewer draws stays visible, as its licence requires.
 */
(function () {
  "use strict";

  var STATES = ["active", "completed", "incident"];
  var HEAT_STEPS = 5;
  var viewers = new WeakMap(); // diagram element -> {viewer, markers: [[id, class]]}

  function readJson(id) {
    if (!id) return null;
    var holder = document.getElementById(id);
    if (!holder) throw new Error("the page has no state element #" + id);
    return JSON.parse(holder.textContent || "null");
  }

  function count(value) {
    return typeof value === "number" && isFinite(value) && value > 0 ? Math.floor(value) : 0;
  }

  function node(tag, className, text) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = String(text);
    return made;
  }

  async function fetchXml(url) {
    var answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/xml" } });
    if (!answer.ok) {
      var reason = answer.status + " " + answer.statusText;
      try {
        var problem = await answer.json();
        if (problem && problem.detail) reason += ": " + problem.detail;
      } catch (ignored) {
        /* not problem+json */
      }
      throw new Error("the model could not be loaded (" + reason + ")");
    }
    return answer.text();
  }

  // The diagram whose plane shows this process (directly or as a pool), when the model holds several.
  async function openProcess(viewer, processId) {
    var definitions = viewer.getDefinitions();
    var diagrams = (definitions && definitions.diagrams) || [];
    for (var i = 0; i < diagrams.length; i++) {
      var root = diagrams[i].plane && diagrams[i].plane.bpmnElement;
      if (!root) continue;
      var pooled = (root.participants || []).some(function (p) {
        return p.processRef && p.processRef.id === processId;
      });
      if (root.id === processId || pooled) {
        if (i > 0) await viewer.open(diagrams[i]);
        return;
      }
    }
  }

  function mark(entry, id, className) {
    entry.viewer.get("canvas").addMarker(id, className);
    entry.markers.push([id, className]);
  }

  function clearState(entry) {
    var canvas = entry.viewer.get("canvas");
    entry.markers.forEach(function (pair) {
      canvas.removeMarker(pair[0], pair[1]);
    });
    entry.markers = [];
    entry.viewer.get("overlays").remove({ type: "state" });
  }

  function badge(className, value, title) {
    var made = node("span", "state-badge " + className, value);
    made.title = title;
    return made;
  }

  function instanceOverlay(id, info) {
    var state = STATES.indexOf(info.state) >= 0 ? info.state : "completed";
    var overlay = node("div", "state-overlay state-" + state);
    overlay.setAttribute("data-element-id", id);
    overlay.setAttribute("data-state", state);
    var label = state === "completed" ? "\u2713" : state;
    var times = state === "incident" ? count(info.incidents) : state === "active" ? count(info.active) : 0;
    if (times > 1) label += " \u00d7" + times;
    overlay.appendChild(badge("state-" + state, label, state));
    return overlay;
  }

  function heatOverlay(id, info) {
    var active = count(info.active), passed = count(info.completed), incidents = count(info.incidents);
    var state = incidents ? "incident" : active ? "active" : "completed";
    var overlay = node("div", "state-overlay heat");
    overlay.setAttribute("data-element-id", id);
    overlay.setAttribute("data-state", state);
    overlay.setAttribute("data-active", String(active));
    overlay.setAttribute("data-completed", String(passed));
    overlay.setAttribute("data-incidents", String(incidents));
    if (active) overlay.appendChild(badge("heat-active", active, active + " active now"));
    if (passed) overlay.appendChild(badge("heat-completed", passed, passed + " passed"));
    if (incidents) overlay.appendChild(badge("heat-incidents", incidents, incidents + " with an incident"));
    return overlay;
  }

  // A bottleneck map (the Discover page): each element's share of the time instances spent, as a badge, and its
  // time ("weight", ms) on the heat scale.
  function bottleneckOverlay(id, info) {
    var overlay = node("div", "state-overlay bottleneck");
    overlay.setAttribute("data-element-id", id);
    overlay.setAttribute("data-state", "bottleneck");
    overlay.setAttribute("data-weight", String(count(info.weight)));
    if (info.label) overlay.appendChild(badge("bottleneck-share", String(info.label), String(info.title || "")));
    return overlay;
  }

  function weightOf(info, bottleneck) {
    return bottleneck ? count(info.weight) : count(info.active) + count(info.completed);
  }

  // Heat on a log scale: one instance and a thousand should both be told apart from none.
  function heatStep(value, highest) {
    if (!value || !highest) return 0;
    return Math.max(1, Math.ceil((Math.log(value + 1) / Math.log(highest + 1)) * HEAT_STEPS));
  }

  // A drafted change (the drafts page): what the draft added or changed, marked on its diagram, flows included.
  function applyDiff(entry, elements) {
    var registry = entry.viewer.get("elementRegistry");
    var overlays = entry.viewer.get("overlays");
    Object.keys(elements).forEach(function (id) {
      var shape = registry.get(id);
      var change = (elements[id] || {}).change === "added" ? "added" : "changed";
      if (!shape) return;
      mark(entry, id, "diff-" + change);
      if (shape.waypoints) return;
      var overlay = node("div", "state-overlay diff");
      overlay.setAttribute("data-element-id", id);
      overlay.setAttribute("data-state", change);
      overlay.appendChild(badge("diff-" + change, change, change + " by the draft"));
      overlays.add(id, "state", { position: { top: -14, right: 14 }, html: overlay });
    });
  }

  function applyState(entry, state) {
    clearState(entry);
    if (!state) return;
    if (state.mode === "diff") {
      applyDiff(entry, state.elements && typeof state.elements === "object" ? state.elements : {});
      return;
    }
    var registry = entry.viewer.get("elementRegistry");
    var overlays = entry.viewer.get("overlays");
    var elements = state.elements && typeof state.elements === "object" ? state.elements : {};
    var bottleneck = state.mode === "bottleneck";
    var heat = state.mode === "heat" || bottleneck;
    var highest = 0;
    Object.keys(elements).forEach(function (id) {
      highest = Math.max(highest, weightOf(elements[id] || {}, bottleneck));
    });
    Object.keys(elements).forEach(function (id) {
      var shape = registry.get(id);
      if (!shape || shape.waypoints) return; // not drawn in this diagram, or a flow
      var info = elements[id] || {};
      var overlay = bottleneck ? bottleneckOverlay(id, info) : heat ? heatOverlay(id, info) : instanceOverlay(id, info);
      var state = overlay.getAttribute("data-state");
      mark(entry, id, "state-" + state);
      if (heat) {
        var step = heatStep(weightOf(info, bottleneck), highest);
        if (step) mark(entry, id, "heat-" + step);
      }
      overlays.add(id, "state", { position: { top: -14, right: 14 }, html: overlay });
    });
    (Array.isArray(state.flows) ? state.flows : []).forEach(function (id) {
      var flow = registry.get(String(id));
      if (flow && flow.waypoints) mark(entry, flow.id, "state-taken");
    });
  }

  function fail(element, error) {
    element.replaceChildren(node("p", "diagram-error", "The diagram could not be drawn: " + (error.message || error)));
    element.setAttribute("data-rendered", "error");
  }

  async function render(element) {
    element.setAttribute("data-rendered", "pending");
    try {
      if (typeof window.BpmnJS !== "function") throw new Error("the diagram viewer (bpmn-js) did not load");
      var url = element.getAttribute("data-xml-url");
      if (!url) throw new Error("the diagram element has no data-xml-url");
      var state = readJson(element.getAttribute("data-state-id"));
      var xml = await fetchXml(url);
      var canvasHolder = node("div", "diagram-canvas");
      element.replaceChildren(canvasHolder);
      var viewer = new window.BpmnJS({ container: canvasHolder });
      await viewer.importXML(xml);
      await openProcess(viewer, element.getAttribute("data-diagram"));
      var entry = { viewer: viewer, markers: [] };
      viewers.set(element, entry);
      viewer.get("canvas").zoom("fit-viewport", "auto");
      applyState(entry, state);
      element.setAttribute("data-rendered", "true");
    } catch (error) {
      fail(element, error);
    }
  }

  function update(element) {
    var entry = viewers.get(element);
    if (!entry) return render(element);
    try {
      applyState(entry, readJson(element.getAttribute("data-state-id")));
    } catch (error) {
      fail(element, error);
    }
    return Promise.resolve();
  }

  function renderAll() {
    return Promise.all(Array.prototype.map.call(document.querySelectorAll("[data-diagram]"), render));
  }

  window.AgenthubDiagram = { render: render, update: update, renderAll: renderAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
