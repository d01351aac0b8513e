// The memories view: filters, the list (stale ones flagged), and a reader that edits, supersedes
// and retires. Every change writes the memory's Markdown file through the API.
import { fill, KIND_LABELS, api, debounce, emptyState, fmtAgo, fmtDate, h, kindBadge, kindColor, richText, statusPill, toast } from "./lib.js";

export function renderMemories(root, arg, app) {
  const kinds = (app.status && app.status.memory_kinds) || ["decision", "rule", "preference", "person", "term", "fact", "note"];
  const state = { kind: "", status: "active", stale: false, q: "", selected: arg || null, list: [] };

  const search = h("input.search#memory-search", { type: "search", placeholder: "Search memories…" });
  const kindNav = h("div.filter-list#memory-kinds");
  const statusNav = h("div.segmented#memory-status");
  const staleToggle = h("input#memory-stale", { type: "checkbox" });
  const problems = h("div.problems");
  const list = h("div.memory-list#memory-list");
  const reader = h("section.reader#memory-reader");
  const counter = h("div.list-head");

  root.append(
    h(
      "aside.sidebar",
      h("div.side-block", search),
      h("div.side-block", h("div.side-title", "Status"), statusNav, h("label.check", staleToggle, " Only stale ones")),
      h("div.side-block", h("div.side-title", "Kind"), kindNav),
      problems,
    ),
    h("section.list-col", counter, list),
    reader,
  );

  for (const [value, label] of [["active", "Active"], ["superseded", "Superseded"], ["retired", "Retired"], ["all", "All"]]) {
    const b = h("button", { dataset: { status: value } }, label);
    b.addEventListener("click", () => {
      state.status = value;
      load();
    });
    statusNav.append(b);
  }
  staleToggle.addEventListener("change", () => {
    state.stale = staleToggle.checked;
    load();
  });
  search.addEventListener(
    "input",
    debounce(() => {
      state.q = search.value.trim();
      load();
    }, 160),
  );

  function drawKinds(counts) {
    fill(kindNav, 
      ...["", ...kinds].map((kind) => {
        const swatch = h("span.swatch");
        swatch.style.background = kind ? kindColor(kind) : "transparent";
        const b = h(
          "button.filter",
          { dataset: { kind }, onclick: () => { state.kind = kind; load(); } },
          swatch,
          h("span", kind ? KIND_LABELS[kind] || kind : "All kinds"),
          counts && kind in counts ? h("span.count", String(counts[kind])) : null,
        );
        b.classList.toggle("active", state.kind === kind);
        return b;
      }),
    );
    for (const b of statusNav.children) b.classList.toggle("active", b.dataset.status === state.status);
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const params = new URLSearchParams({ status: state.status });
    if (state.kind) params.set("kind", state.kind);
    if (state.q) params.set("q", state.q);
    if (state.stale) params.set("stale", "1");
    try {
      const data = await api(`/api/memories?${params}`);
      if (mine !== seq) return;
      state.list = data.memories;
      const perKind = {};
      for (const m of data.memories) perKind[m.kind] = (perKind[m.kind] || 0) + 1;
      drawKinds(state.kind ? null : perKind);
      fill(counter, 
        h("span", h("strong", data.memories.length.toLocaleString()), ` memor${data.memories.length === 1 ? "y" : "ies"}`),
        data.counts.stale ? h("span.stale-count", `⚠ ${data.counts.stale} stale`) : null,
      );
      fill(problems, 
        ...(data.problems.length
          ? [
              h("div.side-title", "Files that could not be read"),
              ...data.problems.map((p) => h("div.problem", h("code", p.file), h("div", p.problem))),
            ]
          : []),
      );
      drawList();
      if (!state.selected && data.memories.length) open(data.memories[0].id, true);
      else if (!data.memories.length && !state.selected) fill(reader, emptyState("No memory matches", "Change the filters, or record one with `kenning remember`."));
    } catch (err) {
      toast(err.message, "error");
    }
  }

  function drawList() {
    fill(list, 
      ...(state.list.length
        ? state.list.map((m) => {
            const card = h(
              "button.memory-card",
              { dataset: { id: m.id }, onclick: () => { location.hash = `#/memories/${encodeURIComponent(m.id)}`; } },
              h(
                "div.card-top",
                kindBadge(m.kind),
                m.status !== "active" ? statusPill(m.status) : null,
                m.stale.length ? h("span.pill.stale", { title: m.stale.join("\n") }, "⚠ stale") : null,
                h("span.card-date", fmtAgo(m.updated)),
              ),
              h("div.card-title", m.title),
              m.excerpt ? h("div.card-excerpt", inline(m.excerpt)) : null,
              h("div.card-meta", `by ${m.source}`, m.tags.length ? h("span.tags", m.tags.map((t) => h("span.tag", t))) : null),
            );
            card.classList.toggle("selected", m.id === state.selected);
            card.classList.toggle("inactive", m.status !== "active");
            return card;
          })
        : [emptyState("No memory matches", "Change the filters above.")]),
    );
  }

  async function open(id, quiet = false) {
    state.selected = id;
    for (const card of list.querySelectorAll(".memory-card")) card.classList.toggle("selected", card.dataset.id === id);
    try {
      const memory = await api(`/api/memories/${encodeURIComponent(id)}`);
      if (state.selected !== id) return;
      showReader(memory);
    } catch (err) {
      if (!quiet) toast(err.message, "error");
      fill(reader, emptyState("Cannot open this memory", err.message));
    }
  }

  // ---- the reader -------------------------------------------------------------------------
  function showReader(m) {
    const provenance = h(
      "div.provenance#memory-provenance",
      h("span", "recorded by ", h("strong", m.source)),
      h("span", ` · created ${fmtDate(m.created)}`),
      m.updated !== m.created ? h("span", ` · updated ${fmtDate(m.updated)} (${fmtAgo(m.updated)})`) : null,
      m.personal ? h("span.pill", "personal") : null,
    );
    const chain = [];
    if (m.supersedes) chain.push(h("div.chain", "Supersedes ", memoryLink(m.supersedes)));
    if (m.superseded_by) chain.push(h("div.chain.warn-text", "Superseded by ", memoryLink(m.superseded_by)));
    const rawBox = h("pre.raw", m.raw);
    rawBox.hidden = true;
    const rawToggle = h("button.ghost.small", { onclick: () => { rawBox.hidden = !rawBox.hidden; rawToggle.textContent = rawBox.hidden ? "Show file" : "Hide file"; } }, "Show file");
    const body = h("div.reader-body", m.body ? richText(m.body) : h("p.muted", "(no text beyond the title)"));
    fill(reader, 
      h(
        "div.reader-head",
        h("div.row", kindBadge(m.kind), statusPill(m.status), h("code.mem-id", m.id)),
        h("h2.reader-title#memory-title", m.title),
        provenance,
      ),
      m.stale.length
        ? h("div.banner.stale#memory-stale", h("strong", "This memory may be stale."), h("ul", m.stale.map((reason) => h("li", inline(reason)))), h("div.muted.small", "Update it, supersede it with what holds now, or retire it."))
        : null,
      chain.length ? h("div.chains", chain) : null,
      h(
        "div.row.actions",
        h("button.primary#memory-edit", { onclick: () => showEditor(m, "edit") }, "Edit"),
        m.status === "active" ? h("button#memory-supersede", { onclick: () => showEditor(m, "supersede") }, "Supersede…") : null,
        m.status !== "retired" ? h("button.danger#memory-retire", { onclick: () => retire(m) }, "Retire") : null,
        h("a.button", { href: `#/graph/${encodeURIComponent(`mem:${m.id}`)}` }, "Show in graph"),
      ),
      body,
      facts(m),
      m.relations && m.relations.length
        ? h(
            "div.relations",
            m.relations.map((rel) =>
              h(
                "div.relation",
                h("div.side-title", `${rel.relation} `, h("span.count", String(rel.count))),
                h("div.chips", rel.nodes.map((n) => h("a.chip", { href: `#/graph/${encodeURIComponent(n.id)}`, title: n.id }, dot(n.kind), n.label))),
              ),
            ),
          )
        : null,
      h("div.file-line", h("span.muted", "File "), h("code#memory-file", m.file || "?"), rawToggle),
      rawBox,
    );
  }

  function facts(m) {
    const rows = [];
    if (m.scope.length) rows.push(["Scope", m.scope.map((s) => h("code", s))]);
    if (m.tags.length) rows.push(["Tags", m.tags.map((t) => h("span.tag", t))]);
    if (m.aliases.length) rows.push(["Aliases", m.aliases.join(", ")]);
    if (!rows.length) return null;
    return h("dl.facts", rows.map(([k, v]) => [h("dt", k), h("dd", v)]));
  }

  function memoryLink(id) {
    return h("a", { href: `#/memories/${encodeURIComponent(id)}` }, h("code", id));
  }

  function showEditor(m, mode) {
    const superseding = mode === "supersede";
    const title = h("input#edit-title", { type: "text", value: m.title, maxLength: 300 });
    const body = h("textarea#edit-body", { rows: 14, spellcheck: true });
    body.value = m.body;
    const tags = h("input#edit-tags", { type: "text", value: m.tags.join(", "), placeholder: "comma, separated" });
    const scope = h("input#edit-scope", { type: "text", value: m.scope.join(", "), placeholder: "src/payments/**" });
    const aliases = h("input#edit-aliases", { type: "text", value: m.aliases.join(", ") });
    const status = h("select#edit-status", ["active", "superseded", "retired"].map((s) => h("option", { value: s, selected: s === m.status }, s)));
    const save = h("button.primary#edit-save", superseding ? "Record the new memory" : "Save to file");
    const cancel = h("button.ghost", { onclick: () => showReader(m) }, "Cancel");
    save.addEventListener("click", async () => {
      save.disabled = true;
      const payload = {
        title: title.value,
        body: body.value,
        tags: tags.value,
        scope: scope.value,
        aliases: aliases.value,
        version: m.version,
      };
      try {
        if (superseding) {
          const result = await api(`/api/memories/${encodeURIComponent(m.id)}/supersede`, { method: "POST", body: payload });
          toast(`Recorded ${result.memory.id}; ${m.id} is superseded`);
          location.hash = `#/memories/${encodeURIComponent(result.memory.id)}`;
          load();
        } else {
          payload.status = status.value;
          const updated = await api(`/api/memories/${encodeURIComponent(m.id)}`, { method: "PATCH", body: payload });
          toast(`Saved ${updated.file}`);
          showReader(updated);
          load();
        }
      } catch (err) {
        toast(err.message, "error");
        save.disabled = false;
      }
    });
    fill(reader, 
      h(
        "div.reader-head",
        h("div.row", kindBadge(m.kind), h("code.mem-id", m.id)),
        h("h2.reader-title", superseding ? "Supersede with a new memory" : "Edit memory"),
        h("div.muted", superseding ? `The new ${m.kind} replaces this one, which stays on disk marked superseded.` : `Saving rewrites ${m.file}.`),
      ),
      h(
        "div.form#memory-form",
        h("label", "Title", title),
        h("label", "Text (Markdown)", body),
        h("div.form-row", h("label", "Tags", tags), h("label", "Scope (path globs)", scope)),
        h("div.form-row", h("label", "Aliases", aliases), superseding ? null : h("label", "Status", status)),
        h("div.row.actions", save, cancel),
      ),
    );
    (superseding ? body : title).focus();
  }

  async function retire(m) {
    if (!window.confirm(`Retire “${m.title}”? Its file stays, marked retired, and packets stop using it.`)) return;
    try {
      const updated = await api(`/api/memories/${encodeURIComponent(m.id)}/retire`, { method: "POST", body: { version: m.version } });
      toast(`Retired ${m.id}`);
      showReader(updated);
      load();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  drawKinds(null);
  load().then(() => state.selected && open(state.selected));
  return {
    update(newArg) {
      if (newArg) open(newArg);
    },
  };
}

function dot(kind) {
  const el = h("span.dot");
  el.style.background = kindColor(kind);
  return el;
}

function inline(text) {
  return text.split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1 ? h("code", part.slice(1, -1)) : part));
}
