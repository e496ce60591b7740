// The question player shared by the exam, practice and review pages (reuse, not a copy): it draws
// one question into a box — stem with its images, inline cloze gaps, options, blanks, matching,
// ordering, essay — with the given answer, and reports each change of the answer. The pages own everything
// else (saving, the clock, feedback). Every control has a label, so the keyboard and a screen reader
// reach it as in the exam.
//
// render(box, q, a, o): q a question as the server sends it (exams.Question), a the answer (exams.Answer),
// o.msg(key) the page's texts (true, false, gap, choose, points; gap_no, gap_given, gap_key,
// gap_earned and gap_none when o.gapResults, a cloze answer read gap by gap, is to be listed), o.label the question's heading,
// o.imgBase the URL question images are relative to, o.change(response) and o.paste() what the page
// does on a change and a paste, o.disabled to show the answer only, o.idPrefix to keep ids apart
// when a page shows several questions (default "q").
window.ShanyuPlayer = (function () {
  "use strict";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function render(box, q, a, o) {
    var msg = o.msg, imgBase = o.imgBase || "";
    var change = function (_, response) { if (o.change) o.change(response); };
    var signal = function () { if (o.paste) o.paste(); };
    box.textContent = "";
    var head = el("p", "q-head", o.label + " · " + msg("points").replace("%s", q.points));
    box.appendChild(head);
    var stem = el("div", "stem");
    // Image URLs are relative to the page's base; an inert template lets them be fixed before they load.
    var stemText = q.stem;
    if (q.type === "cloze") {
      // Each {#n} marker becomes an empty span that the gap's control fills; in plain text the
      // stem is escaped first so that only the markers turn into markup.
      if (q.format !== "html") stemText = stemText.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }).replace(/\n/g, "<br>");
      stemText = stemText.replace(/\{#(\d+)\}/g, '<span class="gap" data-gap="$1"></span>');
    }
    if (q.format === "html" || q.type === "cloze") {
      var tpl = document.createElement("template");
      tpl.innerHTML = stemText;
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
    a = a || {};
    var name = (o.idPrefix || "q") + q.position;
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
    } else if (q.type === "cloze") {
      var gapVals = (a.gaps || []).slice();
      while (gapVals.length < q.gaps.length) gapVals.push("");
      var saveGaps = function () { change(q.position, { gaps: gapVals.slice() }); };
      stem.querySelectorAll("span.gap").forEach(function (span) {
        var gi = parseInt(span.getAttribute("data-gap"), 10) - 1, g = q.gaps[gi];
        if (!g) return;
        var id = name + "-g" + gi, label = msg("gap").replace("%d", gi + 1);
        if (g.kind === "choice" && g.display === "select") {
          var sel = el("select"); sel.id = id; sel.setAttribute("aria-label", label);
          var none = el("option", "", msg("choose")); none.value = ""; sel.appendChild(none);
          g.options.forEach(function (t, k) { var o = el("option", "", t); o.value = String(k); o.selected = gapVals[gi] === String(k); sel.appendChild(o); });
          sel.addEventListener("change", function () { gapVals[gi] = sel.value; saveGaps(); });
          span.appendChild(sel);
        } else if (g.kind === "multi") {
          // Check boxes; the answer is the ticked places as shown, "0,2".
          var boxes = el("span", "gap-radios " + g.display);
          boxes.setAttribute("role", "group"); boxes.setAttribute("aria-label", label);
          var ticked = gapVals[gi] ? gapVals[gi].split(",") : [];
          g.options.forEach(function (t, k) {
            var cid = id + "-" + k, lab = el("label", "option"), c = el("input");
            c.type = "checkbox"; c.id = cid; c.value = String(k); c.checked = ticked.indexOf(String(k)) >= 0;
            c.addEventListener("change", function () {
              var now = [];
              boxes.querySelectorAll("input").forEach(function (x, j) { if (x.checked) now.push(String(j)); });
              gapVals[gi] = now.join(","); saveGaps();
            });
            lab.setAttribute("for", cid); lab.appendChild(c); lab.appendChild(el("span", "", t));
            boxes.appendChild(lab);
          });
          span.appendChild(boxes);
        } else if (g.kind === "choice") {
          var group = el("span", "gap-radios " + g.display);
          group.setAttribute("role", "radiogroup"); group.setAttribute("aria-label", label);
          g.options.forEach(function (t, k) {
            var rid = id + "-" + k, lab = el("label", "option"), r = el("input");
            r.type = "radio"; r.name = id; r.id = rid; r.value = String(k); r.checked = gapVals[gi] === String(k);
            r.addEventListener("change", function () { gapVals[gi] = String(k); saveGaps(); });
            lab.setAttribute("for", rid); lab.appendChild(r); lab.appendChild(el("span", "", t));
            group.appendChild(lab);
          });
          span.appendChild(group);
        } else {
          var inp = el("input"); inp.type = "text"; inp.id = id; inp.value = gapVals[gi];
          inp.setAttribute("aria-label", label); inp.setAttribute("autocomplete", "off");
          inp.setAttribute("inputmode", g.kind === "number" ? "decimal" : "text");
          inp.size = g.kind === "number" ? 6 : 10;
          debounce(inp, "input", function () { gapVals[gi] = inp.value; saveGaps(); });
          inp.addEventListener("paste", function () { signal("paste"); });
          span.appendChild(inp);
        }
      });
    } else if (q.type === "fill_blank") {
      for (var b = 0; b < q.blanks; b++) box.appendChild(textInput(o, name + "-" + b, (a.blanks || [])[b] || "", "text", function () {
        var vals = [];
        box.querySelectorAll("input").forEach(function (x) { vals.push(x.value); });
        change(q.position, { blanks: vals });
      }, b + 1));
    } else if (q.type === "numeric") {
      box.appendChild(textInput(o, name, a.number !== undefined ? String(a.number) : "", "decimal", function (v) {
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
    } else if (q.type === "ordering") {
      drawOrder(box, q, a, o, name, change);
    } else {
      var ta = el("textarea"); ta.rows = 8; ta.id = name; ta.value = a.text || "";
      ta.setAttribute("aria-label", o.label);
      debounce(ta, "input", function () { change(q.position, { text: ta.value }); });
      ta.addEventListener("paste", function () { signal("paste"); });
      box.appendChild(ta);
    }
    if (o.gapResults && o.gapResults.length) box.appendChild(gapTable(o.gapResults, msg));
    if (o.disabled) box.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = true; });
  }
  // gapTable lists a cloze answer gap by gap: what was given (by text), the key, the share earned.
  function gapTable(results, msg) {
    var wrap = el("div", "table-wrap"), t = el("table", "gap-results"), head = el("tr");
    ["no", "given", "key", "earned"].forEach(function (k) { head.appendChild(el("th", "", msg("gap_" + k))); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    results.forEach(function (r, i) {
      var tr = el("tr", r.fraction >= 1 ? "gap-right" : r.fraction > 0 ? "gap-partial" : "gap-wrong");
      tr.appendChild(el("td", "", String(i + 1)));
      tr.appendChild(el("td", "", r.given || msg("gap_none")));
      tr.appendChild(el("td", "", r.key));
      tr.appendChild(el("td", "", Math.round(r.fraction * 100) + "%"));
      body.appendChild(tr);
    });
    t.appendChild(body); wrap.appendChild(t);
    return wrap;
  }

  // drawOrder shows an ordering question as a numbered list with a move-up and a move-down button on
  // every row: no dragging, each button a 44 px target labelled with its element for a screen reader,
  // and the new place announced. The answer is the rows as first shown (indexes into q.options) in
  // the candidate's order; until a move or "answer with this order" the question is unanswered.
  function drawOrder(box, q, a, o, name, change) {
    var msg = o.msg, n = q.options.length, order = [];
    var given = a.order || [], seen = {};
    given.forEach(function (k) { if (k >= 0 && k < n && !seen[k]) { seen[k] = true; order.push(k); } });
    if (order.length !== n) { order = []; for (var i = 0; i < n; i++) order.push(i); }
    var list = el("ol", "order-list");
    list.id = name + "-order";
    list.setAttribute("aria-label", msg("order-list"));
    var live = el("p", "sr-only"); live.setAttribute("role", "status"); live.setAttribute("aria-live", "polite");
    var keep = null;
    function save() { change(q.position, { order: order.slice() }); }
    function draw(focusKey, dir) {
      list.textContent = "";
      order.forEach(function (k, row) {
        var li = el("li", "order-row"), text = q.options[k];
        li.setAttribute("data-option", String(k));
        li.appendChild(el("span", "order-place", String(row + 1)));
        li.appendChild(el("span", "order-text", text));
        [["up", -1, "↑"], ["down", 1, "↓"]].forEach(function (b) {
          var btn = el("button", "order-move order-" + b[0], b[2]);
          btn.type = "button";
          btn.setAttribute("aria-label", msg("order-" + b[0]).replace("%s", text));
          btn.disabled = !!o.disabled || (b[1] < 0 ? row === 0 : row === n - 1);
          btn.addEventListener("click", function () { move(row, b[1]); });
          li.appendChild(btn);
        });
        list.appendChild(li);
      });
      if (focusKey === undefined) return;
      // Keep the focus on the element that moved; at the top or bottom, on its other button.
      var row = list.querySelector('[data-option="' + focusKey + '"]');
      var btn = row.querySelector(dir < 0 ? ".order-up" : ".order-down");
      if (btn.disabled) btn = row.querySelector(dir < 0 ? ".order-down" : ".order-up");
      btn.focus();
    }
    function move(row, d) {
      var to = row + d;
      if (to < 0 || to >= n) return;
      var k = order[row];
      order[row] = order[to]; order[to] = k;
      draw(k, d);
      live.textContent = msg("order-moved").replace("%s", q.options[k]).replace("%d", to + 1).replace("%d", n);
      if (keep) keep.hidden = true;
      save();
    }
    draw();
    box.appendChild(list);
    box.appendChild(live);
    if (!o.disabled && !(a.order && a.order.length)) {
      keep = el("button", "order-keep", msg("order-keep"));
      keep.type = "button";
      keep.addEventListener("click", function () { keep.hidden = true; save(); });
      box.appendChild(keep);
    }
  }
  function textInput(o, id, value, mode, onchange, n) {
    var f = el("div", "field"), inp = el("input");
    inp.type = "text"; inp.id = id; inp.value = value; inp.setAttribute("inputmode", mode);
    inp.setAttribute("autocomplete", "off");
    var lab = el("label", "", n ? "(" + n + ")" : o.label);
    lab.setAttribute("for", id);
    debounce(inp, "input", function () { onchange(inp.value); });
    inp.addEventListener("paste", function () { if (o.paste) o.paste(); });
    f.appendChild(lab); f.appendChild(inp);
    return f;
  }
  function debounce(node, ev, fn) {
    var t = null;
    node.addEventListener(ev, function () { clearTimeout(t); t = setTimeout(fn, 600); });
    node.addEventListener("blur", function () { if (t) { clearTimeout(t); t = null; fn(); } });
  }
  return { render: render, el: el };
})();
