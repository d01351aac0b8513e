// Small shared helpers: DOM building (text only, never innerHTML with data), the API client,
// formatting, and the colour of each node kind.

export const KIND_COLORS = {
  file: "#7d8aa6",
  symbol: "#38bdf8",
  decision: "#a78bfa",
  rule: "#f87171",
  preference: "#fbbf24",
  person: "#34d399",
  term: "#f472b6",
  fact: "#2dd4bf",
  note: "#cbd5e1",
};

export const KIND_LABELS = {
  file: "Files",
  symbol: "Symbols",
  decision: "Decisions",
  rule: "Rules",
  preference: "Preferences",
  person: "People",
  term: "Terms",
  fact: "Facts",
  note: "Notes",
};

export function kindColor(kind) {
  return KIND_COLORS[kind] || "#94a3b8";
}

// h("div.card#main", {onclick: f, title: "x"}, "text", child, [more])
export function h(spec, attrs, ...children) {
  const [tagAndClasses, id] = spec.split("#");
  const [tag, ...classes] = tagAndClasses.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (id) el.id = id;
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

// Like replaceChildren, but skipping null, undefined and false (which the DOM would print).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

export function kindBadge(kind) {
  const badge = h("span.badge", kind);
  badge.style.setProperty("--kind", kindColor(kind));
  return badge;
}

export function statusPill(status) {
  return h(`span.pill.status-${status}`, status);
}

export function fmtDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function fmtAgo(iso) {
  if (!iso) return "";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return "";
  const steps = [
    [60, "s", 1],
    [3600, "min", 60],
    [86400, "h", 3600],
    [86400 * 45, "d", 86400],
    [86400 * 540, "mo", 86400 * 30],
  ];
  for (const [limit, unit, div] of steps) {
    if (seconds < limit) return `${Math.max(1, Math.round(seconds / div))} ${unit} ago`;
  }
  return `${Math.round(seconds / (86400 * 365))} y ago`;
}

export function fmtNum(value, digits = 2) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString();
  const abs = Math.abs(value);
  return value.toLocaleString(undefined, { maximumFractionDigits: abs >= 100 ? 0 : abs >= 1 ? digits : 3 });
}

// Paragraphs, `code` and **bold** from a memory's Markdown, built as DOM nodes.
export function richText(text) {
  const box = h("div.rich");
  const blocks = String(text || "").split(/\n\s*\n/);
  for (const block of blocks) {
    if (!block.trim()) continue;
    const lines = block.split("\n");
    if (lines.every((l) => /^\s*[-*]\s+/.test(l))) {
      box.append(h("ul", lines.map((l) => h("li", inline(l.replace(/^\s*[-*]\s+/, ""))))));
    } else if (/^#{1,6}\s/.test(block)) {
      box.append(h("h4", inline(block.replace(/^#+\s*/, ""))));
    } else {
      box.append(h("p", inline(block)));
    }
  }
  return box;
}

// `code` and **bold** inside one line of text, as DOM nodes.
export function inline(text) {
  const out = [];
  const parts = text.split(/(`[^`]+`|\*\*[^*]+\*\*)/);
  for (const part of parts) {
    if (!part) continue;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) out.push(h("code", part.slice(1, -1)));
    else if (part.startsWith("**") && part.endsWith("**") && part.length > 3) out.push(h("strong", part.slice(2, -2)));
    else out.push(part);
  }
  return out;
}

let toastTimer = null;
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = message;
  el.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = "toast"), kind === "error" ? 6000 : 2600);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function emptyState(title, detail) {
  return h("div.empty", h("div.empty-title", title), detail ? h("div.empty-detail", detail) : null);
}
