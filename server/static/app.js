// Shanyu's shared script: progressive enhancement only; every page works without it.
// Kept free of inline handlers so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  // Forms with data-confirm ask before doing something that cannot be undone.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
})();
