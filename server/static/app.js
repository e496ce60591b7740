// Shanyu's shared script: progressive enhancement only; every page works without it.
// Kept free of inline handlers so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  // Forms with data-confirm ask before doing something that cannot be undone.
  // A refused form comes back with its messages beside the fields: bring the first into view and put
  // the cursor in its field, so that nobody has to hunt for what went wrong.
  document.addEventListener("DOMContentLoaded", function () {
    var bad = document.querySelector("main [aria-invalid=true]") || document.querySelector("main .field-error, main .notice.error");
    if (!bad) return;
    bad.scrollIntoView({ block: "center" });
    if (bad.focus && bad.matches && bad.matches("input, select, textarea")) bad.focus({ preventScroll: true });
  });
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
})();
