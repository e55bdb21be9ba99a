// Noriai's fixes to Swagger UI's markup that CSS cannot make (loaded after the bundle by
// noriai/web/docs.py): Swagger UI re-renders as operations open, so a MutationObserver fixes each new
// element. The request-body editor gets a name (axe: label); code samples that can scroll sideways or
// down get into the tab order, so keyboard users can scroll them (axe: scrollable-region-focusable).
(function () {
  "use strict";
  function fix(root) {
    root.querySelectorAll("textarea.body-param__text:not([aria-label])").forEach(function (t) {
      t.setAttribute("aria-label", "Request body (JSON)");
    });
    root.querySelectorAll("textarea:not([aria-label]):not([id])").forEach(function (t) {
      t.setAttribute("aria-label", t.getAttribute("placeholder") || "Value");
    });
    root.querySelectorAll(".highlight-code pre, pre.microlight").forEach(function (p) {
      if (!p.hasAttribute("tabindex")) {
        p.setAttribute("tabindex", "0");
        p.setAttribute("role", "region");
        p.setAttribute("aria-label", "Code sample");
      }
    });
  }
  var root = document.getElementById("swagger-ui") || document.body;
  new MutationObserver(function () { fix(root); }).observe(root, { childList: true, subtree: true });
  fix(root);
})();
