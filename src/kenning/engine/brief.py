"""The brief: run classify → link → route → retrieve → conflicts → pack for one request.

`BriefEngine` holds what is worth keeping between requests in a warm process (the entity table,
the scoped rules, the retriever's vectors and graph) and refreshes each when the index's
generation changes. It reads the index only; keeping the index fresh is the caller's job.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pathspec

from kenning.engine.classify import Intent, classify
from kenning.engine.conflicts import Conflict, MemoryView, find_conflicts
from kenning.engine.link import EntityTable, Mention, find_mentions
from kenning.engine.pack import Packet, PacketItem, fit_memory_text, focus_lines
from kenning.engine.retrieve import CODE_KINDS, MEMORY_KINDS, Hit, Retriever, Weights
from kenning.engine.route import Plan, plan_for
from kenning.index.db import get_meta
from kenning.index.terms import query_terms
from kenning.tokens import count_tokens

DEFAULT_BUDGET = 2000
MAX_REQUEST_CHARS = 20_000


@dataclass(frozen=True)
class ScopedRule:
    ref: str
    title: str
    text: str
    scope: tuple[str, ...]
    created: float | None


@lru_cache(maxsize=4096)
def _scope_spec(glob: str) -> pathspec.PathSpec[Any]:
    return pathspec.GitIgnoreSpec.from_lines([glob])


def scope_matches(glob: str, path: str) -> bool:
    """gitignore semantics for a rule's scope glob against a project-relative path."""
    glob = glob.strip()
    if glob.startswith("./"):
        glob = glob[2:]
    if not glob or glob.startswith("!"):
        return False
    return bool(_scope_spec(glob).match_file(path))


