"""The brief: run classify → link → route → retrieve → conflicts → pack for one request.

`BriefEngine` holds what is worth keeping between requests in a warm process (the entity table,
the scoped rules, the retriever's vectors and graph) and refreshes each when the index's
generation changes. It reads the index only; keeping the index fresh is the caller's job.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pathspec

from kenning.engine.classify import Intent, classify
from kenning.engine.conflicts import (
    Conflict,
    MemoryView,
    find_conflicts,
    parse_diff,
    short_reason,
)
from kenning.engine.expand import run_expansions
from kenning.engine.filerank import RankedFile, spread_over_files
from kenning.engine.link import EntityTable, IndexedEntities, Mention, find_mentions
from kenning.engine.pack import (
    Candidate,
    Packet,
    PacketItem,
    fit_budget,
    fit_memory_text,
    focus_lines,
    listing_text,
)
from kenning.engine.retrieve import CODE_KINDS, MEMORY_KINDS, Hit, Retriever, Weights
from kenning.engine.route import Plan, plan_for
from kenning.engine.vectors import embed_query
from kenning.hygiene.staleness import stale_findings
from kenning.hygiene.validity import STALE_WEIGHT, Window, window_of_json
from kenning.index.db import get_meta
from kenning.index.terms import is_mixed_case, query_terms

DEFAULT_BUDGET = 2000
# Expansions rank below the best chunk of this many of the code search's best files.
LEAD_FILES = 3
MAX_REQUEST_CHARS = 20_000


@dataclass(frozen=True)
class ScopedRule:
    ref: str
    title: str
    text: str
    scope: tuple[str, ...]
    created: float | None


@lru_cache(maxsize=4096)
def scope_spec(glob: str) -> pathspec.PathSpec[Any]:
    """The compiled gitignore spec of one scope glob."""
    return pathspec.GitIgnoreSpec.from_lines([glob])


def scope_matches(glob: str, path: str) -> bool:
    """gitignore semantics for a rule's scope glob against a project-relative path."""
    glob = glob.strip()
    if glob.startswith("./"):
        glob = glob[2:]
    if not glob or glob.startswith("!"):
        return False
    return bool(scope_spec(glob).match_file(path))


