// The shell: the top bar, the hash router (#/graph, #/memories/<id>, #/inspector, #/bench)
// and the project status line.
import { fill, api, fmtAgo, h, toast } from "./lib.js";
import { renderGraph } from "./graph.js";
import { renderMemories } from "./memories.js";
import { renderInspector } from "./inspector.js";
import { renderBench } from "./bench.js";

const VIEWS = [
  { name: "graph", label: "Graph", render: renderGraph },
  { name: "memories", label: "Memories", render: renderMemories },
  { name: "inspector", label: "Packet inspector", render: renderInspector },
  { name: "bench", label: "Benchmarks", render: renderBench },
];

export const app = { status: null };

function route() {
  const hash = location.hash.replace(/^#\/?/, "").split("?")[0];
  const [name, ...rest] = hash.split("/");
  const view = VIEWS.find((v) => v.name === name) || VIEWS[0];
  return { view, arg: decodeURIComponent(rest.join("/")) };
}

let current = null;

async function show() {
  const { view, arg } = route();
  for (const link of document.querySelectorAll(".nav a")) {
    link.classList.toggle("active", link.dataset.view === view.name);
  }
  const main = document.getElementById("view");
  if (current && current.view === view.name && current.update) {
    current.update(arg);
    return;
  }
  if (current && current.destroy) current.destroy();
  fill(main);
  main.className = `view view-${view.name}`;
  document.title = `${view.label} · kenning`;
  current = { view: view.name, ...(view.render(main, arg, app) || {}) };
}

async function loadStatus() {
  const line = document.getElementById("status-line");
  try {
    app.status = await api("/api/status");
    const total = Object.values(app.status.nodes).reduce((a, b) => a + b, 0);
    fill(line, 
      h("span.project", app.status.project),
      h("span.muted", ` · ${total.toLocaleString()} nodes · ${app.status.edges.toLocaleString()} edges`),
      app.status.indexed_at ? h("span.muted", ` · indexed ${fmtAgo(app.status.indexed_at)}`) : null,
    );
    line.title = app.status.root;
  } catch (err) {
    line.textContent = err.message;
  }
  return app.status;
}

async function reindex(button) {
  button.disabled = true;
  button.classList.add("busy");
  try {
    await api("/api/index", { method: "POST" });
    await loadStatus();
    toast("Index is up to date");
    window.dispatchEvent(new CustomEvent("kenning:reindexed"));
  } catch (err) {
    toast(err.message, "error");
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
  }
}

function header() {
  const button = h("button.ghost#reindex", { title: "Re-read changed files into the index" }, "↻ Reindex");
  button.addEventListener("click", () => reindex(button));
  return h(
    "header.topbar",
    h("a.brand", { href: "#/graph" }, h("span.logo", "k"), h("span", "kenning")),
    h(
      "nav.nav",
      VIEWS.map((v) => h("a", { href: `#/${v.name}`, dataset: { view: v.name } }, v.label)),
    ),
    h("div.status#status-line", "…"),
    button,
  );
}

document.body.prepend(header());
window.addEventListener("hashchange", () => app.ready && show());
loadStatus().then(() => {
  app.ready = true;
  show();
});
