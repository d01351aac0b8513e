// The packet inspector: run one request (or the same request under two budgets or two intents)
// and show everything the engine decided: intent, entities, plan, items with score and why,
// conflicts, tokens and the time each stage took.
import { fill, api, emptyState, fmtNum, h, inline, kindBadge, kindColor, toast } from "./lib.js";

const STAGE_COLORS = ["#7c8cff", "#38bdf8", "#34d399", "#fbbf24", "#f472b6", "#a78bfa", "#f87171", "#2dd4bf"];
const EXAMPLES = [
  "add retries to the webhook sender",
  "why do we keep the ledger in postgres?",
  "fix the rounding bug in VAT on invoices",
  "who owns the dashboard?",
];

export function renderInspector(root, arg, app) {
  const intents = (app.status && app.status.intents) || [];
  const query = new URLSearchParams(location.hash.split("?")[1] || "");

  const request = h("textarea#inspector-request", { rows: 2, placeholder: "Type a request, as you would to your coding assistant…" });
  request.value = query.get("q") || "";
  const budgetA = h("input#inspector-budget", { type: "number", min: 50, max: 64000, step: 250, value: "2000" });
  const intentA = intentSelect("inspector-intent", intents);
  const files = h("input#inspector-files", { type: "text", placeholder: "open files (optional): src/app.py, …" });
  const budgetB = h("input#inspector-budget-b", { type: "number", min: 50, max: 64000, step: 250, value: "800" });
  const intentB = intentSelect("inspector-intent-b", intents);
  const compare = h("input#inspector-compare", { type: "checkbox" });
  const run = h("button.primary#inspector-run", "Build packet");
  const bRow = h("div.config.config-b", h("span.config-tag.b", "B"), field("Budget", budgetB), field("Intent", intentB));
  bRow.hidden = true;
  const out = h("div.packets#inspector-result", intro());

  root.append(
    h(
      "section.ask",
      h("div.ask-row", request, run),
      h(
        "div.config",
        h("span.config-tag.a", "A"),
        field("Budget", budgetA),
        field("Intent", intentA),
        h("label.field.grow", h("span", "Files in play"), files),
        h("label.check.compare", compare, " Compare with B"),
      ),
      bRow,
    ),
    out,
  );

  compare.addEventListener("change", () => {
    bRow.hidden = !compare.checked;
  });
  run.addEventListener("click", go);
  request.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey || !event.shiftKey)) {
      event.preventDefault();
      go();
    }
  });

  function intro() {
    return h(
      "div.intro",
      emptyState("Ask what the engine would hand your model", "Press Enter to build the packet. Tick “Compare” to see two budgets or two intents side by side."),
      h(
        "div.examples",
        EXAMPLES.map((text) =>
          h("button.chip", { onclick: () => { request.value = text; go(); } }, text),
        ),
      ),
    );
  }

  async function go() {
    const text = request.value.trim();
    if (!text) {
      request.focus();
      return;
    }
    run.disabled = true;
    run.classList.add("busy");
    const configs = [{ tag: "A", budget: budgetA.value, intent: intentA.value }];
    if (compare.checked) configs.push({ tag: "B", budget: budgetB.value, intent: intentB.value });
    try {
      const packets = await Promise.all(
        configs.map((c) =>
          api("/api/brief", {
            method: "POST",
            body: { request: text, budget: Number(c.budget) || undefined, intent: c.intent || undefined, files: files.value },
          }),
        ),
      );
      const refs = packets.map((p) => new Set(p.items.map((i) => i.ref)));
      fill(out, 
        ...packets.map((p, i) =>
          packetView(p, configs[i].tag, packets.length > 1 ? refs[1 - i] : null),
        ),
      );
      out.classList.toggle("two", packets.length > 1);
    } catch (err) {
      toast(err.message, "error");
    } finally {
      run.disabled = false;
      run.classList.remove("busy");
    }
  }

  if (request.value) go();
  return {};
}

function intentSelect(id, intents) {
  return h(`select#${id}`, h("option", { value: "" }, "auto (classifier)"), intents.map((i) => h("option", { value: i }, i)));
}

function field(label, input) {
  return h("label.field", h("span", label), input);
}

