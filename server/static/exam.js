// The exam page: loads the paper, shows one question at a time with a navigator and flags, keeps a
// countdown synchronised with the server, and saves every change. A change is first written to
// localStorage with its sequence number, then sent; it leaves localStorage only when the server has
// acknowledged it, so answers typed offline or before a crash are resent when the page can reach the
// server again. No inline handlers (CSP); texts come from data-msg-* attributes.
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root) return;
  function $(id) { return document.getElementById(id); }
  function msg(k) { return root.getAttribute("data-msg-" + k) || k; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  var sessionID = root.getAttribute("data-session");
  var csrf = root.getAttribute("data-csrf");
  var storeKey = "shanyu.exam." + sessionID;
  var st = load() || { attempt: 0, device: "", seq: 0, pending: [], flags: {} };
  var paper = null, answers = {}, current = 0, offset = 0, deadline = 0, inflight = false, stopped = false, retryTimer = null, offlineSince = 0;

  function load() { try { return JSON.parse(localStorage.getItem(storeKey)); } catch (_) { return null; } }
  function persist() { try { localStorage.setItem(storeKey, JSON.stringify(st)); } catch (_) { /* private mode: memory only */ } }

  function api(method, path, body) {
    var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    if (st.device) headers["X-Exam-Device"] = st.device;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) }).then(function (res) {
      return res.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (_) { data = null; }
        return { status: res.status, data: data };
      });
    });
  }
  function errorMessage(r) { return (r.data && r.data.error && r.data.error.message) || msg("error"); }

  function status(kind) {
    var s = $("save-status");
    s.textContent = msg(kind);
    s.className = "save-status " + kind;
  }
  function stop(text) {
    stopped = true;
    var m = $("exam-message");
    m.textContent = text;
    m.hidden = false;
    root.classList.add("stopped");
    $("submit").disabled = true;
    root.querySelectorAll("#question input, #question select, #question textarea").forEach(function (i) { i.disabled = true; });
  }

  // ---- start or resume ----
  function begin() {
    var p = st.attempt && st.device ? api("GET", "/api/v1/attempts/" + st.attempt + "/paper") : Promise.resolve({ status: 0 });
    p.then(function (r) {
      if (r.status === 200) return r;
      return api("POST", "/api/v1/exam-sessions/" + sessionID + "/start").then(function (s) {
        if (s.status !== 200) throw s;
        if (s.data.attempt.id !== st.attempt) st = { attempt: s.data.attempt.id, device: "", seq: 0, pending: [], flags: {} };
        st.device = s.data.device_token;
        persist();
        return api("GET", "/api/v1/attempts/" + st.attempt + "/paper");
      });
    }).then(function (r) {
      if (r.status !== 200) throw r;
      paper = r.data;
      st.seq = Math.max(st.seq || 0, paper.last_seq || 0);
      Object.keys(paper.answers || {}).forEach(function (k) { answers[k] = paper.answers[k]; });
      st.pending.forEach(function (p) { answers[p.item] = p.response; }); // unsent answers win: they are newer
      persist();
      clock(paper.server_time, paper.attempt.deadline);
      if (paper.attempt.status !== "active") { render(); stop(msg("submitted")); return; }
      $("submit").disabled = false;
      render();
      flush();
    }).catch(function (r) {
      if (r && r.status) stop(errorMessage(r)); else { status("offline"); setTimeout(begin, 3000); }
    });
  }

  // ---- clock ----
  function clock(serverTime, dl) {
    offset = Date.parse(serverTime) - Date.now();
    deadline = Date.parse(dl);
    tick();
  }
  function tick() {
    if (!deadline) return;
    var left = Math.max(0, Math.floor((deadline - (Date.now() + offset)) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    var text = (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    var c = $("countdown");
    c.textContent = text;
    c.classList.toggle("low", left < 300);
    if (left === 0 && !stopped && paper) { stop(msg("timeup")); finish(); }
  }
  setInterval(tick, 1000);
  setInterval(function () {
    if (!st.attempt || stopped) return;
    api("GET", "/api/v1/attempts/" + st.attempt + "/state").then(function (r) {
      if (r.status === 200) clock(r.data.server_time, r.data.deadline);
      else if (r.status === 409) stop(errorMessage(r));
    }).catch(function () { /* offline: the local clock goes on */ });
  }, 60000);

  // ---- saving ----
  function change(item, response) {
    if (stopped) return;
    answers[item] = response;
    st.pending = st.pending.filter(function (p) { return p.item !== item || p.sending; });
    st.seq++;
    st.pending.push({ seq: st.seq, item: item, response: response });
    persist();
    drawNavigator();
    flush();
  }
  function flush() {
    if (inflight || !st.pending.length) { if (!st.pending.length && !inflight) status("saved"); return; }
    var p = st.pending[0];
    p.sending = true;
    inflight = true;
    status("saving");
    api("POST", "/api/v1/attempts/" + st.attempt + "/answers", { seq: p.seq, item: p.item, response: p.response }).then(function (r) {
      inflight = false;
      if (r.status === 200) {
        st.pending = st.pending.filter(function (x) { return x.seq !== p.seq; });
        persist();
        if (offlineSince) { signal("offline", Math.round((Date.now() - offlineSince) / 1000) + "s"); offlineSince = 0; }
        flush();
        return;
      }
      if (r.status >= 500 || r.status === 429) { p.sending = false; retry(); return; }
      stop(errorMessage(r)); // taken over, late, submitted: the reason is the server's
    }).catch(function () {
      inflight = false;
      p.sending = false;
      if (!offlineSince) offlineSince = Date.now();
      status("offline");
      retry();
    });
  }
  function retry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, 2000);
  }
  window.addEventListener("online", flush);
  function signal(kind, detail) {
    if (!st.attempt || stopped) return;
    api("POST", "/api/v1/attempts/" + st.attempt + "/signals", { kind: kind, detail: detail || "" }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () { if (document.hidden) signal("focus_lost"); });

  // ---- submit ----
  function finish() {
    var waited = 0;
    (function wait() {
      if ((inflight || st.pending.length) && waited < 20) { waited++; flush(); setTimeout(wait, 500); return; }
      api("POST", "/api/v1/attempts/" + st.attempt + "/submit").then(function (r) {
        if (r.status === 200) { stop(msg("submitted")); status("saved"); }
        else stop(errorMessage(r));
      }).catch(function () { setTimeout(finish, 3000); });
    })();
  }
  $("submit").addEventListener("click", function () {
    var open = paper.questions.filter(function (q) { return !answered(q.position); }).length;
    var text = msg("confirm") + (open ? " " + msg("unanswered").replace("%d", open) : "");
    if (!window.confirm(text)) return;
    stopped = true;
    $("submit").disabled = true;
    finish();
  });

  // ---- questions ----
  function answered(pos) {
    var a = answers[pos];
    if (!a) return false;
    return (a.choices && a.choices.length) || a.truth !== undefined || (a.blanks && a.blanks.some(Boolean)) ||
      a.number !== undefined || (a.matches && a.matches.some(Boolean)) || !!a.text;
  }
  function render() {
    var q = paper.questions[current], box = $("question");
    box.textContent = "";
    var head = el("p", "q-head", msg("question").replace("%d", current + 1).replace("%d", paper.questions.length) + " · " +
      msg("points").replace("%s", q.points));
    box.appendChild(head);
    var stem = el("div", "stem");
    // Image URLs are relative to the attempt; an inert template lets them be fixed before they load.
    var imgBase = "/exams/attempts/" + st.attempt + "/";
    if (q.format === "html") {
      var tpl = document.createElement("template");
      tpl.innerHTML = q.stem;
      Array.prototype.forEach.call(tpl.content.querySelectorAll("img"), function (img) {
        var src = img.getAttribute("src") || "";
        if (src.indexOf("images/") === 0) img.setAttribute("src", imgBase + src);
      });
      stem.appendChild(tpl.content);
    } else stem.textContent = q.stem;
    if (q.title) box.appendChild(el("h2", "q-title", q.title));
    box.appendChild(stem);
    (q.images || []).forEach(function (im) {
      if (im.inline) return;
      var img = el("img", "q-image");
      img.src = imgBase + im.url;
      img.alt = im.name;
      box.appendChild(img);
    });
    var a = answers[q.position] || {};
    var name = "q" + q.position;
    if (q.type === "single_choice" || q.type === "multiple_choice" || q.type === "true_false") {
      var opts = q.type === "true_false" ? [msg("true"), msg("false")] : q.options;
      var list = el("div", "options");
      list.setAttribute("role", q.type === "multiple_choice" ? "group" : "radiogroup");
      opts.forEach(function (text, i) {
        var id = name + "-" + i, lab = el("label", "option");
        var inp = el("input");
        inp.type = q.type === "multiple_choice" ? "checkbox" : "radio";
        inp.name = name; inp.id = id; inp.value = i;
        if (q.type === "true_false") inp.checked = a.truth !== undefined && (a.truth === (i === 0));
        else inp.checked = (a.choices || []).indexOf(i) >= 0;
        inp.addEventListener("change", function () {
          if (q.type === "true_false") { change(q.position, { truth: i === 0 }); return; }
          var picked = [];
          list.querySelectorAll("input").forEach(function (x, k) { if (x.checked) picked.push(k); });
          change(q.position, { choices: picked });
        });
        lab.setAttribute("for", id);
        lab.appendChild(inp);
        lab.appendChild(el("span", "", String.fromCharCode(65 + i) + ". " + text));
        list.appendChild(lab);
      });
      box.appendChild(list);
    } else if (q.type === "fill_blank") {
      for (var b = 0; b < q.blanks; b++) box.appendChild(textInput(q, name + "-" + b, (a.blanks || [])[b] || "", "text", function () {
        var vals = [];
        box.querySelectorAll("input").forEach(function (x) { vals.push(x.value); });
        change(q.position, { blanks: vals });
      }, b + 1));
    } else if (q.type === "numeric") {
      box.appendChild(textInput(q, name, a.number !== undefined ? String(a.number) : "", "decimal", function (v) {
        var n = parseFloat(String(v).replace(",", "."));
        change(q.position, isNaN(n) ? {} : { number: n });
      }));
    } else if (q.type === "matching") {
      var matches = (a.matches || []).slice();
      q.lefts.forEach(function (l) {
        var id = name + "-" + l.index, lab = el("label", "", l.text), sel = el("select");
        lab.setAttribute("for", id); sel.id = id;
        var none = el("option", "", msg("choose")); none.value = ""; sel.appendChild(none);
        q.options.forEach(function (r) { var o = el("option", "", r); o.value = r; o.selected = matches[l.index] === r; sel.appendChild(o); });
        sel.addEventListener("change", function () {
          while (matches.length <= l.index) matches.push("");
          matches[l.index] = sel.value;
          change(q.position, { matches: matches.slice() });
        });
        var f = el("div", "field"); f.appendChild(lab); f.appendChild(sel); box.appendChild(f);
      });
    } else {
      var ta = el("textarea"); ta.rows = 8; ta.id = name; ta.value = a.text || "";
      ta.setAttribute("aria-label", msg("question").replace("%d", current + 1).replace("%d", paper.questions.length));
      debounce(ta, "input", function () { change(q.position, { text: ta.value }); });
      ta.addEventListener("paste", function () { signal("paste"); });
      box.appendChild(ta);
    }
    $("prev").disabled = current === 0;
    $("next").disabled = current === paper.questions.length - 1;
    $("flag").setAttribute("aria-pressed", st.flags[q.position] ? "true" : "false");
    if (stopped) box.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = true; });
    drawNavigator();
  }
  function textInput(q, id, value, mode, onchange, n) {
    var f = el("div", "field"), inp = el("input");
    inp.type = "text"; inp.id = id; inp.value = value; inp.setAttribute("inputmode", mode);
    inp.setAttribute("autocomplete", "off");
    var lab = el("label", "", n ? "(" + n + ")" : msg("question").replace("%d", current + 1).replace("%d", paper.questions.length));
    lab.setAttribute("for", id);
    debounce(inp, "input", function () { onchange(inp.value); });
    inp.addEventListener("paste", function () { signal("paste"); });
    f.appendChild(lab); f.appendChild(inp);
    return f;
  }
  function debounce(node, ev, fn) {
    var t = null;
    node.addEventListener(ev, function () { clearTimeout(t); t = setTimeout(fn, 600); });
    node.addEventListener("blur", function () { if (t) { clearTimeout(t); t = null; fn(); } });
  }
  // The navigator's buttons are made once and then only restyled, so that keyboard focus stays put.
  function drawNavigator() {
    var nav = $("navigator");
    if (nav.children.length !== paper.questions.length) {
      nav.textContent = "";
      paper.questions.forEach(function (q, i) {
        var li = el("li"), b = el("button", "nav-q", String(i + 1));
        b.type = "button";
        b.addEventListener("click", function () { current = i; render(); $("question").focus(); });
        li.appendChild(b); nav.appendChild(li);
      });
    }
    paper.questions.forEach(function (q, i) {
      var b = nav.children[i].firstChild;
      b.classList.toggle("answered", !!answered(q.position));
      b.classList.toggle("flagged", !!st.flags[q.position]);
      if (i === current) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
    });
  }
  $("question").setAttribute("tabindex", "-1");
  $("prev").addEventListener("click", function () { if (current > 0) { current--; render(); } });
  $("next").addEventListener("click", function () { if (current < paper.questions.length - 1) { current++; render(); } });
  $("flag").addEventListener("click", function () {
    var pos = paper.questions[current].position;
    st.flags[pos] = !st.flags[pos];
    persist();
    render();
  });
  begin();
})();
