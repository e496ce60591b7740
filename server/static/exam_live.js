// The centre's live view of a session: polls the JSON every 5 s and redraws the table and counts.
(function () {
  "use strict";
  var counts = document.getElementById("live-counts");
  if (!counts) return;
  var rows = document.getElementById("live-rows");
  var states = ["not_started", "answering", "idle", "submitted"];
  // Times in the page's language and the product's zone (layout.html's data-tz), never the browser's.
  var clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { timeZone: document.documentElement.dataset.tz || undefined,
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  function cell(tr, text, cls) { var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
  function draw(items) {
    var n = {};
    rows.textContent = "";
    items.forEach(function (r) {
      n[r.state] = (n[r.state] || 0) + 1;
      var tr = document.createElement("tr");
      cell(tr, r.name);
      // A submission the candidate did not make (their account was disabled) says so beside the state.
      var why = r.submit_reason && counts.getAttribute("data-reason-" + r.submit_reason);
      cell(tr, counts.getAttribute("data-msg-" + r.state) + (why ? " · " + why : ""), "live-" + r.state);
      cell(tr, r.answered + " / " + r.questions);
      cell(tr, r.last_save ? clock.format(new Date(r.last_save)) : "");
      cell(tr, String(r.devices));
      cell(tr, String(r.signals));
      rows.appendChild(tr);
    });
    counts.textContent = "";
    states.forEach(function (s) {
      var li = document.createElement("li");
      li.className = "live-" + s;
      li.textContent = counts.getAttribute("data-msg-" + s) + " " + (n[s] || 0);
      counts.appendChild(li);
    });
  }
  function poll() {
    fetch(counts.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.json(); }).then(function (d) { draw(d.items || []); }).catch(function () {});
  }
  poll();
  setInterval(poll, 5000);
})();
