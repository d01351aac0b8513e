// The benchmarks page: the newest result file of each `kenning bench` suite, drawn as SVG charts.
// The result schema belongs to the bench suites, so the page looks for chartable shapes itself:
// tables (lists of rows with a label and numbers), maps of numbers, and maps of such maps
// (systems side by side), and shows the remaining scalars as facts.
import { fill, api, emptyState, fmtDate, fmtNum, h, svg, toast } from "./lib.js";

const SERIES = ["#7c8cff", "#34d399", "#fbbf24", "#f472b6", "#38bdf8", "#f87171", "#a78bfa", "#2dd4bf"];
const LABEL_KEYS = ["name", "label", "system", "suite", "case", "query", "intent", "kind", "k", "id"];

export function renderBench(root) {
  const body = h("div.bench#bench");
  root.append(h("div.page-head", h("h1", "Benchmarks"), h("div.muted", "The newest result of each suite, as `kenning bench` wrote it.")), body);
  load();

  async function load() {
    try {
      const data = await api("/api/bench");
      if (!data.results.length) {
        fill(body, 
          emptyState("No benchmark results yet", "Run `kenning bench`; its JSON results appear here."),
          h("div.muted.small.center", "Looked in: ", data.folders.map((f, i) => [i ? ", " : "", h("code", f)])),
        );
        return;
      }
      fill(body, ...data.results.map(resultCard));
    } catch (err) {
      toast(err.message, "error");
    }
  }
  return {};
}

function resultCard(result) {
  const card = h(
    "article.bench-card",
    h("div.bench-head", h("h2", result.suite), h("span.muted.small", `${result.file} · ${fmtDate(result.modified)}`)),
  );
  if (result.error) {
    card.append(h("div.banner.stale", result.error));
    return card;
  }
  const found = { facts: [], charts: [] };
  walk(result.data, [], found, 0);
  if (found.facts.length) {
    card.append(h("dl.facts.bench-facts", found.facts.slice(0, 24).map(([k, v]) => [h("dt", k), h("dd", typeof v === "number" ? fmtNum(v) : String(v))])));
  }
  if (found.charts.length) card.append(h("div.charts", found.charts.slice(0, 16)));
  else card.append(h("div.muted", "No numbers to chart in this file."));
  const raw = h("pre.raw", JSON.stringify(result.data, null, 2));
  raw.hidden = true;
  const toggle = h("button.ghost.small", { onclick: () => { raw.hidden = !raw.hidden; toggle.textContent = raw.hidden ? "Show JSON" : "Hide JSON"; } }, "Show JSON");
  card.append(h("div.row", toggle), raw);
  return card;
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);

function numberMap(obj) {
  const entries = Object.entries(obj).filter(([, v]) => isNum(v));
  return entries.length >= 2 && entries.length >= Object.keys(obj).length / 2 ? entries : null;
}