class BriefEngine:
    """Builds packets from one index connection."""

    def __init__(
        self, db: sqlite3.Connection, route_overrides: dict[str, Any] | None = None
    ) -> None:
        self.db = db
        self.retriever = Retriever(db)
        self.route_overrides = route_overrides or {}
        self._generation: str | None = None
        self.entities = EntityTable()
        self.scoped_rules: list[ScopedRule] = []

    def refresh(self) -> None:
        generation = get_meta(self.db, "generation", "0")
        if generation == self._generation:
            return
        self._generation = generation
        self.entities = EntityTable.load(self.db)
        rules: list[ScopedRule] = []
        for ref, title, text, memory_json, created in self.db.execute(
            "SELECT ref, title, text, memory_json, created FROM chunks "
            "WHERE kind = 'rule' AND status = 'active' AND memory_json IS NOT NULL"
        ):
            scope = tuple(json.loads(memory_json).get("scope") or ())
            if scope:
                rules.append(ScopedRule(ref, title, text, scope, created))
        self.scoped_rules = rules

    def link(self, request: str) -> list[Mention]:
        self.refresh()
        return find_mentions(request, self.entities)

    def rules_for(self, paths: Sequence[str]) -> list[tuple[ScopedRule, str, str]]:
        """(rule, glob, path) for every active scoped rule covering one of `paths`."""
        self.refresh()
        out: list[tuple[ScopedRule, str, str]] = []
        for rule in self.scoped_rules:
            for path in paths:
                glob = next((g for g in rule.scope if scope_matches(g, path)), None)
                if glob:
                    out.append((rule, glob, path))
                    break
        return out

    def brief(
        self,
        request: str,
        budget: int = DEFAULT_BUDGET,
        files: Sequence[str] = (),
        *,
        intent: Intent | None = None,
        use_dense: bool = True,
        routed: bool = True,
    ) -> Packet:
        """The packet for `request` within `budget` tokens."""
        started = time.perf_counter()
        self.refresh()
        request = request[:MAX_REQUEST_CHARS]
        budget = max(50, int(budget))
        timings: dict[str, float] = {}
        t = time.perf_counter()
        intent = intent or classify(request)
        plan = (
            plan_for(intent, self.route_overrides) if routed else plan_for(Intent("balanced", 0.0))
        )
        timings["classify"] = time.perf_counter() - t
        t = time.perf_counter()
        mentions = find_mentions(request, self.entities)
        files = [f.strip().lstrip("./") for f in files if f.strip()]
        seeds = {m.node: (1.0 if m.strong else 0.3) for m in mentions}
        seeds.update({f"file:{f}": 1.0 for f in files})
        timings["link"] = time.perf_counter() - t
        terms = query_terms(request)
        notes: list[str] = []
        if not terms and not seeds:
            notes.append(
                "The request has no searchable words; the packet holds only the "
                "rules that apply to the files given."
            )
        t = time.perf_counter()
        weights = Weights(graph=plan.graph_weight)
        code_quota = plan.quotas.get("code", 5) + plan.quotas.get("doc", 1)
        code_hits = self.retriever.search(
            request,
            CODE_KINDS,
            k=max(8, code_quota * 3),
            seeds=seeds,
            weights=weights,
            use_dense=use_dense,
        )
        memory_hits = self.retriever.search(
            request, MEMORY_KINDS, k=30, seeds=seeds, weights=weights, use_dense=use_dense
        )
        timings.update({f"retrieve.{k}": v for k, v in self.retriever.timings.items()})
        timings["retrieve"] = time.perf_counter() - t
        t = time.perf_counter()
        named = self._named_memories(mentions)
        paths_in_play = list(dict.fromkeys(files + [h.path for h in code_hits[:code_quota]]))
        scoped = self.rules_for(paths_in_play)
        conflicts = self._conflicts(request, memory_hits, [r for r, _, _ in scoped])
        timings["conflicts"] = time.perf_counter() - t
        t = time.perf_counter()
        items = self._pack(plan, budget, terms, code_hits, memory_hits, named, scoped, conflicts)
        timings["pack"] = time.perf_counter() - t
        packet = Packet(
            request=request,
            intent=intent.label,
            confidence=intent.confidence,
            budget=budget,
            items=items,
            conflicts=conflicts,
            secondary=intent.secondary,
            entities=[
                {"span": m.span, "node": m.node, "type": m.type, "strong": m.strong}
                for m in mentions[:20]
            ],
            plan=plan.to_dict(),
            timings={k: round(v * 1000, 3) for k, v in timings.items()},
            notes=notes,
        )
        missing = [f for f in files if not self._known_file(f)]
        if missing:
            packet.notes.append(
                "Not in the index (missing, ignored or skipped): " + ", ".join(missing[:5])
            )
        packet.elapsed_ms = (time.perf_counter() - started) * 1000
        return packet

    def _known_file(self, path: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM documents WHERE path = ?", (path,)).fetchone()
            is not None
        )

    def _named_memories(self, mentions: list[Mention]) -> list[tuple[Hit, Mention]]:
        out: list[tuple[Hit, Mention]] = []
        for mention in mentions:
            if mention.node.startswith("mem:"):
                hit = self.retriever.by_ref(mention.node[4:])
                if hit is not None and hit.status == "active":
                    out.append((hit, mention))
        return out

    def _conflicts(
        self, request: str, memory_hits: list[Hit], scoped: list[ScopedRule]
    ) -> list[Conflict]:
        views = [
            MemoryView(h.ref, h.kind, h.title, h.text, h.status, h.created)
            for h in memory_hits
            if h.kind in ("decision", "rule", "preference")
        ]
        seen = {v.ref for v in views}
        views += [
            MemoryView(r.ref, "rule", r.title, r.text, "active", r.created)
            for r in scoped
            if r.ref not in seen
        ]
        return find_conflicts(request, views)

    def _pack(
        self,
        plan: Plan,
        budget: int,
        terms: list[str],
        code_hits: list[Hit],
        memory_hits: list[Hit],
        named: list[tuple[Hit, Mention]],
        scoped: list[tuple[ScopedRule, str, str]],
        conflicts: list[Conflict],
    ) -> list[PacketItem]:
        items: list[PacketItem] = []
        used = 0
        taken: set[str] = set()
        counts: dict[str, int] = {}
        max_item = min(plan.max_item_tokens, max(60, budget // 3))

        def add(item: PacketItem, quota_key: str | None = None) -> bool:
            nonlocal used
            if item.ref in taken:
                return False
            if quota_key is not None and counts.get(quota_key, 0) >= plan.quotas.get(quota_key, 0):
                return False
            item.tokens = (
                count_tokens(item.text) + count_tokens(item.title) + count_tokens(item.why) + 8
            )
            if used + item.tokens > budget:
                return False
            items.append(item)
            taken.add(item.ref)
            used += item.tokens
            if quota_key is not None:
                counts[quota_key] = counts.get(quota_key, 0) + 1
            return True

        by_ref = {h.ref: h for h in memory_hits}
        for conflict in conflicts:
            hit = by_ref.get(conflict.ref) or self.retriever.by_ref(conflict.ref)
            if hit is not None:
                add(
                    self._memory_item(
                        hit, f"conflicts with the request: {conflict.reason}", max_item
                    ),
                    None,
                )
        # Scoped rules always apply, but at most the plan's rule quota of them, each kept short.
        for rule, glob, path in scoped[: max(1, plan.quotas.get("rule", 2))]:
            add(
                PacketItem(
                    "rule",
                    rule.ref,
                    rule.title,
                    fit_memory_text(rule.title, rule.text, min(max_item, 160)),
                    1.0,
                    f"rule scoped to `{glob}`, which covers {path}",
                    date=_date(rule.created),
                ),
                None,
            )
        for hit, mention in named:
            item = self._memory_item(
                hit, f"the request names {mention.type} “{mention.span}”", max_item
            )
            # Named outright ("the client", "dunning"): these lead their section.
            item.score = max(item.score, 1.0 if mention.strong else 0.05)
            add(item, hit.kind)
        # Code and memories compete by fused score; the code share caps code spending.
        code_budget = int(budget * plan.code_share)
        code_used = 0
        queue = sorted(
            [(h, "code" if h.kind != "doc" else "doc") for h in code_hits]
            + [(h, h.kind) for h in memory_hits],
            key=lambda pair: -pair[0].score,
        )
        for hit, quota_key in queue:
            if hit.kind in CODE_KINDS:
                if code_used >= code_budget:
                    continue
                text, first, last = focus_lines(
                    hit.text, hit.start_line or 1, terms, min(max_item, code_budget - code_used)
                )
                ref = f"{hit.path}:{first}-{last}"
                kind = "symbol" if hit.kind == "symbol" else hit.kind
                title = hit.symbol or hit.title
                item = PacketItem(kind, ref, title, text, hit.score, _why(hit))
                if add(item, quota_key):
                    code_used += item.tokens
            else:
                add(self._memory_item(hit, _why(hit), max_item), quota_key)
        order = {"rule": 0}
        conflict_refs = {c.ref for c in conflicts}
        items.sort(
            key=lambda i: (0 if i.ref in conflict_refs else 1, order.get(i.kind, 1), -i.score)
        )
        return items

    def _memory_item(self, hit: Hit, why: str, max_tokens: int) -> PacketItem:
        return PacketItem(
            hit.kind,
            hit.ref,
            hit.title,
            fit_memory_text(hit.title, hit.text, max_tokens),
            hit.score,
            why,
            status=hit.status,
            date=_date(hit.created),
        )


def _date(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat() if epoch else None


def _why(hit: Hit) -> str:
    parts: list[str] = []
    if hit.matched:
        parts.append("matches " + ", ".join(f"“{t}”" for t in hit.matched[:4]))
    if "dense" in hit.ranks and hit.ranks["dense"] <= 5:
        parts.append(f"close in meaning (#{hit.ranks['dense']})")
    if "graph" in hit.ranks:
        parts.append(
            "linked to what the request names"
            if hit.ranks["graph"] <= 3
            else "near the named code in the graph"
        )
    if not parts:
        parts.append("best remaining match")
    return "; ".join(parts)
