// dashboard.js draws the regulator's dashboard (一张网) with Apache ECharts, bundled (echarts.min.js):
// the region's children on a map coloured against the target, a bar chart of the same figures and
// the trend towards the target. The page's tables hold every figure; without this script they are
// all there is. Clicking a region that has children opens its own dashboard (drill-down).
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || !window.echarts) return;
  var d = JSON.parse(node.textContent);
  var colours = { met: "#15803d", near: "#d97706", below: "#b91c1c", none: "#d1d5db" };
  var charts = {};

  function show(v) {
    if (v === null || v === undefined) return d.words.no_data;
    return d.percent ? (Math.round(v * 1000) / 10) + "%" : String(Math.round(v * 100) / 100);
  }
  function scaled(v) {
    if (v === null || v === undefined) return null;
    return d.percent ? Math.round(v * 1000) / 10 : Math.round(v * 100) / 100;
  }
  function drill(code) {
    var row = d.rows.find(function (r) { return r.code === code; });
    if (row && row.drill) {
      location.href = "/dashboard?region=" + encodeURIComponent(code) + "&indicator=" + encodeURIComponent(d.indicator);
    }
  }
  function colourOf(r) {
    if (r.value === null) return colours.none;
    if (d.target !== null) return colours[r.status] || colours.none;
    return null; // no target: the visual map's gradient
  }
  function open(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    el.hidden = false;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    charts[id] = chart;
    return chart;
  }
  var max = d.rows.reduce(function (m, r) { return r.value !== null && scaled(r.value) > m ? scaled(r.value) : m; }, 0);
  var gradient = d.target === null ? [{ type: "continuous", min: 0, max: max || 1, calculable: false, inRange: { color: ["#dbeafe", "#1e40af"] },
    left: 0, bottom: 0, itemHeight: 80, textStyle: { fontSize: 11 } }] : [];
  var targetLine = d.target === null ? undefined : { silent: true, symbol: "none", lineStyle: { color: "#111827", type: "dashed" },
    label: { formatter: d.words.target + " " + show(d.target), position: "insideEndTop" }, data: [] };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  // axisMax leaves room for the target line, rounded up to a number an axis can show.
  function axisMax(v) {
    if (d.target === null) return undefined;
    var m = Math.max(v.max, scaled(d.target) * 1.1);
    return d.percent ? Math.min(100, Math.ceil(m / 10) * 10) : Math.ceil(m);
  }
  function tooltip(p) {
    var r = d.rows.find(function (x) { return x.code === p.name || x.name === p.name; });
    if (!r) return esc(p.name);
    var s = esc(r.name) + "<br>" + esc(d.label) + ": " + show(r.value);
    if (d.target !== null && r.value !== null) s += "<br>" + esc(d.words[r.status]);
    return s;
  }

  function drawMap(geo) {
    var chart = open("chart-map");
    if (!chart) return;
    echarts.registerMap(d.region, geo);
    chart.setOption({
      tooltip: { trigger: "item", formatter: tooltip, confine: true },
      visualMap: gradient,
      series: [{
        type: "map", map: d.region, nameProperty: "code", roam: false, selectedMode: false, top: 8, bottom: 8,
        label: { show: true, fontSize: 10, color: "#111827", textBorderColor: "#fff", textBorderWidth: 2, formatter: function (p) { var r = d.rows.find(function (x) { return x.code === p.name; }); return r ? r.name : ""; } },
        emphasis: { label: { show: true }, itemStyle: { areaColor: "#fde68a" } },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        data: d.rows.map(function (r) {
          var c = colourOf(r);
          return { name: r.code, value: scaled(r.value), itemStyle: c ? { areaColor: c } : undefined };
        })
      }]
    });
    chart.on("click", function (p) { drill(p.name); });
  }

  function drawBars() {
    var chart = open("chart-bars");
    if (!chart) return;
    var rows = d.rows.slice().reverse(); // the first child at the top
    var mark = targetLine && Object.assign({}, targetLine, { data: [{ xAxis: scaled(d.target) }] });
    chart.setOption({
      grid: { left: 8, right: 24, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "item", formatter: function (p) { return tooltip({ name: rows[p.dataIndex].code }); }, confine: true },
      xAxis: { type: "value", axisLabel: { formatter: d.percent ? "{value}%" : "{value}" }, max: axisMax },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { fontSize: 11 } },
      series: [{
        type: "bar", markLine: mark,
        data: rows.map(function (r) { return { value: scaled(r.value), itemStyle: { color: colourOf(r) || "#2563eb" } }; })
      }]
    });
    chart.on("click", function (p) { drill(rows[p.dataIndex].code); });
  }

  function drawTrend() {
    if (!d.trend.length) return;
    var chart = open("chart-trend");
    if (!chart) return;
    var mark = targetLine && Object.assign({}, targetLine, { data: [{ yAxis: scaled(d.target) }] });
    chart.setOption({
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? d.words.no_data : v + (d.percent ? "%" : ""); }, confine: true },
      xAxis: { type: "category", data: d.trend.map(function (p) { return p.month; }), axisLabel: { fontSize: 11 } },
      yAxis: { type: "value", axisLabel: { formatter: d.percent ? "{value}%" : "{value}" }, max: axisMax },
      series: [{ type: "line", name: d.label, connectNulls: false, markLine: mark, data: d.trend.map(function (p) { return scaled(p.value); }) }]
    });
  }

  var legend = document.getElementById("chart-legend");
  if (legend) legend.hidden = false;
  drawBars();
  drawTrend();
  if (d.geo && document.getElementById("chart-map")) {
    fetch(d.geo, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(drawMap)
      .catch(function () { document.getElementById("chart-map").hidden = true; });
  }
  // The charts follow their boxes' width (a phone turned, a window resized).
  var resize = function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); };
  if (window.ResizeObserver) {
    var ro = new ResizeObserver(resize);
    document.querySelectorAll(".chart").forEach(function (el) { ro.observe(el); });
  } else {
    window.addEventListener("resize", resize);
  }
  // For the browser tests: the charts, to read what they were given.
  window.shanyuDashboard = charts;
})();
