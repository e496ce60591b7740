// The practice page and the review of one's wrong answers. Both show questions with the exam's own
// player (player.js): practice one item at a time — the learner answers, presses 核对答案 and sees
// whether it was right, the right answer (the question drawn again, filled with it), the item's
// explanation and the running score; review each wrong item with the candidate's answer and the
// right one, read-only. Nothing here is saved towards a result. No inline handlers (CSP); texts
// come from data-msg-* attributes.
(function () {
  "use strict";
  var P = window.ShanyuPlayer;
  function $(id) { return document.getElementById(id); }
  var root = $("practice") || $("review");
  if (!root || !P) return;
  function msg(k) { return root.getAttribute("data-msg-" + k) || k; }
  // format fills %d, %s and %[n]d as the server's translations write them.
  function format(text) {
    var args = Array.prototype.slice.call(arguments, 1), next = 0;
    return text.replace(/%\[(\d+)\]d|%d|%s/g, function (m, n) { return String(n ? args[Number(n) - 1] : args[next++]); });
  }
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var csrf = root.getAttribute("data-csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) { return { status: res.status, data: data }; });
    });
  }
  function failed(r) {
    var box = $("question") || $("review-items");
    box.textContent = "";
    box.appendChild(P.el("p", "notice", (r && r.data && r.data.error && r.data.error.message) || msg("error")));
  }
  // explanation shows an item's explanation as the bank wrote it (sanitised HTML or plain text).
  function explanation(box, fb) {
    box.textContent = "";
    if (!fb.explanation) return;
    if (fb.format === "html") {
      var tpl = document.createElement("template");
      tpl.innerHTML = fb.explanation;
      box.appendChild(tpl.content);
    } else box.textContent = fb.explanation;
  }
  function show(box, q, answer, prefix, base, gapResults) {
    P.render(box, q, answer, { msg: msg, label: format(msg("item"), q.position + 1), imgBase: base, disabled: true, idPrefix: prefix, gapResults: gapResults });
  }

  if (root.id === "review") {
    var attempt = root.getAttribute("data-attempt"), base = "/exams/attempts/" + attempt + "/";
    api("GET", "/api/v1/attempts/" + attempt + "/review").then(function (r) {
      if (r.status !== 200) { failed(r); return; }
      var list = $("review-items");
      list.textContent = "";
      r.data.wrong.forEach(function (w, i) {
        var art = P.el("article", "panel review-item");
        art.appendChild(P.el("h2", "", format(msg("item"), w.position + 1)));
        art.appendChild(P.el("h3", "", msg("yours")));
        var yours = P.el("div", "question");
        show(yours, w.question, w.answer, "a" + i + "-", base, w.gap_results);
        art.appendChild(yours);
        art.appendChild(P.el("h3", "", msg("correct")));
        var right = P.el("div", "question");
        show(right, w.question, w.solution, "s" + i + "-", base);
        art.appendChild(right);
        var ex = P.el("div", "stem");
        explanation(ex, w);
        art.appendChild(ex);
        list.appendChild(art);
      });
    }).catch(failed);
    return;
  }

  var run = root.getAttribute("data-run"), base = "/exams/practice/" + run + "/";
  var q = null, answer = {}, checked = false;
  function score(s) { $("practice-score").textContent = format(msg("score"), s.correct, s.answered, s.asked); }
  function done(s) {
    $("check").hidden = true;
    $("next").hidden = true;
    var d = $("practice-done");
    d.textContent = format(msg("done"), s.correct, s.asked);
    d.hidden = false;
  }
  function view(v) {
    score(v.run.score);
    $("feedback").hidden = true;
    if (!v.question) {
      if (v.done) { $("question").textContent = ""; done(v.run.score); return; }
      api("POST", "/api/v1/practice-runs/" + run + "/next").then(function (r) { if (r.status === 200) view(r.data); else failed(r); }).catch(failed);
      return;
    }
    q = v.question; answer = {}; checked = false;
    P.render($("question"), q, answer, { msg: msg, label: format(msg("item"), q.position + 1), imgBase: base,
      change: function (response) { answer = response; } });
    $("check").disabled = false;
    $("check").hidden = false;
    $("next").hidden = true;
    $("question").focus();
  }
  $("check").addEventListener("click", function () {
    if (!q || checked) return;
    // Blur first: a typed answer is taken on blur.
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    checked = true;
    $("check").disabled = true;
    api("POST", "/api/v1/practice-runs/" + run + "/answers", { item: q.position, response: answer }).then(function (r) {
      if (r.status !== 200) { checked = false; $("check").disabled = false; failed(r); return; }
      var fb = r.data;
      $("question").querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = true; });
      var verdict = $("feedback-verdict");
      verdict.textContent = fb.correct ? msg("right") : msg("wrong");
      verdict.className = fb.correct ? "state state-pass" : "state state-fail";
      $("feedback-points").textContent = msg("points").replace("%s", fb.earned) + " / " + fb.points;
      show($("solution"), q, fb.solution, "s", base, fb.gap_results);
      explanation($("feedback-explanation"), fb);
      var notes = $("feedback-notes");
      notes.textContent = "";
      (fb.notes || []).forEach(function (n) { notes.appendChild(P.el("li", "", n)); });
      score(fb.score);
      $("feedback").hidden = false;
      $("check").hidden = true;
      if (fb.done) done(fb.score); else $("next").hidden = false;
      $("feedback").focus();
    }).catch(function () { checked = false; $("check").disabled = false; failed(); });
  });
  $("next").addEventListener("click", function () {
    $("next").hidden = true;
    api("POST", "/api/v1/practice-runs/" + run + "/next").then(function (r) { if (r.status === 200) view(r.data); else failed(r); }).catch(failed);
  });
  api("GET", "/api/v1/practice-runs/" + run).then(function (r) { if (r.status === 200) view(r.data); else failed(r); }).catch(failed);
})();
