// The graph view: a force-directed layout drawn on a canvas (no library), a sidebar of filters and
// search, and a panel with the selected node's relations. The server sends a capped subgraph (an
// overview or one node's neighbourhood), so the page never holds the whole project.
import { fill, KIND_COLORS, KIND_LABELS, api, debounce, emptyState, h, kindBadge, kindColor, statusPill, toast } from "./lib.js";

const EDGE_COLORS = {
  import: "#6b7a99",
  contains: "#3b4a6b",
  mention: "#a78bfa",
  supersedes: "#f87171",
  cochange: "#38bdf8",
  defines: "#fbbf24",
};
const EDGE_LABELS = {
  import: "imports",
  contains: "contains",
  mention: "mentions",
  supersedes: "supersedes",
  cochange: "changes with",
  defines: "defines",
};
const MEMORY_KINDS = new Set(["decision", "rule", "preference", "person", "term", "fact", "note"]);

export function renderGraph(root, arg, app) {
  const kindsAll = (app.status && app.status.node_kinds) || Object.keys(KIND_COLORS);
  const counts = (app.status && app.status.nodes) || {};
  const state = {
    kinds: new Set(kindsAll),
    edgeKinds: new Set(Object.keys(EDGE_COLORS)),
    focus: arg || null,
    depth: 1,
    limit: 300,
    data: null,
    selected: null,
  };

  // ---- layout ---------------------------------------------------------------------------
  const canvas = h("canvas#graph-canvas", { "aria-label": "knowledge graph" });
  const tooltip = h("div.tooltip");
  const stats = h("div.graph-stats#graph-stats", "Loading…");
  const loading = h("div.loading", h("div.spinner"));
  const stage = h("section.stage", canvas, tooltip, stats, loading, zoomControls());
  const panel = h("aside.panel#graph-panel");
  const searchBox = h("input.search#graph-search", { type: "search", placeholder: "Find a file, symbol, decision, person…", autocomplete: "off" });
  const results = h("div.results#graph-results");
  const depthButtons = h("div.segmented#graph-depth");
  const overviewButton = h("button.ghost.small#graph-overview", "Overview");
  const limitSelect = h(
    "select#graph-limit",
    [100, 300, 600, 1000].map((n) => h("option", { value: String(n), selected: n === state.limit }, `${n} nodes`)),
  );
  const kindList = h("div.kinds#graph-kinds");
  const edgeList = h("div.kinds.edges");

  const sidebar = h(
    "aside.sidebar",
    h("div.side-block", h("div.search-wrap", searchBox, results)),
    h(
      "div.side-block",
      h("div.side-title", "View"),
      h("div.row", overviewButton, limitSelect),
      h("div.side-sub", "Neighbourhood depth"),
      depthButtons,
    ),
    h("div.side-block", h("div.side-title", "Node kinds"), kindList),
    h("div.side-block", h("div.side-title", "Edges"), edgeList),
  );
  root.append(sidebar, stage, panel);

  // ---- sidebar controls -----------------------------------------------------------------
  for (const kind of kindsAll) {
    const box = h("input", { type: "checkbox", checked: true, dataset: { kind } });
    box.addEventListener("change", () => {
      if (box.checked) state.kinds.add(kind);
      else state.kinds.delete(kind);
      load();
    });
    const swatch = h("span.swatch");
    swatch.style.background = kindColor(kind);
    kindList.append(
      h("label.kind", box, swatch, h("span.kind-name", KIND_LABELS[kind] || kind), h("span.count", (counts[kind] || 0).toLocaleString())),
    );
  }
  for (const kind of Object.keys(EDGE_COLORS)) {
    const box = h("input", { type: "checkbox", checked: true });
    box.addEventListener("change", () => {
      if (box.checked) state.edgeKinds.add(kind);
      else state.edgeKinds.delete(kind);
      sim.draw();
    });
    const line = h("span.edge-swatch");
    line.style.background = EDGE_COLORS[kind];
    edgeList.append(h("label.kind", box, line, h("span.kind-name", EDGE_LABELS[kind])));
  }
  for (const depth of [1, 2, 3]) {
    const b = h("button", { dataset: { depth: String(depth) } }, `${depth} hop${depth > 1 ? "s" : ""}`);
    b.addEventListener("click", () => {
      state.depth = depth;
      if (state.focus) load();
      syncControls();
    });
    depthButtons.append(b);
  }
  overviewButton.addEventListener("click", () => {
    location.hash = "#/graph";
  });
  limitSelect.addEventListener("change", () => {
    state.limit = Number(limitSelect.value);
    load();
  });

  const runSearch = debounce(async () => {
    const q = searchBox.value.trim();
    if (!q) {
      fill(results);
      results.classList.remove("open");
      return;
    }
    try {
      const data = await api(`/api/graph/search?${new URLSearchParams({ q, kinds: [...state.kinds].join(","), limit: "12" })}`);
      fill(results, 
        ...(data.results.length
          ? data.results.map((node) =>
              h(
                "button.result",
                { onclick: () => { results.classList.remove("open"); searchBox.value = ""; focusOn(node.id); } },
                dot(node.kind),
                h("span.result-label", node.label),
                h("span.result-title", node.kind === "file" ? node.title : node.kind),
              ),
            )
          : [h("div.result.none", "No node matches")]),
      );
      results.classList.add("open");
    } catch (err) {
      toast(err.message, "error");
    }
  }, 140);
  searchBox.addEventListener("input", runSearch);
  searchBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const first = results.querySelector("button.result");
      if (first) first.click();
    } else if (event.key === "Escape") {
      results.classList.remove("open");
    }
  });

  function syncControls() {
    for (const b of depthButtons.children) {
      b.classList.toggle("active", Number(b.dataset.depth) === state.depth);
      b.disabled = !state.focus;
    }
    overviewButton.disabled = !state.focus;
  }

  function focusOn(id) {
    location.hash = `#/graph/${encodeURIComponent(id)}`;
  }

  // ---- data -----------------------------------------------------------------------------
  let requestSeq = 0;
  async function load() {
    const seq = ++requestSeq;
    loading.classList.add("show");
    syncControls();
    const params = new URLSearchParams({ kinds: [...state.kinds].join(","), limit: String(state.limit) });
    if (state.focus) {
      params.set("focus", state.focus);
      params.set("depth", String(state.depth));
    }
    try {
      const data = await api(`/api/graph?${params}`);
      if (seq !== requestSeq) return;
      state.data = data;
      sim.setData(data.nodes, data.edges, data.focus);
      const shown = data.nodes.length;
      fill(stats, 
        h("strong", shown.toLocaleString()),
        ` of ${data.total.toLocaleString()} nodes · ${data.edges.length.toLocaleString()} edges`,
        data.focus ? h("span.muted", ` · around ${labelOf(data.focus)}`) : h("span.muted", " · best connected first"),
        data.truncated ? h("span.warn", " · capped") : null,
      );
      canvas.dataset.nodes = String(shown);
      if (data.focus) select(data.focus);
      else if (!state.selected) showOverviewPanel();
    } catch (err) {
      stats.textContent = err.message;
      toast(err.message, "error");
      if (err.status === 404 && state.focus) location.hash = "#/graph";
    } finally {
      if (seq === requestSeq) loading.classList.remove("show");
    }
  }

  function labelOf(id) {
    const node = state.data && state.data.nodes.find((n) => n.id === id);
    return node ? node.label : id;
  }

  // ---- the side panel -------------------------------------------------------------------
  function showOverviewPanel() {
    const nodes = state.data ? [...state.data.nodes] : [];
    nodes.sort((a, b) => b.degree - a.degree);
    fill(panel, 
      h("div.panel-hint", "Click a node to see what it connects to; double-click to explore its neighbourhood. Drag to pan, scroll to zoom."),
      h("div.side-title", "Most connected in view"),
      nodes.length
        ? h("ul.node-list#graph-top", nodes.slice(0, 18).map((n) => nodeRow(n)))
        : emptyState("Nothing to show", "No node of the chosen kinds is in the index yet."),
    );
  }

  function nodeRow(node, onClick) {
    return h(
      "li",
      h(
        "button.node-row",
        { title: node.title, onclick: onClick || (() => select(node.id)), ondblclick: () => focusOn(node.id) },
        dot(node.kind),
        h("span.node-label", node.label),
        node.degree !== undefined ? h("span.count", String(node.degree)) : null,
      ),
    );
  }

  async function select(id) {
    state.selected = id;
    sim.selected = id;
    sim.draw();
    if (!id) {
      showOverviewPanel();
      return;
    }
    try {
      const node = await api(`/api/graph/node?${new URLSearchParams({ id })}`);
      if (state.selected !== id) return;
      const memoryId = id.startsWith("mem:") && !id.slice(4).includes(":") ? id.slice(4) : null;
      fill(panel, 
        h(
          "div.node-head",
          h("div.row", kindBadge(node.kind), node.status ? statusPill(node.status) : null, h("span.muted.small", `${node.degree} links`)),
          h("h2.node-title#graph-selected", node.label),
          node.title !== node.label ? h("div.node-sub", node.title) : null,
        ),
        h(
          "div.row.actions",
          state.focus === id ? null : h("button.primary.small", { onclick: () => focusOn(id) }, "Focus neighbourhood"),
          memoryId ? h("a.button.small", { href: `#/memories/${encodeURIComponent(memoryId)}` }, "Open memory") : null,
          h("a.button.small", { href: `#/inspector?q=${encodeURIComponent(briefText(node))}` }, "Brief on it"),
        ),
        ...node.relations.map((rel) =>
          h(
            "div.relation",
            h("div.side-title", `${rel.relation} `, h("span.count", String(rel.count))),
            h("ul.node-list", rel.nodes.map((n) => nodeRow(n, () => (sim.has(n.id) ? select(n.id) : focusOn(n.id))))),
            rel.count > rel.nodes.length ? h("div.muted.small", `… and ${rel.count - rel.nodes.length} more`) : null,
          ),
        ),
        node.relations.length ? null : h("div.muted", "No links: nothing in the index refers to this node."),
      );
    } catch (err) {
      toast(err.message, "error");
    }
  }

  function briefText(node) {
    if (node.kind === "file") return `explain ${node.title}`;
    if (node.kind === "symbol") return `explain ${node.label}`;
    return node.title;
  }

  // ---- zoom buttons ---------------------------------------------------------------------
  function zoomControls() {
    return h(
      "div.zoom",
      h("button", { title: "Zoom in", onclick: () => sim.zoomBy(1.3) }, "+"),
      h("button", { title: "Zoom out", onclick: () => sim.zoomBy(1 / 1.3) }, "−"),
      h("button", { title: "Fit to view", onclick: () => sim.fit(true) }, "⤢"),
    );
  }

  const sim = new Simulation(canvas, tooltip, state, {
    select: (id) => select(id),
    focus: (id) => focusOn(id),
  });

  const onReindex = () => load();
  window.addEventListener("kenning:reindexed", onReindex);
  syncControls();
  load();

  return {
    update(newArg) {
      state.focus = newArg || null;
      if (!state.focus) state.selected = null;
      load();
    },
    destroy() {
      sim.stop();
      window.removeEventListener("kenning:reindexed", onReindex);
    },
  };
}

