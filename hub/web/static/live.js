/*
 * Live instance pages. The element with data-live-url names a Server-Sent Events stream (hub/web/live.py) that
 * says "changed" when the instance's journal grows. Then the page is fetched again and every element marked
 * data-live-part is replaced by its fresh copy (by id), the diagram's state JSON is replaced and the overlays are
 * redrawn (window.AgenthubDiagram.update). No polling: without events nothing is fetched. A part holding the
 * keyboard focus is left alone until the next change, so nobody loses what they were doing.
 * The fresh HTML is the server's own escaped rendering, parsed inert by DOMParser (its scripts never run).
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-url]");
  if (!root || !window.EventSource || !window.fetch) return;

  var busy = false;
  var again = false;

  function swap(fresh) {
    document.querySelectorAll("[data-live-part]").forEach(function (part) {
      var replacement = part.id && fresh.getElementById(part.id);
      if (!replacement || part.contains(document.activeElement)) return;
      part.replaceWith(document.importNode(replacement, true));
    });
    var holder = document.getElementById("diagram-state");
    var state = fresh.getElementById("diagram-state");
    if (holder && state && holder.textContent !== state.textContent) {
      holder.textContent = state.textContent;
      document.querySelectorAll("[data-diagram]").forEach(function (diagram) {
        if (window.AgenthubDiagram) window.AgenthubDiagram.update(diagram);
      });
    }
    root.setAttribute("data-live-position", String(Date.now()));
  }

  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      var answer = await fetch(window.location.pathname + window.location.search, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (answer.ok) swap(new DOMParser().parseFromString(await answer.text(), "text/html"));
    } catch (error) {
      /* the hub is away: the stream reconnects by itself, and the next change brings everything */
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  var stream = new EventSource(root.getAttribute("data-live-url"), { withCredentials: true });
  stream.addEventListener("changed", refresh);
  root.setAttribute("data-live", "listening");
  window.addEventListener("pagehide", function () {
    stream.close();
  });
})();
