// The exam page: loads the paper, shows one question at a time with a navigator and flags, keeps a
// countdown synchronised with the server, and saves every change. It never says what is not true:
//
// - A change is first written to localStorage with the token of the device it was typed on and that
//   device's own sequence number, then sent; it leaves localStorage only when the server answered.
//   The server either counts it (200) or keeps it as evidence without counting it (409
//   exams.recorded_late / exams.recorded_taken_over): the page then shows the answer as not counted,
//   by question, also after a reload. "保存中…" shows only while a save is in flight.
// - One device holds the attempt. Starting on a second device is refused (exams.held_elsewhere) until
//   the candidate confirms "在本设备继续作答" (start with take_over). The holder polls the attempt's
//   state every 3 s, so it learns within seconds that it lost the exam, stops every input, and lists
//   what it had not sent. A reload never takes the attempt back: it asks again.
// - After 交卷 is confirmed every input is disabled; without a network the page says it is waiting.
// - A service worker (/exams/sw.js) keeps this page and its assets, and the paper is kept in
//   localStorage, so a reload without network opens the exam with the answers typed so far and keeps
//   saving when the network returns.
//
// No inline handlers (CSP); texts come from data-msg-* attributes.
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
  var POLL_MS = 3000, RETRY_MS = 2000;
  var sessionID = root.getAttribute("data-session");
  var csrf = root.getAttribute("data-csrf");
  var storeKey = "shanyu.exam." + sessionID, paperKey = storeKey + ".paper";
  function fresh(attempt) { return { attempt: attempt || 0, device: "", seqDevice: "", seq: 0, pending: [], refused: [], flags: {} }; }
  var st = load(storeKey) || fresh();
  // Opened by 开始考试: the server started the attempt and handed this device its token.
  if (root.getAttribute("data-device")) {
    st = fresh(Number(root.getAttribute("data-attempt")));
    st.device = root.getAttribute("data-device");
    st.deviceNo = Number(root.getAttribute("data-device-no"));
    try { localStorage.removeItem(paperKey); } catch (_) { /* private mode */ }
    try { history.replaceState(null, "", location.pathname); } catch (_) { /* old browser */ }
  }
  if (!st.refused) st.refused = [];
  // mode: loading | active | held (another device holds it) | lost | submitting | timeup | submitted
  var mode = "loading", paper = null, saved = {}, answers = {}, current = 0, offset = 0, deadline = 0;
  var yielded = false; // this tab gave way to a newer tab of the same exam on this device
  var inflight = false, failing = false, retryTimer = null, finishTimer = null, beginTimer = null, offlineSince = 0;

  function load(k) { try { return JSON.parse(localStorage.getItem(k)); } catch (_) { return null; } }
  // persist keeps the state, with the answers the server acknowledged (st.saved), for a reload offline.
  function persist() { if (yielded) return; st.saved = saved; try { localStorage.setItem(storeKey, JSON.stringify(st)); } catch (_) { /* private mode: memory only */ } }

  function api(method, path, body, device) {
    var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    var dev = device === undefined ? st.device : device;
    if (dev) headers["X-Exam-Device"] = dev;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) }).then(function (res) {
      return res.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (_) { data = null; }
        return { status: res.status, data: data, key: data && data.error && data.error.key };
      });
    });
  }
  function errorMessage(r) { return (r.data && r.data.error && r.data.error.message) || msg("error"); }
  function active() { return mode === "active"; }
  function closing() { return mode === "submitting" || mode === "timeup"; }

  // ---- what the page says ----
  function showStatus() {
    var s = $("save-status"), kind, text;
    var live = st.pending.filter(function (p) { return !p.dead; }).length;
    var mine = st.pending.filter(function (p) { return p.device === st.device && !p.dead; }).length;
    if (mode === "tab") { kind = "stopped"; text = msg("tab-status"); }
    else if (mode === "lost") { kind = "stopped"; text = msg("lost-status"); }
    else if (mode === "held") { kind = "stopped"; text = msg("held-status"); }
    else if (mode === "submitted") { kind = "stopped"; text = msg("submitted-status"); }
    else if (inflight) { kind = "saving"; text = msg("saving"); }
    else if (closing() && failing) { kind = "offline"; text = msg("submit-waiting"); }
    else if (closing()) { kind = "saving"; text = mode === "timeup" ? msg("timeup-status") : msg("submitting"); }
    else if (live && failing) { kind = "offline"; text = msg("offline").replace("%d", live); }
    else if (mine) { kind = "saving"; text = msg("saving"); } // between two saves of a burst
    else if (mode === "loading") { kind = failing ? "offline" : ""; text = failing ? msg("offline-retry") : ""; }
    else { kind = "saved"; text = msg("saved"); }
    s.textContent = text;
    s.className = "save-status " + kind;
  }
  // number is the question number the candidate sees for a paper position.
  function number(pos) {
    if (paper) for (var i = 0; i < paper.questions.length; i++) if (paper.questions[i].position === pos) return i + 1;
    return pos + 1;
  }
  function numbers(list) {
    var seen = {}, out = [];
    list.forEach(function (pos) { if (!seen[pos]) { seen[pos] = true; out.push(pos); } });
    out.sort(function (a, b) { return number(a) - number(b); });
    return out.map(number).join(msg("list-sep"));
  }
  // notes lists, by question, answers that did not count and answers not sent yet.
  function notes() {
    var late = [], lost = [], unsent = [];
    st.refused.forEach(function (r) { (r.reason === "late" ? late : lost).push(r.item); });
    ((paper && paper.evidence) || []).forEach(function (e) {
      if (e.reason === "late") late.push(e.item);
      else if (st.deviceNo && e.device === st.deviceNo) lost.push(e.item);
    });
    if (!active() && !closing()) st.pending.forEach(function (p) { unsent.push(p.item); });
    var out = [];
    if (late.length) out.push(msg("late-items").replace("%s", numbers(late)));
    if (lost.length) out.push(msg("lost-items").replace("%s", numbers(lost)));
    if (unsent.length) out.push(msg("unsent-items").replace("%s", numbers(unsent)));
    return out;
  }
  // message shows the banner: a sentence, the notes, and the take-over button when asked for.
  function message(text, takeOver) {
    var list = notes();
    var box = $("exam-message"), ul = $("exam-notes");
    if (text !== undefined) $("exam-message-text").textContent = text;
    ul.textContent = "";
    list.forEach(function (n) { ul.appendChild(el("li", "", n)); });
    if (takeOver !== undefined) $("take-over").hidden = !takeOver;
    box.hidden = !$("exam-message-text").textContent && !list.length;
  }
  function refresh() { message(); showStatus(); if (paper) drawNavigator(); }
  // lock disables every input of the page: nothing typed from now on could count.
  function lock() {
    root.classList.add("stopped");
    $("submit").disabled = true;
    $("flag").disabled = true;
    root.querySelectorAll("#question input, #question select, #question textarea").forEach(function (i) { i.disabled = true; });
  }

  // ---- start, resume, take over ----
  function begin() {
    clearTimeout(beginTimer);
    if (!st.attempt || !st.device) { start(false); return; }
    api("GET", "/api/v1/attempts/" + st.attempt + "/paper").then(function (r) {
      if (r.status === 200) { loaded(r.data); return; }
      if (r.key === "exams.taken_over") { openCached(); lost(); return; }
      if (r.status === 404) { st = fresh(); persist(); start(false); return; }
      if (r.status >= 500 || r.status === 429) { offlineOpen(); return; }
      fail(errorMessage(r));
    }).catch(offlineOpen);
  }
  function start(takeOver) {
    api("POST", "/api/v1/exam-sessions/" + sessionID + "/start", takeOver ? { take_over: true } : undefined, "").then(function (s) {
      if (s.status === 200) {
        var old = st;
        if (s.data.attempt.id !== st.attempt) st = fresh(s.data.attempt.id);
        else st.flags = old.flags || {};
        st.device = s.data.device_token;
        st.deviceNo = s.data.attempt.device;
        persist();
        if (s.data.paper) { loaded(s.data.paper); return; } // a new attempt comes with its paper
        return api("GET", "/api/v1/attempts/" + st.attempt + "/paper").then(function (r) {
          if (r.status !== 200) throw r;
          loaded(r.data);
        });
      }
      if (s.key === "exams.held_elsewhere") { held(); return; }
      if (s.status >= 500 || s.status === 429) { offlineOpen(); return; }
      fail(errorMessage(s));
    }).catch(function (r) { if (r && r.status) fail(errorMessage(r)); else offlineOpen(); });
  }
  function loaded(view) {
    paper = view;
    root.classList.remove("no-paper");
    try { localStorage.setItem(paperKey, JSON.stringify({ attempt: st.attempt, view: view, offset: Date.parse(view.server_time) - Date.now() })); } catch (_) { /* too big: no offline reload */ }
    st.deviceNo = view.attempt.device;
    if (st.seqDevice !== st.device) { st.seqDevice = st.device; st.seq = view.last_seq || 0; }
    else st.seq = Math.max(st.seq || 0, view.last_seq || 0);
    saved = {};
    Object.keys(view.answers || {}).forEach(function (k) { saved[k] = view.answers[k]; });
    rebuildAnswers();
    persist();
    clock(view.server_time, view.attempt.deadline);
    if (view.attempt.status !== "active") { render(); submittedByServer(); return; }
    var shown = mode === "active"; // opened offline from the phone's copy: keep the question (and what is being typed) on screen
    if (mode === "loading" || mode === "held" || mode === "lost" || mode === "active") {
      mode = "active";
      message("", false);
      $("submit").disabled = false;
      $("flag").disabled = false;
      root.classList.remove("stopped");
    }
    if (shown) drawNavigator(); else render();
    failing = false;
    flush();
    if (closing()) finish();
  }
  // rebuildAnswers shows what the server holds, overlaid with what this device typed and has not sent
  // yet (newer); answers typed on a device that lost the attempt are not shown as answers any more.
  function rebuildAnswers() {
    answers = {};
    Object.keys(saved).forEach(function (k) { answers[k] = saved[k]; });
    st.pending.forEach(function (p) { if (p.device === st.device) answers[p.item] = p.response; });
  }
  // openCached puts the paper kept on this phone on screen (read-only until the server answers).
  function openCached() {
    if (paper) return true;
    var c = load(paperKey);
    if (!c || c.attempt !== st.attempt || !c.view) return false;
    paper = c.view;
    saved = {};
    Object.keys(paper.answers || {}).forEach(function (k) { saved[k] = paper.answers[k]; });
    Object.keys(st.saved || {}).forEach(function (k) { saved[k] = st.saved[k]; }); // acknowledged since the copy was made
    rebuildAnswers();
    offset = c.offset || 0;
    deadline = Date.parse(paper.attempt.deadline);
    render();
    tick(); // the countdown goes on from the phone's clock, corrected as at the last sync
    return true;
  }
  // offlineOpen: the server cannot be reached. With the paper kept on this phone the candidate goes
  // on answering (saves wait in localStorage); either way the page tries again every few seconds.
  function offlineOpen() {
    failing = true;
    if (mode === "loading" && openCached()) {
      if (paper.attempt.status === "active") {
        mode = "active";
        $("submit").disabled = false;
        message(msg("offline-cached"), false);
        render();
      } else submittedByServer();
    }
    showStatus();
    beginTimer = setTimeout(begin, RETRY_MS);
  }
  function held() {
    mode = "held";
    lock();
    message(msg("held"), true);
    showStatus();
    if (!paper) root.classList.add("no-paper"); // nothing to show until this device holds the exam
  }
  function lost() {
    if (mode === "lost") return;
    mode = "lost";
    clearTimeout(finishTimer);
    lock();
    root.classList.add("no-paper"); // what this device last saw is stale now: the other device answers on
    message(msg("lost"), true);
    showStatus();
    flush(); // what this device had not sent goes to the server as evidence
  }
  function submittedByServer() {
    mode = "submitted";
    clearTimeout(finishTimer);
    lock();
    tick();
    message(msg("submitted"), false);
    showStatus();
    try { localStorage.removeItem(paperKey); } catch (_) { /* nothing kept */ }
    flush(); // anything not sent yet arrives late: kept as evidence, listed by question
  }
  function fail(text) {
    lock();
    message(text, false);
    showStatus();
  }
  $("take-over").addEventListener("click", function () {
    if (!window.confirm(msg("confirm-take-over"))) return;
    $("take-over").hidden = true;
    $("exam-message-text").textContent = msg("taking-over");
    start(true);
  });

  // ---- clock ----
  function clock(serverTime, dl) {
    offset = Date.parse(serverTime) - Date.now();
    deadline = Date.parse(dl);
    tick();
  }
  // The timer itself is aria-live="off" (a reader announcing every second is unusable); a polite
  // status announces the time left once as it crosses 15, 5 and 1 minutes.
  var THRESHOLDS = [900, 300, 60], lastLeft = null;
  function announce(left) {
    if (lastLeft !== null && left > 0) {
      for (var i = 0; i < THRESHOLDS.length; i++) {
        var th = THRESHOLDS[i];
        if (lastLeft > th && left <= th) {
          $("countdown-alert").textContent = th === 60 ? msg("one-minute-left") : msg("minutes-left").replace("%s", String(th / 60));
        }
      }
    }
    lastLeft = left;
  }
  function tick() {
    var c = $("countdown");
    if (mode === "submitted") { // the time no longer counts, whatever this phone last knew of the deadline
      c.textContent = "--:--";
      c.classList.remove("low");
      return;
    }
    if (!deadline) return;
    var left = Math.max(0, Math.floor((deadline - (Date.now() + offset)) / 1000));
    announce(left);
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    c.textContent = (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    c.classList.toggle("low", left < 300);
    if (left === 0 && (active() || mode === "submitting") && paper) {
      mode = "timeup";
      lock();
      message(msg("timeup"), false);
      showStatus();
      finish();
    }
  }
  setInterval(tick, 1000);
  // The state poll: one read by key on the server; it tells the holder it lost the attempt, or that
  // the server submitted it, within POLL_MS. A hidden page polls when it is shown again.
  function poll() {
    if (!st.attempt || !st.device || !(active() || closing())) return;
    api("GET", "/api/v1/attempts/" + st.attempt + "/state").then(function (r) {
      if (r.status === 200) {
        clock(r.data.server_time, r.data.deadline);
        if (r.data.status !== "active" && mode !== "submitted") { if (closing()) finish(); else submittedByServer(); }
      } else if (r.key === "exams.taken_over") lost();
    }).catch(function () { /* offline: the local clock goes on */ });
  }
  setInterval(function () { if (!document.hidden || closing()) poll(); }, POLL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });

  // ---- saving ----
  function change(item, response) {
    if (!active()) return;
    answers[item] = response;
    st.pending = st.pending.filter(function (p) { return p.item !== item || p.device !== st.device || p.sending; });
    st.seq++;
    st.pending.push({ seq: st.seq, item: item, response: response, device: st.device, typed_at: new Date(Date.now() + offset).toISOString() });
    persist();
    drawNavigator();
    flush();
  }
  function flush() {
    if (yielded) return;
    if (inflight) { showStatus(); return; }
    var p = st.pending.filter(function (x) { return !x.dead; })[0];
    if (!p) { failing = false; showStatus(); return; }
    p.sending = true;
    inflight = true;
    showStatus();
    api("POST", "/api/v1/attempts/" + st.attempt + "/answers", { seq: p.seq, item: p.item, response: p.response, typed_at: p.typed_at }, p.device).then(function (r) {
      inflight = false;
      p.sending = false;
      if (r.status === 200 || r.key === "exams.recorded_late" || r.key === "exams.recorded_taken_over") {
        failing = false;
        st.pending = st.pending.filter(function (x) { return x !== p; });
        if (r.status === 200) { if (p.device === st.device) saved[p.item] = p.response; }
        else st.refused.push({ item: p.item, reason: r.key === "exams.recorded_late" ? "late" : "taken_over" });
        persist();
        if (offlineSince) { signal("offline", Math.round((Date.now() - offlineSince) / 1000) + "s"); offlineSince = 0; }
        if (r.status !== 200) {
          rebuildAnswers();
          if (paper) render();
          if (r.key === "exams.recorded_taken_over" && p.device === st.device) lost();
          else if (r.key === "exams.recorded_late" && active()) submittedByServer();
        }
        refresh();
        flush();
        return;
      }
      if (r.key === "exams.seq_reused" && p.device === st.device) { // renumber: never ask for a reload
        p.seq = ++st.seq;
        persist();
        flush();
        return;
      }
      if (r.key === "exams.taken_over") { // a token the server does not know: it cannot be recorded; keep it, listed as unsent
        p.dead = true;
        persist();
        if (p.device === st.device) lost();
        refresh();
        flush();
        return;
      }
      if (r.status >= 500 || r.status === 429 || r.status === 0) { failing = true; retry(); return; }
      // Refused as invalid: it can never be stored; say so instead of showing it as saved.
      st.pending = st.pending.filter(function (x) { return x !== p; });
      persist();
      rebuildAnswers();
      if (paper) render();
      message(errorMessage(r));
      flush();
    }).catch(function () {
      inflight = false;
      p.sending = false;
      failing = true;
      if (!offlineSince) offlineSince = Date.now();
      showStatus();
      retry();
    });
  }
  function retry() {
    clearTimeout(retryTimer);
    showStatus();
    retryTimer = setTimeout(flush, RETRY_MS);
  }
  window.addEventListener("online", function () { flush(); if (mode === "loading") begin(); });
  function signal(kind, detail) {
    if (!st.attempt || !active()) return;
    api("POST", "/api/v1/attempts/" + st.attempt + "/signals", { kind: kind, detail: detail || "" }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () { if (document.hidden) signal("focus_lost"); });

  // ---- submit ----
  // finish submits once every answer of this device has been delivered; without a network it says
  // it is waiting and tries again.
  function finish() {
    clearTimeout(finishTimer);
    if (!closing() || yielded) return;
    if (st.pending.some(function (p) { return p.device === st.device; })) {
      flush();
      showStatus();
      finishTimer = setTimeout(finish, 1000);
      return;
    }
    showStatus();
    api("POST", "/api/v1/attempts/" + st.attempt + "/submit").then(function (r) {
      if (r.status === 200) { failing = false; submittedByServer(); return; }
      if (r.key === "exams.taken_over") { lost(); return; }
      if (r.status >= 500 || r.status === 429) { failing = true; showStatus(); finishTimer = setTimeout(finish, 3000); return; }
      fail(errorMessage(r));
    }).catch(function () {
      failing = true;
      showStatus();
      finishTimer = setTimeout(finish, 3000);
    });
  }
  window.addEventListener("online", finish);
  $("submit").addEventListener("click", function () {
    if (!active()) return;
    var open = paper.questions.filter(function (q) { return !answered(q.position); }).length;
    var text = msg("confirm") + (open ? " " + msg("unanswered").replace("%d", open) : "");
    if (!window.confirm(text)) return;
    // Blur first: a field's pending change is saved on blur, before the inputs are locked.
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    mode = "submitting";
    lock();
    message("", false);
    finish();
  });

  // ---- questions ----
  function answered(pos) {
    var a = answers[pos];
    if (!a) return false;
    return (a.choices && a.choices.length) || a.truth !== undefined || (a.blanks && a.blanks.some(Boolean)) ||
      a.number !== undefined || (a.matches && a.matches.some(Boolean)) || (a.gaps && a.gaps.some(Boolean)) || (a.order && a.order.length) || !!a.text;
  }
  // render shows the current question with the player shared with practice and review (player.js).
  function render() {
    var q = paper.questions[current], box = $("question");
    window.ShanyuPlayer.render(box, q, answers[q.position] || {}, {
      msg: msg, label: msg("question").replace("%d", current + 1).replace("%d", paper.questions.length),
      imgBase: "/exams/attempts/" + st.attempt + "/", disabled: !active(),
      change: function (response) { change(q.position, response); }, paste: function () { signal("paste"); }
    });
    // A button disabled under the keyboard's focus would drop focus to the top of the page: move it
    // to the next sensible control (on the last question, 交卷).
    var focused = document.activeElement;
    $("prev").disabled = current === 0;
    $("next").disabled = current === paper.questions.length - 1;
    if (focused === $("next") && $("next").disabled) ($("submit").disabled ? $("prev") : $("submit")).focus();
    if (focused === $("prev") && $("prev").disabled) $("next").focus();
    $("flag").setAttribute("aria-pressed", st.flags[q.position] ? "true" : "false");
    drawNavigator();
  }
  // The navigator's buttons are made once and then only restyled, so that keyboard focus stays put.
  // Answered: filled; typed but not yet received by the server: dashed.
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
    var unsent = {};
    st.pending.forEach(function (p) { if (p.device === st.device) unsent[p.item] = true; });
    paper.questions.forEach(function (q, i) {
      var b = nav.children[i].firstChild;
      b.classList.toggle("answered", !!answered(q.position));
      b.classList.toggle("pending", !!unsent[q.position]);
      b.classList.toggle("flagged", !!st.flags[q.position]);
      if (i === current) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
    });
  }
  $("question").setAttribute("tabindex", "-1");
  $("prev").addEventListener("click", function () { if (current > 0) { current--; render(); } });
  $("next").addEventListener("click", function () { if (current < paper.questions.length - 1) { current++; render(); } });
  $("flag").addEventListener("click", function () {
    if (!active()) return;
    var pos = paper.questions[current].position;
    st.flags[pos] = !st.flags[pos];
    persist();
    render();
  });

  // ---- offline reload ----
  // The service worker serves this page and its assets from a cache when the network is down; the
  // page stores itself and its assets there once per device.
  if ("serviceWorker" in navigator && window.caches) {
    navigator.serviceWorker.register(root.getAttribute("data-sw"), { scope: "/exams/" }).then(function () {
      return caches.open("shanyu-exam");
    }).then(function (c) {
      var urls = [location.pathname];
      document.querySelectorAll("link[rel=stylesheet][href], script[src], link[rel=icon][href]").forEach(function (n) {
        urls.push(n.getAttribute("href") || n.getAttribute("src"));
      });
      return Promise.all(urls.map(function (u) {
        // The page itself is kept afresh: a copy kept before the attempt began is the instructions.
        if (u === location.pathname) return c.add(u);
        return c.match(u).then(function (hit) { return hit || c.add(u); });
      }));
    }).catch(function () { /* no offline reload on this browser */ });
  }
  // Two tabs of one exam on one device would share the device's token and sequence numbers: the
  // newer tab takes over (it has read everything the older one kept) and the older one stops.
  if (window.BroadcastChannel) {
    var tabID = Math.random().toString(36).slice(2), chan = new BroadcastChannel(storeKey);
    chan.onmessage = function (e) {
      if (!e.data || e.data.tab === tabID || !e.data.hello || yielded) return;
      yielded = true;
      mode = "tab";
      clearTimeout(retryTimer); clearTimeout(finishTimer); clearTimeout(beginTimer);
      lock();
      root.classList.add("no-paper");
      message(msg("other-tab"), false);
      showStatus();
    };
    chan.postMessage({ hello: true, tab: tabID });
  }
  begin();
})();