def literal_segment(glob: str) -> str | None:
    """The longest segment of a scope glob with no wildcard in it: a path the glob covers has
    that segment among its own (gitignore matches segment by segment), so the glob need only
    be tried on such paths. None when every segment has a wildcard (`*.py`)."""
    glob = glob.strip().removeprefix("./").strip("/")
    literal = [seg for seg in glob.split("/") if seg and not any(c in seg for c in "*?[]\\!")]
    return max(literal, key=len) if literal else None


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
        self._labels: dict[str, tuple[str, str]] = {}
        self._rule_windows: dict[str, Window] = {}
        self._rule_globs: list[str] = []
        self._globs_by_segment: defaultdict[str, list[str]] = defaultdict(list)
        self._rules_of_glob: defaultdict[str, list[int]] = defaultdict(list)
        self._glob_hits: dict[str, frozenset[str]] = {}

    def close(self) -> None:
        """Stop the retriever's prefetch worker (the connection is the workspace's)."""
        self.retriever.close()

    def refresh(self) -> None:
        generation = get_meta(self.db, "generation", "0")
        if generation == self._generation:
            return
        self._generation = generation
        self.entities = IndexedEntities(self.db)
        rules: list[ScopedRule] = []
        windows: dict[str, Window] = {}
        for ref, title, text, memory_json, created in self.db.execute(
            "SELECT ref, title, text, memory_json, created FROM chunks "
            "WHERE kind = 'rule' AND status = 'active' AND memory_json IS NOT NULL"
        ):
            data = json.loads(memory_json)
            scope = tuple(data.get("scope") or ())
            if scope:
                rules.append(ScopedRule(ref, title, text, scope, created))
                windows[ref] = window_of_json(data)
        self.scoped_rules = rules
        self._rule_windows = windows
        self._rule_globs = []
        self._globs_by_segment = defaultdict(list)
        for glob in sorted({glob for rule in rules for glob in rule.scope}):
            segment = literal_segment(glob)
            if segment is None:
                self._rule_globs.append(glob)  # tried on every path
            else:
                self._globs_by_segment[segment].append(glob)
        self._rules_of_glob = defaultdict(list)
        for i, rule in enumerate(rules):
            for glob in set(rule.scope):
                self._rules_of_glob[glob].append(i)
        self._glob_hits = {}

    def stance_inputs(self) -> list[tuple[str, str]]:
        """(title, text) of every decision, rule and preference, newest first: what
        `conflicts.prepare` reads ahead for a long-running server."""
        return self.db.execute(
            "SELECT title, text FROM chunks WHERE kind IN ('decision', 'rule', 'preference') "
            "ORDER BY updated DESC"
        ).fetchall()

    def link(self, request: str) -> list[Mention]:
        self.refresh()
        return find_mentions(request, self.entities)

    def rules_for(self, paths: Sequence[str]) -> list[tuple[ScopedRule, str, str]]:
        """(rule, glob, path) for every active scoped rule covering one of `paths`: the first
        such path, through the first of the rule's globs that covers it; in the rules' order."""
        self.refresh()
        found: dict[int, tuple[str, str]] = {}
        for path in paths:
            globs = self._globs_matching(path)
            # Only the rules of the globs that matched are looked at: hundreds of rules, and a
            # path is covered by few of them.
            for i in sorted({i for g in globs for i in self._rules_of_glob[g]} - found.keys()):
                glob = next(g for g in self.scoped_rules[i].scope if g in globs)
                found[i] = (glob, path)
        now = time.time()
        out: list[tuple[ScopedRule, str, str]] = []
        for i in sorted(found):
            rule = self.scoped_rules[i]
            window = self._rule_windows.get(rule.ref)
            if window is not None and window.state(now) != "live":
                continue
            out.append((rule, *found[i]))
        return out

    def _globs_matching(self, path: str) -> frozenset[str]:
        """The scope globs (of all rules) that cover `path`, remembered per index generation:
        hundreds of rules share far fewer globs, and a brief's paths recur across requests."""
        found = self._glob_hits.get(path)
        if found is None:
            if len(self._glob_hits) > 4096:
                self._glob_hits.clear()
            # Only the globs whose literal segment the path has, and those with none.
            by_segment = self._globs_by_segment
            candidates = [g for seg in set(path.split("/")) for g in by_segment.get(seg, ())]
            found = frozenset(g for g in (*self._rule_globs, *candidates) if scope_matches(g, path))
            self._glob_hits[path] = found
        return found

    def brief(
        self,
        request: str,
        budget: int = DEFAULT_BUDGET,
        files: Sequence[str] = (),
        *,
        intent: Intent | None = None,
        use_dense: bool = True,
        routed: bool = True,
        history: bool = False,
        diff: str | None = None,
    ) -> Packet:
        """The packet for `request` within `budget` tokens.

        Memories come only when live (active, not superseded, inside their validity window);
        stale ones rank lower and say why. With `history`, superseded and expired memories
        come too, labelled. `diff` (a unified diff or plan text) is checked for conflicts and
        its paths count as touched files. `routed=False` uses the balanced plan whatever the
        intent (the baseline the routing benchmark compares against).
        """
        started = time.perf_counter()
        self.refresh()
        self._labels = {}
        request = request[:MAX_REQUEST_CHARS]
        budget = max(50, int(budget))
        timings: dict[str, float] = {}
        t = time.perf_counter()
        # Both BM25 searches start now, on a worker, and run while the request is linked,
        # embedded and ranked by vectors and graph (a large index only; see `prefetch`). The
        # memory search goes first on both sides: it is quick on the worker, and the main
        # thread's memory ranking then runs while the worker scores the (many more) code chunks.
        self.retriever.prefetch_lexical(request, MEMORY_KINDS, active_only=not history)
        self.retriever.prefetch_lexical(request, CODE_KINDS)
        mentions = find_mentions(request, self.entities)
        files = [f.strip().lstrip("./") for f in files if f.strip()]
        files += [f for f in parse_diff(diff).files if f not in files and f != "/dev/null"]
        seeds = {m.node: (1.0 if m.strong else 0.3) for m in mentions}
        seeds.update({f"file:{f}": 1.0 for f in files})
        timings["link"] = time.perf_counter() - t
        terms = query_terms(request)
        t = time.perf_counter()
        # Embedded once: the classifier and both dense searches share the vector.
        query_vec = embed_query(request) if use_dense and terms else None
        use_dense = query_vec is not None
        timings["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        named_types = {m.type for m in mentions if m.strong}
        intent = intent or classify(request, query_vec, embed=False, named=named_types)
        plan = (
            plan_for(intent, self.route_overrides) if routed else plan_for(Intent("balanced", 0.0))
        )
        timings["classify"] = time.perf_counter() - t
        notes: list[str] = []
        if not terms and not seeds:
            notes.append(
                "The request has no searchable words; the packet holds only the "
                "rules that apply to the files given."
            )
        t = time.perf_counter()
        weights = Weights(graph=plan.graph_weight)
        code_quota = plan.quotas.get("code", 5) + plan.quotas.get("doc", 1)
        memory_hits = self.retriever.search(
            request,
            MEMORY_KINDS,
            k=30,
            seeds=seeds,
            weights=weights,
            use_dense=use_dense,
            query_vec=query_vec,
            active_only=not history,
        )
        timings.update({f"retrieve.memory.{k}": v for k, v in self.retriever.timings.items()})
        memory_hits = self._live(memory_hits, history)
        code_hits = self.retriever.search(
            request,
            CODE_KINDS,
            # Deep enough that the file ranking covers the excerpts' files and the listed ones.
            k=max(8, code_quota * 3, code_quota + plan.files + 4),
            seeds=seeds,
            weights=weights,
            use_dense=use_dense,
            query_vec=query_vec,
        )
        timings.update({f"retrieve.code.{k}": v for k, v in self.retriever.timings.items()})
        ranked_files = list(self.retriever.ranked_files)
        code_hits = self._promote_named_code(code_hits, mentions, files, request)
        timings["retrieve"] = time.perf_counter() - t
        t = time.perf_counter()
        named = self._named_memories(mentions)
        live_named = {h.ref for h in self._live([h for h, _ in named], history)}
        named = [(h, m) for h, m in named if h.ref in live_named]
        paths_in_play = list(dict.fromkeys(files + [h.path for h in code_hits[:code_quota]]))
        if plan.expand:
            t_expand = time.perf_counter()
            code_hits, memory_hits = self._expand(
                plan.expand, mentions, files, paths_in_play, code_hits, memory_hits, history
            )
            timings["expand"] = time.perf_counter() - t_expand
            code_hits = spread_over_files(code_hits)  # expansions add several chunks per file
        scoped = self.rules_for(paths_in_play)
        conflicts = self._conflicts(
            request, memory_hits, [r for r, _, _ in scoped], diff=diff, files=files
        )
        timings["conflicts"] = time.perf_counter() - t
        t = time.perf_counter()
        listing = self._listing(ranked_files, code_hits, plan.files + code_quota)
        items = self._pack(
            plan, budget, terms, code_hits, memory_hits, named, scoped, conflicts, listing
        )
        timings["pack"] = time.perf_counter() - t
        packet = Packet(
            request=request,
            intent=intent.label,
            confidence=intent.confidence,
            budget=budget,
            items=items,
            conflicts=conflicts,
            secondary=intent.secondary,
            entities=[m.to_dict() for m in mentions[:20]],
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

    def _promote_named_code(
        self, hits: list[Hit], mentions: list[Mention], files: Sequence[str], request: str = ""
    ) -> list[Hit]:
        """Code the request names outright (a symbol written as code, a file given with --file)
        leads the code.

        A named symbol's chunk is fetched even when no ranker surfaced it. Only a symbol the
        request writes as code leads (`in backticks`, snake_case, CamelCase, dotted or called):
        plain words that happen to spell a symbol ("one line" → `one_line`, "neighbours" →
        `_neighbours`) stay graph seeds but do not jump the file ranking.
        """
        named_syms = {
            m.node[4:]: m
            for m in mentions
            if m.strong and m.node.startswith("sym:") and _written_as_code(m.span, request)
        }
        wanted = set(files)
        have = {h.chunk_id for h in hits}
        for node in list(named_syms)[:5]:
            path, _, qual = node.partition("::")
            row = self.db.execute(
                "SELECT chunk_id FROM symbols WHERE path = ? AND qualname = ? "
                "AND chunk_id IS NOT NULL LIMIT 1",
                (path, qual),
            ).fetchone()
            if row and row[0] not in have:
                hits += self.retriever.fetch([row[0]]).values()
                have.add(row[0])
        for hit in hits:
            mention = named_syms.get(f"{hit.path}::{hit.symbol}") if hit.symbol else None
            if mention is not None:
                hit.score += 1.0
                hit.named = f"the request names `{mention.span}`"
            elif hit.path in wanted:
                hit.score += 0.5
                hit.named = f"in {hit.path}, which the request is about"
        return sorted(hits, key=lambda h: -h.score)

    def _named_memories(self, mentions: list[Mention]) -> list[tuple[Hit, Mention]]:
        out: list[tuple[Hit, Mention]] = []
        for mention in mentions:
            if mention.node.startswith("mem:"):
                hit = self.retriever.by_ref(mention.node[4:])
                if hit is not None and hit.status == "active":
                    out.append((hit, mention))
        return out

    def _live(self, hits: list[Hit], history: bool) -> list[Hit]:
        """Memories in force now, stale ones ranked down; with `history`, the rest labelled."""
        refs = [h.ref for h in hits]
        if not refs:
            return hits
        marks = ",".join("?" * len(refs))
        replaced = dict(
            self.db.execute(
                f"SELECT substr(e.dst, 5), substr(e.src, 5) FROM edges e JOIN chunks c "
                f"ON c.ref = substr(e.src, 5) WHERE e.dst IN ({marks}) "
                f"AND e.kind = 'supersedes' AND c.status = 'active'",
                [f"mem:{ref}" for ref in refs],
            ).fetchall()
        )
        stale = stale_findings(self.db, refs)
        now = time.time()
        kept: list[Hit] = []
        for hit in hits:
            window = window_of_json(hit.memory).state(now)
            if hit.status != "active" or hit.ref in replaced or window != "live":
                if not history:
                    continue
                if hit.ref in replaced or hit.status == "superseded":
                    newer = replaced.get(hit.ref)
                    label = ("superseded", f"superseded by `{newer}`" if newer else "superseded")
                elif hit.status != "active":
                    label = (hit.status, hit.status)
                else:
                    label = (
                        window,
                        "past its valid_until" if window == "expired" else "not yet valid",
                    )
                self._labels[hit.ref] = label
            elif hit.ref in stale:
                hit.score *= STALE_WEIGHT
                self._labels[hit.ref] = ("stale", "stale: " + stale[hit.ref][0].reason)
            kept.append(hit)
        return sorted(kept, key=lambda h: -h.score)

    def _expand(
        self,
        expand: Sequence[str],
        mentions: list[Mention],
        files: list[str],
        paths_in_play: list[str],
        code_hits: list[Hit],
        memory_hits: list[Hit],
        history: bool,
    ) -> tuple[list[Hit], list[Hit]]:
        """Add what the plan's expansions find (callers, tests, recent decisions, docs).

        Expanded hits rank just below what the request names outright, so the plan's quotas
        decide how many of them fit; when the code search ranked files, below the best chunk of
        each of its first `LEAD_FILES` files too (direct evidence before graph guesses).
        """
        found = run_expansions(self.retriever, expand, mentions, files, paths_in_play)
        top = max((h.score for h in code_hits), default=1.0)
        if self.retriever.ranked_files:
            firsts = list({h.path: h.score for h in reversed(code_hits)}.values())
            firsts.sort(reverse=True)
            if len(firsts) >= LEAD_FILES:
                top = firsts[LEAD_FILES - 1] / 0.9 * 0.999
        have = {h.chunk_id: h for h in code_hits}
        for n, hit in enumerate(found.code):
            score = top * 0.9 - 0.001 * n
            current = have.get(hit.chunk_id)
            if current is not None:
                current.named = current.named or hit.named
                current.score = max(current.score, score)
            else:
                hit.score = score
                code_hits.append(hit)
        top_memory = max((h.score for h in memory_hits), default=1.0)
        known = {h.ref: h for h in memory_hits}
        for n, hit in enumerate(self._live(found.memories, history)):
            current = known.get(hit.ref)
            if current is not None:
                current.named = current.named or hit.named
                current.score = max(current.score, top_memory * 0.9 - 0.001 * n)
            else:
                hit.score = top_memory * 0.9 - 0.001 * n
                memory_hits.append(hit)
        by_score = sorted(code_hits, key=lambda h: -h.score)
        return by_score, sorted(memory_hits, key=lambda h: -h.score)

    def _conflicts(
        self,
        request: str,
        memory_hits: list[Hit],
        scoped: list[ScopedRule],
        *,
        diff: str | None = None,
        files: Sequence[str] = (),
    ) -> list[Conflict]:
        views = [
            MemoryView(
                h.ref,
                h.kind,
                h.title,
                h.text,
                h.status,
                h.created,
                scope=tuple((h.memory or {}).get("scope") or ()),
            )
            for h in memory_hits
            if h.kind in ("decision", "rule", "preference")
        ]
        seen = {v.ref for v in views}
        views += [
            MemoryView(r.ref, "rule", r.title, r.text, "active", r.created, scope=r.scope)
            for r in scoped
            if r.ref not in seen
        ]
        # What the active decisions replaced: a request that revives it conflicts with them.
        for hit in memory_hits:
            old_ref = (hit.memory or {}).get("supersedes")
            old = self.retriever.by_ref(old_ref) if old_ref and old_ref not in seen else None
            if old is not None:
                views.append(
                    MemoryView(
                        old.ref, old.kind, old.title, old.text, "superseded", old.created, hit.ref
                    )
                )
        return find_conflicts(request, views, diff=diff, files=files)

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
        listing: Sequence[Candidate] = (),
    ) -> list[PacketItem]:
        """Turn the stages' results into candidates; `pack.fit_budget` chooses what fits."""
        max_item = min(plan.max_item_tokens, max(60, budget // 3))
        pinned: list[Candidate] = []
        by_ref = {h.ref: h for h in memory_hits}
        for conflict in conflicts:
            hit = by_ref.get(conflict.ref) or self.retriever.by_ref(conflict.ref)
            if hit is not None:
                # The sentence that conflicts first; the rest of the memory only as room allows.
                item = self._memory_item(
                    hit,
                    f"conflicts with the request: {short_reason(conflict)}",
                    min(max_item, 140),
                    lead=conflict.sentence,
                )
                pinned.append(Candidate(item, None))
        # Scoped rules always apply, but at most the plan's rule quota of them, each kept short.
        for rule, glob, path in scoped[: max(1, plan.quotas.get("rule", 2))]:
            item = PacketItem(
                "rule",
                rule.ref,
                rule.title,
                fit_memory_text(rule.title, rule.text, 120),
                1.0,
                f"rule scoped to `{glob}`, which covers {path}",
                date=_date(rule.created),
            )
            pinned.append(Candidate(item, None))
        for hit, mention in named:
            item = self._memory_item(
                hit, f"the request names {mention.type} “{mention.span}”", max_item
            )
            # Named outright ("the client", "dunning"): these lead their section.
            item.score = max(item.score, 1.0 if mention.strong else 0.05)
            pinned.append(Candidate(item, hit.kind))
        code: list[Candidate] = []
        for hit in code_hits:
            text, first, last = focus_lines(hit.text, hit.start_line or 1, terms, max_item)
            kind = "symbol" if hit.kind == "symbol" else hit.kind
            item = PacketItem(
                kind,
                f"{hit.path}:{first}-{last}",
                hit.symbol or hit.title,
                text,
                hit.score,
                _why(hit),
            )
            code.append(Candidate(item, "doc" if hit.kind == "doc" else "code", hit, terms))
        memories = [Candidate(self._memory_item(h, _why(h), max_item), h.kind) for h in memory_hits]
        quotas = dict(plan.quotas)
        if not code:
            # Nothing in the code matches (or there is no code): the budget the plan kept for
            # code goes to more memories of each kind instead of staying unspent.
            quotas.update({k: max(3 * v, 6) for k, v in quotas.items() if k not in ("code", "doc")})
        return fit_budget(
            pinned,
            code,
            memories,
            budget,
            plan.code_share,
            quotas,
            first_refs=[c.ref for c in conflicts],
            listing=listing,
            listing_quota=plan.files,
        )

    def _listing(
        self, ranked: Sequence[RankedFile], code_hits: Sequence[Hit], limit: int
    ) -> list[Candidate]:
        """One-line candidates for the best `limit` source files of the file ranking, in its order.

        Each names the file's best chunk (its best code hit, else the ranking's best chunk)
        and scores like that hit, but never above the file listed before it, so the packet's
        order of files follows the ranking. Prose files are not listed: docs come as excerpts
        within the plan's `doc` quota.
        """
        ranked = [f for f in ranked if f.score > 0]
        if not ranked or limit <= 0:
            return []
        best: dict[str, Hit] = {}
        for hit in code_hits:
            if hit.path not in best or hit.score > best[hit.path].score:
                best[hit.path] = hit
        missing = [f.best_chunk for f in ranked if f.path not in best and f.best_chunk is not None]
        fetched = self.retriever.fetch(missing)
        out: list[Candidate] = []
        last = max((h.score for h in code_hits), default=1.0)
        for f in ranked:
            found = best.get(f.path)
            score = min(found.score, last) if found is not None else last * 0.99
            if found is None and f.best_chunk is not None:
                found = fetched.get(f.best_chunk)
            if found is None or found.kind == "doc":
                continue
            hit = found
            last = min(last, score)
            end = hit.end_line or hit.start_line or 1
            item = PacketItem(
                "file",
                f"{f.path}:{hit.start_line or 1}-{end}",
                hit.symbol or f.path,
                listing_text(hit.text),
                score,
                f.why(short=True) or "ranked by the file ranking",
                listing=True,
            )
            out.append(Candidate(item, None))
            if len(out) >= limit:
                break
        return out

    def _memory_item(self, hit: Hit, why: str, max_tokens: int, lead: str = "") -> PacketItem:
        status, note = self._labels.get(hit.ref, (hit.status, ""))
        return PacketItem(
            hit.kind,
            hit.ref,
            hit.title,
            fit_memory_text(hit.title, hit.text, max_tokens, lead),
            hit.score,
            f"{why}; {note}" if note else why,
            status=status,
            date=_date(hit.created),
        )


def _written_as_code(span: str, request: str) -> bool:
    """True when the request writes `span` as code: in backticks, or with `_`, `.`, `(` or in
    mixed case (`WebhookSender`, `compute_total`, `Client.send`, `send()`); not an acronym in
    capitals (`BM25`, `HTTP`) unless it is in backticks."""
    if any(c in span for c in "_.(") or is_mixed_case(span):
        return True
    return any(span in quoted for quoted in _BACKTICKED.findall(request))


_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")


def _date(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat() if epoch else None


def _why(hit: Hit) -> str:
    parts: list[str] = [hit.named] if hit.named else []
    # A name the request names outright is said once ("the request names `x`"), not matched too.
    matched = [t for t in hit.matched if f"`{t}`" not in (hit.named or "").lower()]
    if matched:
        parts.append("matches " + ", ".join(f"“{t}”" for t in matched[:4]))
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
