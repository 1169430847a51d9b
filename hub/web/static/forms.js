/*
 * Camunda forms in the console: every element with data-form-schema-id gets the form drawn by form-js
 * (static/vendor/form-js, the global FormViewer).
 *
 *   data-form-schema-id  id of a <script type="application/json"> holding the form's schema
 *   data-form-data-id    id of one holding the initial data (optional)
 *   data-form-readonly   present: the form is shown, not filled in
 *
 * When the enclosing <form> is submitted, the values go as JSON into its hidden input named "variables" (made if
 * missing); a form that does not validate is not submitted, and form-js shows what is wrong, unless the button
 * that submits it carries data-draft (a draft is saved as it is). Afterwards the element
 * carries data-rendered="true", or "error" with the reason shown inside it (as text).
 */
(function () {
  "use strict";

  function readJson(id) {
    if (!id) return null;
    var holder = document.getElementById(id);
    if (!holder) throw new Error("the page has no element #" + id);
    return JSON.parse(holder.textContent || "null");
  }

  function variablesInput(outer) {
    var input = outer.querySelector('input[name="variables"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "variables";
      outer.appendChild(input);
    }
    return input;
  }

  async function render(element) {
    element.setAttribute("data-rendered", "pending");
    try {
      if (!window.FormViewer || typeof window.FormViewer.Form !== "function") {
        throw new Error("the form viewer (form-js) did not load");
      }
      var schema = readJson(element.getAttribute("data-form-schema-id"));
      var data = readJson(element.getAttribute("data-form-data-id")) || {};
      var readOnly = element.hasAttribute("data-form-readonly");
      // debounce: false, so what was typed is in the form's data the moment the page's form is submitted.
      var form = new window.FormViewer.Form({ container: element, debounce: false, properties: { readOnly: readOnly } });
      await form.importSchema(schema, data);
      var outer = element.closest("form");
      if (outer && !readOnly) {
        var passing = false; // true while this script itself submits (form-js emits "submit" for form.submit() too)
        outer.addEventListener("submit", function (event) {
          if (passing) return;
          passing = true;
          try {
            var result = form.submit();
          } finally {
            passing = false;
          }
          var draft = event.submitter && event.submitter.hasAttribute("data-draft");
          if (!draft && result.errors && Object.keys(result.errors).length) {
            event.preventDefault();
            var invalid = element.querySelector("[aria-invalid='true']");
            if (invalid) invalid.focus();
            return;
          }
          variablesInput(outer).value = JSON.stringify(result.data);
        });
        // Enter in a field submits form-js's own inner form; pass it on to the page's form.
        form.on("submit", function (event) {
          if (passing || (event.errors && Object.keys(event.errors).length)) return;
          variablesInput(outer).value = JSON.stringify(event.data);
          passing = true;
          try {
            outer.requestSubmit();
          } finally {
            passing = false;
          }
        });
      }
      element.setAttribute("data-rendered", "true");
    } catch (error) {
      var message = document.createElement("p");
      message.className = "form-error";
      message.textContent = "The form could not be shown: " + (error.message || error);
      element.replaceChildren(message);
      element.setAttribute("data-rendered", "error");
    }
  }

  function renderAll() {
    return Promise.all(Array.prototype.map.call(document.querySelectorAll("[data-form-schema-id]"), render));
  }

  window.AgenthubForms = { render: render, renderAll: renderAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
