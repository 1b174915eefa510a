/* 关爱 — small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  // Fields marked data-when="NAME:v1,v2" are shown only while the control NAME of the same form has one of
  // those values ("NAME:*": any value). A field with an error always stays visible.
  function applyConditions(root) {
    root.querySelectorAll("[data-when]").forEach(function (el) {
      var spec = el.getAttribute("data-when");
      var cut = spec.indexOf(":");
      if (cut < 0) return;
      var name = spec.slice(0, cut);
      var values = spec.slice(cut + 1);
      var form = el.closest("form");
      var control = form && form.querySelector('[name="' + name + '"]');
      if (!control) return;
      var value = control.value;
      var show = values === "*" ? value !== "" : values.split(",").indexOf(value) >= 0;
      el.hidden = !show && !el.classList.contains("has-error");
    });
  }

  // A submit button is disabled once pressed, so a slow network does not register a child twice.
  function guardSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.hasAttribute("hx-post")) return;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  // Scroll the first field error into view after a refused submission.
  function focusFirstError() {
    var error = document.querySelector(".field.has-error");
    if (!error) return;
    var details = error.closest("details");
    if (details) details.open = true;
    var input = error.querySelector("input, select, textarea");
    error.scrollIntoView({ block: "center" });
    if (input) input.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    applyConditions(document);
    focusFirstError();
  });
  document.addEventListener("change", function () { applyConditions(document); });
  // An edit form marked .lazy-form[data-src] loads (htmx) when its <details> is first opened.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || !window.htmx) return;
    var lazy = details.querySelector(".lazy-form[data-src]");
    if (!lazy) return;
    var src = lazy.getAttribute("data-src");
    lazy.removeAttribute("data-src");
    window.htmx.ajax("GET", src, { target: lazy, swap: "outerHTML" });
  }, true);
  // A form loaded into the page later (htmx) gets the same treatment.
  document.addEventListener("htmx:load", function () { applyConditions(document); });
  document.addEventListener("submit", guardSubmit);
})();