function walk(value, path, found, depth) {
  if (depth > 5) return;
  const title = path.join(" › ") || "results";
  if (Array.isArray(value)) {
    const rows = value.filter(isObj);
    if (rows.length >= 1 && rows.length <= 80 && rows.length === value.length) {
      const numeric = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => isNum(r[k]))))];
      const labelKey = LABEL_KEYS.find((k) => rows.every((r) => r[k] !== undefined && !isObj(r[k]))) ||
        Object.keys(rows[0]).find((k) => rows.every((r) => typeof r[k] === "string"));
      if (numeric.length && rows.length > 1) {
        for (const key of numeric.filter((k) => k !== labelKey).slice(0, 6)) {
          found.charts.push(barChart(`${title} · ${key}`, rows.map((r, i) => [labelKey ? String(r[labelKey]) : `#${i + 1}`, r[key]])));
        }
        return;
      }
      rows.forEach((r, i) => walk(r, [...path, labelKey ? String(r[labelKey]) : `#${i + 1}`], found, depth + 1));
    }
    return;
  }
  if (!isObj(value)) return;
  // A map of number maps with shared keys: systems (or configurations) side by side.
  const inner = Object.entries(value).filter(([, v]) => isObj(v) && numberMap(v));
  let grouped = new Set();
  if (inner.length >= 2) {
    const keys = [...new Set(inner.flatMap(([, v]) => numberMap(v).map(([k]) => k)))];
    const shared = keys.filter((k) => inner.filter(([, v]) => isNum(v[k])).length >= 2);
    if (shared.length) {
      found.charts.push(groupedChart(title, inner.map(([name]) => name), shared.slice(0, 12), (s, k) => value[s][k]));
      grouped = new Set(inner.map(([name]) => name));
    }
  }
  const direct = numberMap(value);
  if (direct && depth > 0) found.charts.push(barChart(title, direct));
  for (const [key, v] of Object.entries(value)) {
    if (depth === 0 && !isObj(v) && !Array.isArray(v) && v !== null) found.facts.push([key, v]);
    else if (depth > 0 && !direct && (isNum(v) || typeof v === "string") && found.facts.length < 24) found.facts.push([`${title} › ${key}`, v]);
    if (grouped.has(key)) continue;
    if (isObj(v) || Array.isArray(v)) walk(v, [...path, key], found, depth + 1);
  }
}

function chartFrame(title, height, content, legend) {
  return h("figure.chart", h("figcaption", title), svg("svg", { viewBox: `0 0 520 ${height}`, role: "img", "aria-label": title }, content), legend || null);
}

function barChart(title, entries) {
  entries = entries.slice(0, 30);
  const max = Math.max(...entries.map(([, v]) => Math.abs(v)), 1e-9);
  const row = 24;
  const left = 170;
  const width = 290;
  const parts = [];
  entries.forEach(([label, v], i) => {
    const y = 8 + i * row;
    const w = Math.max(1.5, (Math.abs(v) / max) * width);
    parts.push(
      svg("text", { x: left - 10, y: y + 12, "text-anchor": "end", class: "axis-label" }, clip(label, 26)),
      svg("rect", { x: left, y: y + 3, width: w, height: row - 9, rx: 3, fill: SERIES[0] }, svg("title", {}, `${label}: ${v}`)),
      svg("text", { x: left + w + 6, y: y + 12, class: "value-label" }, fmtNum(v)),
    );
  });
  return chartFrame(title, entries.length * row + 14, parts);
}

function groupedChart(title, series, keys, get) {
  const max = Math.max(...keys.flatMap((k) => series.map((s) => Math.abs(get(s, k)) || 0)), 1e-9);
  const bar = 13;
  const gap = 12;
  const left = 170;
  const width = 290;
  const parts = [];
  let y = 6;
  for (const key of keys) {
    const group = series.length * bar;
    parts.push(svg("text", { x: left - 10, y: y + group / 2 + 4, "text-anchor": "end", class: "axis-label" }, clip(key, 26)));
    series.forEach((s, i) => {
      const v = get(s, key);
      if (!isNum(v)) return;
      const w = Math.max(1.5, (Math.abs(v) / max) * width);
      parts.push(
        svg("rect", { x: left, y: y + i * bar + 1, width: w, height: bar - 3, rx: 2.5, fill: SERIES[i % SERIES.length] }, svg("title", {}, `${s} · ${key}: ${v}`)),
        svg("text", { x: left + w + 6, y: y + i * bar + bar - 3.5, class: "value-label small" }, fmtNum(v)),
      );
    });
    y += group + gap;
  }
  const legend = h(
    "div.legend",
    series.map((s, i) => {
      const sw = h("span.swatch");
      sw.style.background = SERIES[i % SERIES.length];
      return h("span.legend-item", sw, s);
    }),
  );
  return chartFrame(title, y, parts, legend);
}

function clip(text, n) {
  text = String(text);
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
