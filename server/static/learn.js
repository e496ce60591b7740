// Lesson player: counts down the minimum study time the server measures, and keeps the complete
// button disabled until then. The server decides; this only saves a refused click.
(function () {
  "use strict";
  var btn = document.getElementById("complete");
  if (!btn) return;
  var left = parseInt(btn.getAttribute("data-remaining"), 10) || 0;
  var label = btn.textContent;
  var wait = btn.getAttribute("data-wait") || "%d";
  var hint = document.getElementById("remaining");
  // The hint under the button counts down with it, in the page's language and its plural forms.
  var forms = {};
  try { forms = JSON.parse(btn.getAttribute("data-hint") || "{}"); } catch (e) { forms = {}; }
  var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "zh-CN") : null;
  function hintText(n) {
    var text = (rules && forms[rules.select(n)]) || forms.other;
    return text ? text.replace("%s", String(n)) : null;
  }
  function tick() {
    if (left <= 0) {
      btn.disabled = false;
      btn.textContent = label;
      if (hint) hint.hidden = true;
      return;
    }
    btn.disabled = true;
    btn.textContent = wait.replace("%d", String(left));
    var h = hintText(left);
    if (hint && h) hint.textContent = h;
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
