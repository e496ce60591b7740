// Question bank pages: bulk selection, the item editor with its live preview, and the import wizard.
// No inline handlers (CSP); every text the user reads comes from data-msg-* attributes the server
// translated.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function fill(tpl, vals) { return tpl.replace(/\{(\w+)\}/g, function (_, k) { return vals[k] !== undefined ? vals[k] : ""; }); }
  function errorText(xhrBody) {
    try {
      var e = JSON.parse(xhrBody).error;
      var parts = [e.message];
      if (e.fields) Object.keys(e.fields).forEach(function (k) { parts.push(e.fields[k]); });
      return parts.join(" · ");
    } catch (_) { return ""; }
  }

  // ---- Bank list: select all, confirm before retiring. ----
  function initList() {
    var bulk = $("bulk");
    if (!bulk) return;
    var all = $("pick-all");
    if (all) all.addEventListener("change", function () {
      bulk.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = all.checked; });
    });
    bulk.addEventListener("submit", function (ev) {
      var action = bulk.querySelector("[name=action]");
      if (action && action.value === "retire" && !window.confirm(bulk.getAttribute("data-confirm-retire"))) ev.preventDefault();
    });
  }

  // ---- Editor: lines of the answers box <-> item JSON, and the candidate view. ----
  function num(s) { var n = parseFloat(String(s).replace(",", ".")); return isNaN(n) ? 0 : n; }
  function pct(w) { return Math.round(w * 10000) / 100; }

  function parseAnswers(type, text) {
    var lines = text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
    var it = {};
    if (type === "single_choice" || type === "multiple_choice") {
      var correct = 0;
      it.choices = lines.map(function (l) {
        var ok = l.charAt(0) === "=", w = null, t = l.replace(/^[=~]\s*/, "");
        var m = t.match(/^%(-?\d+(?:\.\d+)?)%\s*/);
        if (m) { w = num(m[1]) / 100; t = t.slice(m[0].length); }
        if (ok) correct++;
        return { text: t, weight: w, ok: ok };
      });
      it.choices.forEach(function (c) {
        if (c.weight === null) c.weight = c.ok ? (type === "single_choice" ? 1 : 1 / Math.max(correct, 1)) : 0;
        delete c.ok;
      });
    } else if (type === "fill_blank") {
      it.blanks = lines.map(function (l) {
        return { accepted: l.split("|").map(function (a) { return { text: a.trim(), weight: 1 }; }).filter(function (a) { return a.text; }) };
      });
    } else if (type === "numeric") {
      it.numbers = lines.map(function (l) {
        var p = l.split(/±|\+-|\s+/);
        return { value: num(p[0]), tolerance: p.length > 1 ? Math.abs(num(p[1])) : 0, weight: 1 };
      });
    } else if (type === "matching") {
      it.pairs = lines.map(function (l) {
        var i = l.indexOf("->");
        return i < 0 ? { left: l, right: "" } : { left: l.slice(0, i).trim(), right: l.slice(i + 2).trim() };
      });
    } else if (type === "ordering") {
      it.sequence = lines;
    } else if (type === "essay" || type === "practical") {
      it.rubric = lines.map(function (l) {
        var i = l.lastIndexOf("|");
        return i < 0 ? { text: l, points: 0 } : { text: l.slice(0, i).trim(), points: num(l.slice(i + 1)) };
      });
    }
    return it;
  }

  function answerLines(it) {
    switch (it.type) {
      case "single_choice": case "multiple_choice":
        var positives = (it.choices || []).filter(function (c) { return c.weight > 0; }).length;
        return (it.choices || []).map(function (c) {
          var single = it.type === "single_choice";
          var plain = single ? (c.weight === 1 || c.weight === 0) : (c.weight === 0 || Math.abs(c.weight - 1 / positives) < 1e-6);
          var right = single ? c.weight >= 1 : c.weight > 0;
          return (right ? "=" : "~") + (plain ? "" : "%" + pct(c.weight) + "%") + c.text;
        }).join("\n");
      case "fill_blank":
        return (it.blanks || []).map(function (b) { return b.accepted.map(function (a) { return a.text; }).join(" | "); }).join("\n");
      case "numeric":
        return (it.numbers || []).map(function (n) { return n.value + (n.tolerance ? "±" + n.tolerance : ""); }).join("\n");
      case "matching":
        return (it.pairs || []).map(function (p) { return (p.left ? p.left + " " : "") + "-> " + p.right; }).join("\n");
      case "ordering":
        return (it.sequence || []).join("\n");
      case "essay": case "practical":
        return (it.rubric || []).map(function (r) { return r.text + " | " + r.points; }).join("\n");
    }
    return "";
  }

  function initEditor() {
    var form = $("item-form");
    if (!form) return;
    var msg = function (k) { return form.getAttribute("data-msg-" + k) || ""; };
    var f = function (n) { return form.elements[n]; };
    var stored = form.getAttribute("data-item") ? JSON.parse(form.getAttribute("data-item")) : null;
    if (stored) {
      ["type", "title", "stem", "explanation", "category", "occupation"].forEach(function (k) { if (stored[k] !== undefined) f(k).value = stored[k]; });
      f("points").value = stored.points;
      f("truth").value = stored.truth ? "true" : "false";
      if (stored.scoring) f("scoring").value = stored.scoring;
      f("tags").value = (stored.tags || []).join(", ");
      f("difficulty").value = String(stored.difficulty || 0);
      f("level").value = String(stored.level || 0);
      f("answers").value = answerLines(stored);
      if (stored.type === "cloze" && stored.cloze_text) f("stem").value = stored.cloze_text;
    } else {
      f("answers").value = template("single_choice");
    }
    // A new item starts with the choice template ("=" the right choice, "~" the others). Changing the
    // type while the answers are still a template replaces it with the new type's (empty where the
    // type's lines have no markers), so that an ordering item does not start with "=" and "~" as its
    // elements; answers the author has written are kept.
    var shownType = f("type").value;
    function template(type) {
      return type === "single_choice" || type === "multiple_choice" ? "=\n~\n~\n~" : "";
    }
    f("type").addEventListener("change", function () {
      var now = f("type").value;
      if (f("answers").value === template(shownType)) f("answers").value = template(now);
      shownType = now;
    });

    function current() {
      var type = f("type").value;
      var it = parseAnswers(type, f("answers").value);
      it.type = type;
      it.title = f("title").value.trim();
      it.stem = f("stem").value;
      if (type === "cloze") it.cloze_text = it.stem; // the server reads the gaps from Moodle's syntax
      it.format = stored && stored.format ? stored.format : "plain";
      it.points = num(f("points").value);
      it.explanation = f("explanation").value;
      it.truth = f("truth").value === "true";
      if (type === "multiple_choice" || type === "ordering") it.scoring = f("scoring").value;
      it.category = f("category").value;
      it.tags = f("tags").value.split(/[,，、;；]/).map(function (t) { return t.trim(); }).filter(Boolean);
      it.difficulty = parseInt(f("difficulty").value, 10) || 0;
      it.level = parseInt(f("level").value, 10) || 0;
      it.occupation = f("occupation").value.trim();
      if (stored && stored.images) it.images = stored.images;
      return it;
    }

    function showFields() {
      var type = f("type").value;
      form.querySelectorAll("[data-for]").forEach(function (d) {
        d.hidden = d.getAttribute("data-for").split(" ").indexOf(type) < 0;
      });
      form.querySelectorAll("[data-hint]").forEach(function (h) {
        h.classList.toggle("on", h.getAttribute("data-hint") === type);
        if (h.getAttribute("data-hint") === type) f("answers").setAttribute("aria-describedby", h.id);
      });
    }

    function keyMark(li) { li.classList.add("key"); li.appendChild(el("span", "q-key", msg("key"))); }

    function render() {
      var it = current(), box = $("preview");
      box.textContent = "";
      var head = el("p", "q-meta", it.points + " " + msg("points"));
      box.appendChild(head);
      if (it.title) box.appendChild(el("h3", "", it.title));
      var stem = el("p", "q-stem");
      if (it.type === "fill_blank") {
        var parts = it.stem.split(/_{2,}|（\s*）|\(\s*\)/);
        parts.forEach(function (p, i) {
          stem.appendChild(document.createTextNode(p));
          if (i < parts.length - 1) {
            var inp = el("input", "q-blank"); inp.disabled = true;
            var b = (it.blanks || [])[i];
            if (b && b.accepted.length) inp.placeholder = b.accepted.map(function (a) { return a.text; }).join(" / ");
            stem.appendChild(inp);
          }
        });
      } else if (it.type === "cloze") {
        clozePreview(box, it);
        return;
      } else {
        stem.textContent = it.format === "html" ? new DOMParser().parseFromString(it.stem, "text/html").body.textContent : it.stem;
      }
      box.appendChild(stem);
      var list = el("ul", "q-options");
      if (it.type === "single_choice" || it.type === "multiple_choice") {
        (it.choices || []).forEach(function (c, i) {
          var li = el("li"), inp = el("input");
          inp.type = it.type === "single_choice" ? "radio" : "checkbox"; inp.name = "pv"; inp.disabled = true;
          li.appendChild(inp);
          li.appendChild(el("span", "", String.fromCharCode(65 + i) + ". " + c.text));
          var full = it.type === "single_choice" ? c.weight >= 1 : c.weight > 0;
          if (full) keyMark(li);
          var partial = it.type === "single_choice" ? c.weight > 0 && c.weight < 1 : it.scoring === "partial" && c.weight !== 0;
          if (partial) li.appendChild(el("span", "q-meta", pct(c.weight) + "%"));
          list.appendChild(li);
        });
        box.appendChild(list);
      } else if (it.type === "true_false") {
        [true, false].forEach(function (v) {
          var li = el("li"), inp = el("input");
          inp.type = "radio"; inp.name = "pv"; inp.disabled = true;
          li.appendChild(inp); li.appendChild(el("span", "", msg(v ? "true" : "false")));
          if (it.truth === v) keyMark(li);
          list.appendChild(li);
        });
        box.appendChild(list);
      } else if (it.type === "fill_blank" && !/_{2,}|（\s*）|\(\s*\)/.test(it.stem)) {
        (it.blanks || []).forEach(function (b) {
          var li = el("li"); li.appendChild(el("input", "q-blank")); li.firstChild.disabled = true;
          li.appendChild(el("span", "q-key", msg("key") + ": " + b.accepted.map(function (a) { return a.text; }).join(" / ")));
          list.appendChild(li);
        });
        box.appendChild(list);
      } else if (it.type === "numeric") {
        var li = el("li"), inp = el("input", "q-blank"); inp.type = "number"; inp.disabled = true;
        li.appendChild(inp);
        li.appendChild(el("span", "q-key", msg("key") + ": " + (it.numbers || []).map(function (n) { return n.value + (n.tolerance ? "±" + n.tolerance : ""); }).join(" / ")));
        list.appendChild(li); box.appendChild(list);
      } else if (it.type === "matching") {
        var rights = (it.pairs || []).map(function (p) { return p.right; }).slice().sort();
        (it.pairs || []).filter(function (p) { return p.left; }).forEach(function (p) {
          var li = el("li"); li.appendChild(el("span", "", p.left));
          var sel = el("select"); sel.disabled = true;
          sel.appendChild(el("option", "", msg("choose")));
          rights.forEach(function (r) { sel.appendChild(el("option", "", r)); });
          li.appendChild(sel); li.appendChild(el("span", "q-key", "→ " + p.right));
          list.appendChild(li);
        });
        box.appendChild(list);
      } else if (it.type === "ordering") {
        // The right order, numbered; the candidate sees the same elements shuffled.
        var ol = el("ol", "q-options q-order");
        (it.sequence || []).forEach(function (t) { ol.appendChild(el("li", "", t)); });
        box.appendChild(ol);
        box.appendChild(el("p", "q-key q-key-line", msg("key") + ": " + (it.sequence || []).join(" → ")));
      } else if (it.type === "essay" || it.type === "practical") {
        box.appendChild(el("div", "q-box", msg("answer")));
        if ((it.rubric || []).length) {
          box.appendChild(el("p", "q-key", msg("rubric")));
          var ul = el("ul");
          it.rubric.forEach(function (r) { ul.appendChild(el("li", "", r.text + " (" + r.points + " " + msg("points") + ")")); });
          box.appendChild(ul);
        }
      }
      if (it.explanation) box.appendChild(el("div", "q-explain", msg("explanation") + ": " + it.explanation));
    }

    // clozePreview asks the server to read the Moodle syntax (the parser that imports and grades),
    // then draws the gaps with the exam's player, disabled, and lists the key gap by gap.
    var clozeTimer = null, clozeSeq = 0;
    function clozePreview(box, it) {
      clearTimeout(clozeTimer);
      var seq = ++clozeSeq;
      clozeTimer = setTimeout(function () {
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("data-api").replace(/\/items$/, "/cloze-preview"));
        xhr.setRequestHeader("Content-Type", "application/json");
        xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
        xhr.onload = function () {
          if (seq !== clozeSeq) return; // a later edit is on its way
          var part = $("cloze-preview");
          if (!part) { part = el("div"); part.id = "cloze-preview"; box.appendChild(part); }
          part.textContent = "";
          if (xhr.status !== 200) {
            part.appendChild(el("p", "notice error", msg("cloze_unread").replace("%s", errorText(xhr.responseText))));
            return;
          }
          var pv = JSON.parse(xhr.responseText), q = { type: "cloze", position: 0, points: it.points, stem: pv.stem, format: pv.format, gaps: pv.gaps };
          var player = el("div", "question");
          window.ShanyuPlayer.render(player, q, {}, { msg: msg, label: "", disabled: true, idPrefix: "pv" });
          var head = player.querySelector(".q-head");
          if (head) head.parentNode.removeChild(head); // the preview has its own heading
          part.appendChild(player);
          part.appendChild(el("p", "q-key", msg("cloze_keys")));
          var ol = el("ol", "cloze-keys");
          pv.gaps.forEach(function (g) { ol.appendChild(el("li", "", g.key + " (" + msg("cloze_weight").replace("%s", g.weight) + ")")); });
          part.appendChild(ol);
        };
        xhr.send(JSON.stringify({ cloze_text: it.cloze_text, format: it.format }));
      }, 250);
      var part = el("div"); part.id = "cloze-preview"; box.appendChild(part);
      if (it.explanation) box.appendChild(el("div", "q-explain", msg("explanation") + ": " + it.explanation));
    }

    form.addEventListener("input", render);
    form.addEventListener("change", function () { showFields(); render(); });
    showFields();
    render();

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var status = $("item-status"), id = form.getAttribute("data-id");
      var xhr = new XMLHttpRequest();
      xhr.open(id ? "PUT" : "POST", form.getAttribute("data-api") + (id ? "/" + id : ""));
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.onload = function () {
        if (xhr.status === 200 || xhr.status === 201) {
          var saved = JSON.parse(xhr.responseText);
          status.className = "notice"; status.textContent = msg("saved") + " · v" + saved.version;
          if (!id) window.location.assign(form.getAttribute("data-base") + "/items/" + saved.id);
        } else {
          status.className = "notice error"; status.textContent = msg("failed") + errorText(xhr.responseText);
        }
      };
      xhr.onerror = function () { status.className = "notice error"; status.textContent = msg("failed"); };
      xhr.send(JSON.stringify(current()));
    });
  }

  // ---- Import wizard: upload with progress -> preview tables -> commit. ----
  function initImport() {
    var form = $("import-form");
    if (!form) return;
    var msg = function (k) { return form.getAttribute("data-msg-" + k) || ""; };
    var bar = $("import-bar"), progress = $("import-progress"), status = $("import-status");
    var token = "";
    function step(id) {
      ["step-upload", "step-preview", "step-commit"].forEach(function (s) { $(s).removeAttribute("aria-current"); });
      $(id).setAttribute("aria-current", "step");
    }
    function busy(text, determinate) {
      progress.hidden = false; progress.classList.add("busy"); status.textContent = text;
      if (determinate) bar.value = 0; else bar.removeAttribute("value");
    }
    function idle() { progress.hidden = true; progress.classList.remove("busy"); }
    // A refusal goes beside the field it is about (the file, or the format), which is marked invalid,
    // scrolled into view and focused; the chosen file and format stay as they were.
    function clearFieldErrors() {
      ["format", "file"].forEach(function (f) {
        var box = $("import-" + f + "-error"), input = $("import-" + f);
        box.hidden = true; box.textContent = ""; input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby");
      });
    }
    function fail(text, body) {
      idle(); clearFieldErrors();
      var fields = {};
      try { fields = (JSON.parse(body || "{}").error || {}).fields || {}; } catch (e) { fields = {}; }
      var name = fields.format ? "format" : "file";
      var box = $("import-" + name + "-error"), input = $("import-" + name);
      box.textContent = msg("failed") + (fields[name] || text);
      box.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", box.id);
      box.scrollIntoView({ block: "center" });
      input.focus({ preventScroll: true });
    }
    function place(r) { return [r.element, r.line ? msg("line").replace("%d", r.line) : ""].filter(Boolean).join(" "); }
    function row(tbody, cells) {
      var tr = el("tr");
      cells.forEach(function (c) { tr.appendChild(el("td", "", c)); });
      tbody.appendChild(tr);
    }
    function send(url, withToken, onDone) {
      var data = new FormData(form);
      if (withToken) data.append("token", token);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        var p = Math.round(e.loaded / e.total * 100);
        bar.value = p;
        status.textContent = (withToken ? msg("committing") : msg("uploading").replace("%s", p + "%"));
      };
      xhr.upload.onload = function () {
        bar.removeAttribute("value");
        status.textContent = withToken ? msg("committing") : msg("parsing");
      };
      xhr.onload = function () {
        if (xhr.status === 200) onDone(JSON.parse(xhr.responseText));
        else fail(errorText(xhr.responseText) || String(xhr.status), xhr.responseText);
      };
      xhr.onerror = function () { fail(""); };
      xhr.send(data);
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearFieldErrors(); $("import-result").hidden = true; $("import-done").hidden = true;
      busy(msg("uploading").replace("%s", "0%"), true);
      send(form.getAttribute("action"), false, function (res) {
        idle();
        token = res.token;
        var created = $("import-created").tBodies[0], skipped = $("import-skipped").tBodies[0];
        created.textContent = ""; skipped.textContent = "";
        res.create.forEach(function (c) { row(created, [place(c), c.type_name, c.text, c.category]); });
        res.skipped.forEach(function (s) { row(skipped, [place(s), s.type || "", s.message, s.detail || ""]); });
        var sum = $("import-summary");
        sum.textContent = fill(sum.getAttribute("data-template"), { questions: res.questions, create: res.create_count, skipped: res.skipped_count });
        $("import-commit-btn").disabled = res.create_count === 0;
        if (res.create_count === 0) sum.textContent += " " + msg("nothing");
        $("import-result").hidden = false;
        step("step-preview");
        $("import-result").querySelector("h2").focus();
      });
    });
    $("import-commit-btn").addEventListener("click", function () {
      var btn = this;
      btn.disabled = true; clearFieldErrors();
      busy(msg("committing"), true);
      send(form.getAttribute("data-commit"), true, function (rep) {
        idle();
        $("import-result").hidden = true;
        var done = $("import-done-text");
        done.textContent = fill(done.getAttribute("data-template"), { created: rep.created, skipped: rep.skipped.length, categories: rep.categories_created });
        $("import-done").hidden = false;
        step("step-commit");
      });
    });
    $("import-restart").addEventListener("click", function () {
      $("import-result").hidden = true; step("step-upload"); form.reset(); $("import-file").focus();
    });
    $("import-result").querySelector("h2").tabIndex = -1;
  }

  document.addEventListener("DOMContentLoaded", function () { initList(); initEditor(); initImport(); });
})();