function dot(kind) {
  const el = h("span.dot");
  el.style.background = kindColor(kind);
  return el;
}

// ---- the layout and the drawing -----------------------------------------------------------

class Simulation {
  constructor(canvas, tooltip, state, handlers) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.tooltip = tooltip;
    this.state = state;
    this.handlers = handlers;
    this.nodes = [];
    this.edges = [];
    this.byId = new Map();
    this.neighbours = new Map();
    this.hubs = new Set();
    this.view = { x: 0, y: 0, k: 1 };
    this.alpha = 0;
    this.hover = null;
    this.selected = null;
    this.focus = null;
    this.userMoved = false;
    this.frame = null;
    this.running = true;
    this.resize = this.resize.bind(this);
    this.loop = this.loop.bind(this);
    this.observer = new ResizeObserver(this.resize);
    this.observer.observe(canvas.parentElement);
    this.bindPointer();
    this.resize();
  }

  has(id) {
    return this.byId.has(id);
  }

  stop() {
    this.running = false;
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
  }

  resize() {
    const rect = this.canvas.parentElement.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = Math.max(200, rect.width);
    this.height = Math.max(200, rect.height);
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.ratio = ratio;
    this.draw();
  }

  setData(nodes, edges, focus) {
    const old = this.byId;
    this.byId = new Map();
    this.focus = focus;
    this.nodes = nodes.map((n, i) => {
      const prev = old.get(n.id);
      const angle = i * 2.399963; // golden angle: an even spiral of starting points
      const radius = 12 * Math.sqrt(i + 1);
      const node = {
        ...n,
        x: prev ? prev.x : Math.cos(angle) * radius,
        y: prev ? prev.y : Math.sin(angle) * radius,
        vx: 0,
        vy: 0,
        r: radiusOf(n),
        links: 0,
      };
      if (n.id === focus) {
        node.x = 0;
        node.y = 0;
      }
      this.byId.set(n.id, node);
      return node;
    });
    this.edges = edges
      .map((e) => ({ ...e, s: this.byId.get(e.source), t: this.byId.get(e.target) }))
      .filter((e) => e.s && e.t);
    this.neighbours = new Map(this.nodes.map((n) => [n.id, new Set()]));
    for (const e of this.edges) {
      e.s.links += 1;
      e.t.links += 1;
      this.neighbours.get(e.s.id).add(e.t.id);
      this.neighbours.get(e.t.id).add(e.s.id);
    }
    // New nodes start beside a neighbour that kept its place, so a refocus does not scatter.
    for (const node of this.nodes) {
      if (old.has(node.id)) continue;
      for (const other of this.neighbours.get(node.id)) {
        const anchor = old.has(other) ? this.byId.get(other) : null;
        if (anchor) {
          node.x = anchor.x + (Math.random() - 0.5) * 40;
          node.y = anchor.y + (Math.random() - 0.5) * 40;
          break;
        }
      }
    }
    // The best-connected nodes keep their labels at any zoom (collisions permitting).
    this.hubs = new Set([...this.nodes].sort((a, b) => b.degree - a.degree).slice(0, 16).map((n) => n.id));
    this.userMoved = false;
    this.canvas.dataset.settled = "0";
    this.alpha = 1;
    this.ticks = 0;
    this.kick();
  }

  kick() {
    if (!this.frame && this.running) this.frame = requestAnimationFrame(this.loop);
  }

  loop() {
    this.frame = null;
    if (!this.running) return;
    const steps = this.nodes.length > 600 ? 1 : this.nodes.length > 250 ? 2 : 4;
    for (let i = 0; i < steps && this.alpha > 0.004; i++) this.tick();
    if (!this.userMoved && this.ticks < 400) this.fit(false);
    this.draw();
    // Tests and screenshots wait for this: the layout has (nearly) stopped moving.
    this.canvas.dataset.settled = this.alpha < 0.05 ? "1" : "0";
    if (this.alpha > 0.004 || this.dragging) this.kick();
  }

  tick() {
    const nodes = this.nodes;
    const n = nodes.length;
    const alpha = this.alpha;
    const charge = -260 * alpha;
    // Repulsion between every pair (the server caps the count, so n² stays small).
    for (let i = 0; i < n; i++) {
      const a = nodes[i];
      for (let j = i + 1; j < n; j++) {
        const b = nodes[j];
        let dx = b.x - a.x;
        let dy = b.y - a.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 1) {
          dx = Math.random() - 0.5;
          dy = Math.random() - 0.5;
          d2 = 1;
        }
        if (d2 > 250000) continue;
        const f = charge / d2;
        const fx = dx * f;
        const fy = dy * f;
        a.vx += fx;
        a.vy += fy;
        b.vx -= fx;
        b.vy -= fy;
      }
    }
    // Springs along edges, weaker at busy nodes so hubs do not collapse their neighbours.
    for (const e of this.edges) {
      const dx = e.t.x - e.s.x;
      const dy = e.t.y - e.s.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 1;
      const rest = 34 + e.s.r + e.t.r + (e.kind === "contains" ? 0 : 18);
      const k = ((d - rest) / d) * alpha * 0.5;
      const bs = e.t.links / (e.s.links + e.t.links);
      e.t.vx -= dx * k * (1 - bs);
      e.t.vy -= dy * k * (1 - bs);
      e.s.vx += dx * k * bs;
      e.s.vy += dy * k * bs;
    }
    for (const node of nodes) {
      node.vx -= node.x * 0.035 * alpha;
      node.vy -= node.y * 0.035 * alpha;
      if (node === this.dragging || (node.id === this.focus && !this.dragging)) {
        if (node.id === this.focus && node !== this.dragging) {
          node.x = 0;
          node.y = 0;
        }
        node.vx = 0;
        node.vy = 0;
        continue;
      }
      node.vx *= 0.55;
      node.vy *= 0.55;
      node.x += node.vx;
      node.y += node.vy;
    }
    this.alpha *= 0.985;
    this.ticks += 1;
  }

  fit(animate) {
    if (!this.nodes.length) return;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const node of this.nodes) {
      minX = Math.min(minX, node.x - node.r);
      minY = Math.min(minY, node.y - node.r);
      maxX = Math.max(maxX, node.x + node.r);
      maxY = Math.max(maxY, node.y + node.r);
    }
    const pad = 60;
    const k = Math.min(2.2, Math.min((this.width - pad * 2) / (maxX - minX || 1), (this.height - pad * 2) / (maxY - minY || 1)));
    const target = { k, x: this.width / 2 - ((minX + maxX) / 2) * k, y: this.height / 2 - ((minY + maxY) / 2) * k };
    const blend = animate ? 1 : 0.18;
    this.view.k += (target.k - this.view.k) * blend;
    this.view.x += (target.x - this.view.x) * blend;
    this.view.y += (target.y - this.view.y) * blend;
    if (animate) {
      this.userMoved = true;
      this.draw();
    }
  }

  zoomBy(factor, cx = this.width / 2, cy = this.height / 2) {
    const k = Math.max(0.08, Math.min(8, this.view.k * factor));
    const f = k / this.view.k;
    this.view.x = cx - (cx - this.view.x) * f;
    this.view.y = cy - (cy - this.view.y) * f;
    this.view.k = k;
    this.userMoved = true;
    this.draw();
  }

  toWorld(px, py) {
    return { x: (px - this.view.x) / this.view.k, y: (py - this.view.y) / this.view.k };
  }

  nodeAt(px, py) {
    const p = this.toWorld(px, py);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const r = node.r + 4 / this.view.k;
      const dx = node.x - p.x;
      const dy = node.y - p.y;
      if (dx * dx + dy * dy <= r * r) return node;
    }
    return null;
  }

  bindPointer() {
    const canvas = this.canvas;
    let down = null;
    const local = (event) => {
      const rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    };
    canvas.addEventListener("pointerdown", (event) => {
      const p = local(event);
      const node = this.nodeAt(p.x, p.y);
      down = { ...p, node, view: { ...this.view }, moved: false };
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      const p = local(event);
      if (down) {
        const dx = p.x - down.x;
        const dy = p.y - down.y;
        if (!down.moved && dx * dx + dy * dy < 16) return;
        down.moved = true;
        this.userMoved = true;
        if (down.node) {
          this.dragging = down.node;
          const w = this.toWorld(p.x, p.y);
          down.node.x = w.x;
          down.node.y = w.y;
          this.alpha = Math.max(this.alpha, 0.25);
          this.kick();
        } else {
          this.view.x = down.view.x + dx;
          this.view.y = down.view.y + dy;
          this.draw();
        }
        return;
      }
      const node = this.nodeAt(p.x, p.y);
      if (node !== this.hover) {
        this.hover = node;
        canvas.style.cursor = node ? "pointer" : "grab";
        this.draw();
      }
      if (node) {
        fill(this.tooltip, h("strong", node.label), h("div", node.title), h("div.muted", `${node.kind} · ${node.degree} links`));
        this.tooltip.style.left = `${p.x + 14}px`;
        this.tooltip.style.top = `${p.y + 14}px`;
        this.tooltip.classList.add("show");
      } else {
        this.tooltip.classList.remove("show");
      }
    });
    canvas.addEventListener("pointerup", () => {
      if (down && !down.moved) this.handlers.select(down.node ? down.node.id : null);
      this.dragging = null;
      down = null;
    });
    canvas.addEventListener("pointerleave", () => {
      this.hover = null;
      this.tooltip.classList.remove("show");
      this.draw();
    });
    canvas.addEventListener("dblclick", (event) => {
      const p = local(event);
      const node = this.nodeAt(p.x, p.y);
      if (node) this.handlers.focus(node.id);
    });
    canvas.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const p = local(event);
        this.zoomBy(Math.exp(-event.deltaY * 0.0015), p.x, p.y);
      },
      { passive: false },
    );
  }

  draw() {
    const ctx = this.ctx;
    if (!ctx) return;
    const { x, y, k } = this.view;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.translate(x, y);
    ctx.scale(k, k);
    const lit = this.hover || (this.selected && this.byId.get(this.selected)) || null;
    const near = lit ? this.neighbours.get(lit.id) || new Set() : null;
    const edgeKinds = this.state.edgeKinds;

    ctx.lineCap = "round";
    for (const e of this.edges) {
      if (!edgeKinds.has(e.kind)) continue;
      const on = lit && (e.s === lit || e.t === lit);
      ctx.globalAlpha = lit ? (on ? 0.95 : 0.06) : 0.32;
      ctx.strokeStyle = EDGE_COLORS[e.kind] || "#475569";
      ctx.lineWidth = (on ? 1.8 : 1) / Math.sqrt(k);
      if (e.kind === "supersedes") ctx.setLineDash([4 / k, 3 / k]);
      ctx.beginPath();
      ctx.moveTo(e.s.x, e.s.y);
      ctx.lineTo(e.t.x, e.t.y);
      ctx.stroke();
      if (e.kind === "supersedes") ctx.setLineDash([]);
    }
    for (const node of this.nodes) {
      const dim = lit && node !== lit && !near.has(node.id);
      const inactive = node.status && node.status !== "active";
      ctx.globalAlpha = dim ? 0.18 : inactive ? 0.55 : 1;
      ctx.beginPath();
      ctx.arc(node.x, node.y, node.r, 0, Math.PI * 2);
      const color = kindColor(node.kind);
      if (inactive) {
        ctx.fillStyle = "#0b1020";
        ctx.fill();
        ctx.lineWidth = 1.6 / k;
        ctx.strokeStyle = color;
        ctx.stroke();
      } else {
        ctx.fillStyle = color;
        ctx.fill();
      }
      if (MEMORY_KINDS.has(node.kind) && !inactive) {
        ctx.lineWidth = 1.2 / k;
        ctx.strokeStyle = "rgba(255,255,255,0.55)";
        ctx.stroke();
      }
      if (node.id === this.selected || node.id === this.focus) {
        ctx.globalAlpha = 1;
        ctx.beginPath();
        ctx.arc(node.x, node.y, node.r + 4 / k, 0, Math.PI * 2);
        ctx.lineWidth = 2 / k;
        ctx.strokeStyle = node.id === this.selected ? "#ffffff" : "#7c8cff";
        ctx.stroke();
      }
    }
    // Labels: the lit node and its neighbours, memories and hubs when there is room, all when
    // zoomed in. Drawn in screen pixels so they stay readable at any zoom.
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.font = "500 11.5px Inter, ui-sans-serif, system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    // Candidates by priority; a label that would overlap one already placed is skipped.
    const few = this.nodes.length <= 70;
    const candidates = [];
    for (const node of this.nodes) {
      const isLit = lit && (node === lit || near.has(node.id));
      const pinned = node === lit || node.id === this.focus || node.id === this.selected;
      const show = pinned || isLit || (!lit && (few || k > 1.5 || (MEMORY_KINDS.has(node.kind) && k > 0.7) || this.hubs.has(node.id)));
      if (!show) continue;
      const priority = (pinned ? 1e6 : 0) + (isLit ? 1e4 : 0) + (MEMORY_KINDS.has(node.kind) ? 100 : 0) + node.degree;
      candidates.push({ node, priority, isLit });
    }
    candidates.sort((a, b) => b.priority - a.priority);
    const placed = [];
    for (const { node, isLit, priority } of candidates) {
      const sx = node.x * k + x + node.r * k + 5;
      const sy = node.y * k + y;
      if (sx < -200 || sx > this.width + 20 || sy < -20 || sy > this.height + 20) continue;
      const w = ctx.measureText(node.label).width;
      const box = { x0: sx - 2, x1: sx + w + 2, y0: sy - 8, y1: sy + 8 };
      const clash = placed.some((b) => box.x0 < b.x1 && box.x1 > b.x0 && box.y0 < b.y1 && box.y1 > b.y0);
      if (clash && priority < 1e6) continue;
      placed.push(box);
      ctx.globalAlpha = lit && !isLit ? 0.3 : 1;
      ctx.lineWidth = 3.5;
      ctx.strokeStyle = "rgba(9, 13, 28, 0.92)";
      ctx.strokeText(node.label, sx, sy);
      ctx.fillStyle = node === lit || node.id === this.selected ? "#ffffff" : "#cbd5e1";
      ctx.fillText(node.label, sx, sy);
    }
    ctx.globalAlpha = 1;
  }
}

function radiusOf(node) {
  const base = MEMORY_KINDS.has(node.kind) ? 6.5 : node.kind === "symbol" ? 3.5 : 4.5;
  return base + Math.min(9, Math.sqrt(node.degree || 0) * 0.9);
}
