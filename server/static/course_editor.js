// The course editor's live preview: each lesson's Markdown is rendered by the server's own renderer
// (POST /centre/markdown-preview: goldmark and the same sanitising policy the lesson page uses) a
// moment after typing stops. Without this script the preview shows what was last drawn by the server.
(function () {
  "use strict";
  var timers = {};
  function csrf(form) {
    var f = form && form.querySelector("input[name=_csrf]");
    return f ? f.value : "";
  }
  function render(area) {
    var target = document.getElementById(area.getAttribute("data-preview"));
    if (!target) return;
    var body = new URLSearchParams();
    body.set("body", area.value);
    fetch("/centre/markdown-preview", {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf(area.form), "Accept": "text/html" }
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    }).then(function (html) {
      target.innerHTML = html; // sanitised by the server
      target.removeAttribute("data-failed");
    }).catch(function () { target.setAttribute("data-failed", "true"); });
  }
  document.addEventListener("input", function (ev) {
    var area = ev.target;
    if (!area.matches || !area.matches("textarea.lesson-md")) return;
    clearTimeout(timers[area.id]);
    timers[area.id] = setTimeout(function () { render(area); }, 300);
  });
})();