function packetView(p, tag, otherRefs) {
  const maxScore = Math.max(1e-9, ...p.items.map((i) => i.score));
  const used = p.tokens / Math.max(1, p.budget);
  const mdBox = h("pre.raw", p.markdown);
  mdBox.hidden = true;
  const mdToggle = h(
    "button.ghost.small",
    { onclick: () => { mdBox.hidden = !mdBox.hidden; mdToggle.textContent = mdBox.hidden ? "Markdown" : "Hide Markdown"; } },
    "Markdown",
  );
  const copy = h(
    "button.ghost.small",
    {
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(p.markdown);
          toast("Packet copied as Markdown");
        } catch {
          toast("The browser refused the clipboard", "error");
        }
      },
    },
    "Copy",
  );
  const gauge = h("div.gauge-fill");
  gauge.style.width = `${Math.min(100, used * 100).toFixed(1)}%`;
  gauge.classList.toggle("over", used > 1);

  return h(
    "article.packet",
    { dataset: { tag } },
    h(
      "div.packet-head",
      h(`span.config-tag.${tag.toLowerCase()}`, tag),
      h(
        "div.intent",
        h("span.muted.small", p.forced_intent ? "intent (forced)" : "intent"),
        h("div.intent-name.packet-intent", p.intent),
        confidence(p.confidence),
        p.secondary_intent ? h("div.muted.small", `also ${p.secondary_intent}`) : null,
      ),
      h(
        "div.tokens",
        h("span.muted.small", "tokens"),
        h("div.big.packet-tokens", `${p.tokens.toLocaleString()} `, h("span.muted", `/ ${p.budget.toLocaleString()}`)),
        h("div.gauge", gauge),
      ),
      h("div.elapsed", h("span.muted.small", "time"), h("div.big", `${fmtNum(p.elapsed_ms, 1)} ms`)),
      h("div.head-actions", mdToggle, copy),
    ),
    mdBox,
    timingBar(p.timings || {}),
    p.notes && p.notes.length ? h("div.notes", p.notes.map((n) => h("div.note", n))) : null,
    section(
      "Linked entities",
      p.entities.length
        ? h(
            "div.chips",
            p.entities.map((e) =>
              h("span.chip", { title: e.node }, h("span.entity-span", `“${e.span}”`), " → ", h("span", labelOfNode(e.node)), h("span.muted", ` ${e.type}${e.strong ? "" : " (weak)"}`)),
            ),
          )
        : h("div.muted", "No entity of the project is named in this request."),
    ),
    section("Plan", planView(p.plan)),
    p.conflicts.length
      ? section(
          `Conflicts (${p.conflicts.length})`,
          h(
            "div.conflicts.packet-conflicts",
            p.conflicts.map((c) =>
              h(
                "div.conflict",
                h("div.row", kindBadge(c.kind || "decision"), h("strong", c.title), c.date ? h("span.muted.small", c.date) : null),
                h("div", inline(c.reason)),
                h("code.small", c.ref),
              ),
            ),
          ),
        )
      : null,
    section(
      `Items (${p.items.length})`,
      p.items.length
        ? h("ol.items.packet-items", p.items.map((item) => itemView(item, maxScore, otherRefs)))
        : h("div.muted", "Nothing in the index matched."),
    ),
  );
}

function confidence(value) {
  const bar = h("div.conf-fill");
  bar.style.width = `${Math.round((value || 0) * 100)}%`;
  return h("div.conf", { title: `confidence ${fmtNum(value, 2)}` }, h("div.conf-bar", bar), h("span.small.muted", `${Math.round((value || 0) * 100)}%`));
}

function timingBar(timings) {
  const stages = Object.entries(timings).filter(([name]) => !name.includes("."));
  const subs = Object.entries(timings).filter(([name]) => name.includes("."));
  const total = stages.reduce((sum, [, ms]) => sum + ms, 0) || 1;
  const bar = h("div.stack.packet-timings");
  const legend = h("div.legend");
  stages.forEach(([name, ms], i) => {
    const seg = h("div.seg", { title: `${name}: ${fmtNum(ms, 2)} ms` });
    seg.style.width = `${(ms / total) * 100}%`;
    seg.style.background = STAGE_COLORS[i % STAGE_COLORS.length];
    bar.append(seg);
    const swatch = h("span.swatch");
    swatch.style.background = STAGE_COLORS[i % STAGE_COLORS.length];
    legend.append(h("span.legend-item", swatch, `${name} `, h("strong", `${fmtNum(ms, 2)} ms`)));
  });
  return section(
    "Stages",
    stages.length ? [bar, legend, subs.length ? h("div.subtimings.muted.small", subs.map(([n, ms]) => `${n} ${fmtNum(ms, 2)} ms`).join(" · ")) : null] : h("div.muted", "No timings reported."),
  );
}

function planView(plan) {
  if (!plan || !Object.keys(plan).length) return h("div.muted", "No plan reported.");
  const { name, quotas, ...rest } = plan;
  return h(
    "div.plan",
    name ? h("div.plan-name", name) : null,
    quotas ? h("div.chips", Object.entries(quotas).map(([k, v]) => h("span.chip.quota", h("strong", String(v)), ` ${k}`))) : null,
    h(
      "div.plan-rest.muted.small",
      Object.entries(rest)
        .map(([k, v]) => `${k.replaceAll("_", " ")} ${typeof v === "object" ? JSON.stringify(v) : fmtNum(v)}`)
        .join(" · "),
    ),
  );
}

function itemView(item, maxScore, otherRefs) {
  const text = h("pre.item-text", item.text);
  text.hidden = true;
  const bar = h("div.score-fill");
  bar.style.width = `${Math.max(2, (item.score / maxScore) * 100)}%`;
  bar.style.background = kindColor(item.kind);
  const only = otherRefs && !otherRefs.has(item.ref);
  const li = h(
    "li.item",
    h(
      "button.item-head",
      { onclick: () => { text.hidden = !text.hidden; li.classList.toggle("open", !text.hidden); } },
      kindBadge(item.kind),
      h("span.item-title", item.title),
      only ? h("span.pill.only", "only here") : null,
      item.status && item.status !== "active" ? h("span.pill", item.status) : null,
      h("span.item-tokens", `${item.tokens} tok`),
      h("span.score", { title: `score ${item.score}` }, h("span.score-bar", bar), h("span.score-num", fmtNum(item.score, 3))),
    ),
    h("div.item-sub", h("code.item-ref", item.ref), h("span.why", inline(item.why))),
    text,
  );
  if (only) li.classList.add("unique");
  return li;
}

function section(title, ...content) {
  return h("div.psection", h("div.side-title", title), ...content);
}

function labelOfNode(node) {
  const raw = node.replace(/^(file|sym|mem):/, "");
  return raw.includes("::") ? raw.split("::")[1] : raw;
}
