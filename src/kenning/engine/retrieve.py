"""Hybrid retrieval: BM25 (FTS5) + dense vectors + graph expansion + recency, fused, then
de-duplicated with MMR.

Fusion is a weighted sum of each ranker's scores min-max normalised over its own candidate pool
(CombSUM). Reciprocal-rank fusion was the first choice; on LoCoMo it let the weaker dense ranker
drag BM25 down (R@10 0.603 fused vs 0.626 BM25 alone on three conversations), where normalised
scores keep how *much* better the top lexical hits are (0.698). Every hit keeps which rankers found
it and at what rank, which is what the packet's *why* line is made from.

Fused scores are scaled into [0, FUSED_SCALE] so that what a packet pins or the request names
(scored 0.5 to 1.0 and above by the brief) always outranks plain retrieval.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from kenning.engine import prefetch
from kenning.engine.dates import date_window
from kenning.engine.filerank import FileRanker, RankedFile, order_by_files
from kenning.engine.graph import Graph
from kenning.engine.lexical import LexicalSearch
from kenning.engine.neighbours import (
    CONTEXT_KINDS,
    SESSION_WEIGHT,
    Timeline,
    lend,
    session_bonus,
)
from kenning.engine.vectors import VectorMatrix, embed_query
from kenning.index.db import get_meta
from kenning.index.terms import fts_query, query_terms

CODE_KINDS = ("file", "symbol", "doc")
MEMORY_KINDS = ("decision", "rule", "preference", "person", "term", "fact", "note")
_COLUMNS = (
    "id, kind, ref, path, title, text, symbol, start_line, end_line, status, "
    "created, updated, memory_json"
)


@dataclass
class Hit:
    """One retrieved chunk with its fused score and the evidence for it."""

    chunk_id: int
    kind: str
    ref: str
    path: str
    title: str
    text: str
    symbol: str | None
    start_line: int | None
    end_line: int | None
    status: str
    created: float | None
    updated: float | None
    memory_json: str | None
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)
    matched: list[str] = field(default_factory=list)
    named: str | None = None

    @cached_property
    def memory(self) -> dict[str, Any] | None:
        """The memory's fields (parsed on first use: a search fetches a few hundred candidates
        and keeps a few dozen, and parsing each cost ~1 ms a brief at 5k memories)."""
        return json.loads(self.memory_json) if self.memory_json else None

    @property
    def is_memory(self) -> bool:
        return self.kind in MEMORY_KINDS

    @property
    def memory_id(self) -> str | None:
        return self.ref if self.memory and not self.ref.count(":") else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 4),
            "status": self.status,
            "ranks": self.ranks,
        }


def _hit(row: Sequence[Any]) -> Hit:
    return Hit(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
    )


@dataclass
class Weights:
    """Weights of the normalised ranker scores (graph scaled by half, see `search`)."""

    bm25: float = 0.6
    dense: float = 0.4
    graph: float = 0.6
    recency: float = 0.15
    # Share of a memory's score lent to the memories written beside it (`neighbours`).
    context: float = 0.5
    # What a memory gains from the best-scored memory of its session (`neighbours`).
    session: float = SESSION_WEIGHT
    # Bonus of a memory written in the period the request names (`dates`).
    when: float = 0.8


FUSED_SCALE = 0.1
# How deep the chunk pools go that a code search's file ranking aggregates.
FILE_POOL = 200
# BM25 weights of the (title, body) columns. A memory's title is often the first 120 characters
# of its body cut at a word (what `remember` derives when none is given), so its words are
# already counted in the body: at 4x the start of every long memory outweighed the rest.
# LoCoMo 0-4, search R@5/R@10: 4x 0.644/0.763, 2x 0.657/0.772, 1x 0.667/0.771.
FIELD_WEIGHTS = {"chunks_fts": (4.0, 1.0), "memory_fts": (2.0, 1.0)}


def matched_terms(terms: Sequence[str], haystack: str, limit: int = 6) -> list[str]:
    """The request terms a hit's lowercase text holds, for its `why`: a snake_case name the
    request wrote (a phrase term) as written, first, and then the words not already part of
    one (“compute_invoice_total”, not “compute”, “invoice”, “total”)."""
    names = [n for t in terms if " " in t and (n := t.replace(" ", "_")) in haystack]
    parts = {p for n in names for p in n.split("_")}
    words = [t for t in terms if " " not in t and t not in parts and t in haystack]
    return (names + words)[:limit]


def _normalised(ranking: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Min-max scores of one ranker's pool; a pool of one (or of equal scores) scores 1."""
    if not ranking:
        return {}
    high = max(s for _, s in ranking)
    low = min(s for _, s in ranking)
    span = high - low
    return {cid: (s - low) / span if span > 0 else 1.0 for cid, s in ranking}


class Retriever:
    """Query one index; caches (vectors, graph) refresh when the index changes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.vectors = VectorMatrix()
        self.graph = Graph()
        self._kind_rows: dict[str, np.ndarray] = {}
        self._kind_gen: str | None = None
        self.timings: dict[str, float] = {}
        self._tables: dict[str, LexicalSearch] = {}
        self._timeline: Timeline | None = None
        self._timeline_gen: str | None = None
        self._timeline_state: tuple[Any, ...] | None = None
        self.files = FileRanker(db)
        # The file ranking of the last code search (see `kenning.engine.filerank`).
        self.ranked_files: list[RankedFile] = []
        # BM25 searches started ahead on a worker (`prefetch_lexical`), by what they search.
        self._prefetcher: prefetch.Prefetcher | None = None
        self._pending: dict[LexicalKey, Future[LexicalAnswer]] = {}
        self._shadow: Retriever | None = None
        self._known_paths: dict[int, str] = {}

    def close(self) -> None:
        """Stop the prefetch worker, if one started (the connection is the caller's)."""
        self._pending.clear()
        if self._prefetcher is not None:
            self._prefetcher.close()
            self._prefetcher = None

    def fetch(self, ids: Sequence[int]) -> dict[int, Hit]:
        if not ids:
            return {}
        out: dict[int, Hit] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(
                f"SELECT {_COLUMNS} FROM chunks WHERE id IN ({marks})", part
            ):
                out[int(row[0])] = _hit(row)
        return out

    def by_ref(self, ref: str) -> Hit | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM chunks WHERE ref = ? LIMIT 1", (ref,)
        ).fetchone()
        return _hit(row) if row else None

    # ---- prefetch ------------------------------------------------------------------------

    def prefetch_lexical(
        self,
        query: str,
        kinds: Sequence[str],
        *,
        active_only: bool = True,
        pool: int = 50,
        rank_files: bool = True,
    ) -> None:
        """Start, on the worker, the BM25 search that `search` with the same arguments will
        need; `search` takes its answer instead of searching again (see `kenning.engine.prefetch`). Does
        nothing for a small index, or one in memory."""
        if self._lexical("chunks_fts").rows < prefetch.MIN_ROWS:
            return
        if self._prefetcher is None:
            path = prefetch.database_path(self.db)
            if path is None:
                return
            self._prefetcher = prefetch.Prefetcher(path)
        key = _lexical_key(query_terms(query), kinds, pool, rank_files, active_only)
        if len(self._pending) > 8:  # searches that never came for theirs
            self._pending.clear()
        self._pending[key] = self._prefetcher.submit(lambda conn: self._shadow_lexical(conn, key))

    def _shadow_lexical(self, conn: sqlite3.Connection, key: LexicalKey) -> LexicalAnswer:
        """The worker's side: the same search through its own connection (and its own caches),
        and, for a code search, the paths of the chunks it found (the file ranking needs them,
        and the worker is usually done before the main thread is)."""
        if self._shadow is None or self._shadow.db is not conn:
            self._shadow = Retriever(conn)
        found = self._shadow.lexical(list(key.terms), key.kinds, key.limit, key.active_only)
        code = set(CODE_KINDS) <= set(key.kinds)
        paths = self._shadow.files.chunk_paths([cid for cid, _ in found]) if code else {}
        return found, paths

    def _lexical_or_pending(self, key: LexicalKey) -> list[tuple[int, float]]:
        """The BM25 answer for `key`: the worker's when it started one, else searched here.
        Paths the worker looked up are left in `self._known_paths` for the file ranking."""
        self._known_paths = {}
        pending = self._pending.pop(key, None)
        if pending is not None:
            try:
                found, self._known_paths = pending.result()
                return found
            except Exception:  # the worker failed (its connection, say): search here instead
                pass
        return self.lexical(list(key.terms), key.kinds, key.limit, key.active_only)

    # ---- rankers -------------------------------------------------------------------------

    def lexical(
        self, terms: list[str], kinds: Sequence[str], limit: int, active_only: bool = True
    ) -> list[tuple[int, float]]:
        if not fts_query(terms):
            return []
        out: list[tuple[int, float]] = []
        # Code and memories live in separate FTS5 tables, so a memory search never scores
        # the (many more) code chunks that share its words, and the other way round.
        for table, members in (("chunks_fts", CODE_KINDS), ("memory_fts", MEMORY_KINDS)):
            wanted = [k for k in kinds if k in members]
            if not wanted:
                continue
            expr = fts_query(self._lexical(table).terms_for(terms))
            title_w, body_w = FIELD_WEIGHTS[table]
            # Code chunks are always active: when every code kind is wanted, the FTS table
            # answers alone, without a join to `chunks` for each of its (many) matching rows.
            if table == "chunks_fts" and set(wanted) == set(CODE_KINDS):
                sql = (
                    f"SELECT rowid, bm25({table}, {title_w}, {body_w}) AS s FROM {table} "
                    f"WHERE {table} MATCH ? ORDER BY s LIMIT ?"
                )
                args: tuple[Any, ...] = (expr, limit)
            else:
                marks = ",".join("?" * len(wanted))
                status = "AND c.status = 'active'" if active_only else ""
                sql = (
                    f"SELECT c.id, bm25({table}, {title_w}, {body_w}) AS s FROM {table} "
                    f"JOIN chunks c ON c.id = {table}.rowid WHERE {table} MATCH ? "
                    f"AND c.kind IN ({marks}) {status} ORDER BY s LIMIT ?"
                )
                args = (expr, *wanted, limit)
            try:
                rows = self.db.execute(sql, args).fetchall()
            except sqlite3.OperationalError:
                continue
            out += [(int(r[0]), -float(r[1])) for r in rows]
        out.sort(key=lambda pair: -pair[1])
        return out[:limit]

    def code_frequency(self, term: str) -> tuple[int, float]:
        """How many code chunks hold `term`, and what fraction of all code chunks that is."""
        search = self._lexical("chunks_fts")
        return search.document_frequency(term), search.share(term)

    def _lexical(self, table: str) -> LexicalSearch:
        search = self._tables.get(table)
        if search is None:
            search = self._tables[table] = LexicalSearch(self.db, table)
        return search

    def _kind_mask(self, kinds: Sequence[str], active_only: bool) -> np.ndarray | None:
        if not len(self.vectors.ids):
            return None
        key = f"{','.join(sorted(kinds))}:{active_only}"
        if self._kind_gen != self.vectors.generation:
            self._kind_rows = {}
            self._kind_gen = self.vectors.generation
        mask = self._kind_rows.get(key)
        if mask is None:
            marks = ",".join("?" * len(kinds))
            status = "AND status = 'active'" if active_only else ""
            ids = [
                r[0]
                for r in self.db.execute(
                    f"SELECT id FROM chunks WHERE kind IN ({marks}) {status}", tuple(kinds)
                )
            ]
            mask = np.zeros(len(self.vectors.ids), dtype=bool)
            rows = list(self.vectors.rows_of(ids).values())
            mask[rows] = True
            self._kind_rows[key] = mask
        return mask

    def dense(
        self,
        query_vec: np.ndarray | None,
        kinds: Sequence[str],
        limit: int,
        active_only: bool = True,
    ) -> list[tuple[int, float]]:
        if query_vec is None:
            return []
        self.vectors.refresh(self.db)
        if set(kinds) == set(CODE_KINDS):  # code chunks are always active: no mask needed
            return self.vectors.top(query_vec, limit, span="code")
        mask = self._kind_mask(kinds, active_only)
        if mask is None or not mask.any():
            return []
        code, memory = (any(k in group for k in kinds) for group in (CODE_KINDS, MEMORY_KINDS))
        span = "code" if not memory else "memory" if not code else None
        return self.vectors.top(query_vec, limit, mask, span=span)

    def graph_rank(
        self, seeds: dict[str, float], kinds: Sequence[str], limit: int
    ) -> list[tuple[int, float]]:
        if not seeds:
            return []
        self.graph.refresh(self.db)
        ranked = self.graph.top(seeds, limit * 4)
        if not ranked:
            return []
        out: dict[int, float] = {}
        # A file node lends its score to every chunk of the file, so only the best few files
        # are expanded (a big file has dozens of chunks, all equal here).
        files = [n[5:] for n, _ in ranked if n.startswith("file:")][: max(5, limit // 3)]
        mems = [n[4:] for n, _ in ranked if n.startswith("mem:")]
        syms = [n[4:] for n, _ in ranked if n.startswith("sym:")]
        score_of = dict(ranked)
        want_code = any(k in CODE_KINDS for k in kinds)
        want_memory = any(k in MEMORY_KINDS for k in kinds)
        marks = ",".join("?" * len(kinds))
        if files and want_code:
            # A file's chunks all take half its score, and only `limit` results are kept: the
            # best files' first chunks fill them, so a file is read only while room is left.
            taken = 0
            for path in files:
                if taken >= limit:
                    break
                score = score_of[f"file:{path}"] * 0.5
                # Through documents (unique path) and chunks_doc: chunks has no index on path.
                for (cid,) in self.db.execute(
                    f"SELECT c.id FROM documents d JOIN chunks c ON c.doc_id = d.id "
                    f"WHERE d.path = ? AND +c.kind IN ({marks}) ORDER BY c.id LIMIT ?",
                    (path, *kinds, limit - taken),
                ):
                    out[cid] = max(out.get(cid, 0.0), score)
                    taken += 1
        if syms and want_code:
            wanted = set(syms)
            paths = sorted({node.partition("::")[0] for node in syms})
            quals = sorted({node.partition("::")[2] for node in syms})
            pm, qm = (",".join("?" * len(names)) for names in (paths, quals))
            # Both names filter in SQLite: by path alone, ~700 rows a search came back to
            # Python (every symbol of the files) for the few dozen wanted.
            for path, qual, cid in self.db.execute(
                f"SELECT path, qualname, chunk_id FROM symbols WHERE path IN ({pm}) "
                f"AND qualname IN ({qm}) AND chunk_id IS NOT NULL",
                (*paths, *quals),
            ):
                node = f"{path}::{qual}"
                if node in wanted:
                    out[cid] = max(out.get(cid, 0.0), score_of[f"sym:{node}"])
        if mems and want_memory:
            mm = ",".join("?" * len(mems))
            for cid, ref in self.db.execute(
                # `+kind`: without statistics the planner would walk chunks_kind (every
                # memory chunk) instead of looking the few refs up in chunks_ref.
                f"SELECT id, ref FROM chunks WHERE ref IN ({mm}) AND +kind IN ({marks}) "
                "AND status = 'active'",
                (*mems, *kinds),
            ):
                out[cid] = max(out.get(cid, 0.0), score_of[f"mem:{ref}"])
        return sorted(out.items(), key=lambda kv: -kv[1])[:limit]

    # ---- fusion --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        kinds: Sequence[str] = CODE_KINDS + MEMORY_KINDS,
        k: int = 10,
        *,
        seeds: dict[str, float] | None = None,
        weights: Weights | None = None,
        query_vec: np.ndarray | None = None,
        use_dense: bool = True,
        active_only: bool = True,
        pool: int = 50,
        diversify: bool = True,
        rank_files: bool = True,
    ) -> list[Hit]:
        """The k best chunks of the given kinds for `query`, fused and de-duplicated.

        With code kinds and `rank_files`, files are ranked too (`self.ranked_files`) and code
        chunks follow that ranking: the best chunk of each of the top `k` files leads (fetched
        even when no chunk ranker put it in the pool), a file's later chunks come after.
        """
        weights = weights or Weights()
        terms = query_terms(query)
        # A code search ranks files too, from deeper pools; chunk fusion uses the first `pool`.
        # Files are ranked only when every code kind is wanted: a file's best chunk may be of
        # any kind, and a search for docs or symbols alone must not return other kinds.
        code = set(CODE_KINDS) <= set(kinds)
        key = _lexical_key(terms, kinds, pool, rank_files, active_only)
        # Vectors and graph first: a prefetched BM25 search is still running meanwhile.
        t1 = time.perf_counter()
        if use_dense and query_vec is None:
            query_vec = embed_query(query)
        dense_all = self.dense(query_vec, kinds, key.limit, active_only) if use_dense else []
        dense = dense_all[:pool]
        t2 = time.perf_counter()
        graph = self.graph_rank(seeds or {}, kinds, pool)
        t3 = time.perf_counter()
        lexical_all = self._lexical_or_pending(key)
        lexical = lexical_all[:pool]
        self.timings = {"bm25": time.perf_counter() - t3, "dense": t2 - t1, "graph": t3 - t2}
        fused: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        for name, ranking, weight in (
            ("bm25", lexical, weights.bm25),
            ("dense", dense, weights.dense),
            ("graph", graph, weights.graph * 0.5),
        ):
            scores = _normalised(ranking)
            for rank, (cid, _) in enumerate(ranking, 1):
                fused[cid] = fused.get(cid, 0.0) + weight * scores[cid]
                ranks.setdefault(cid, {})[name] = rank
        files: list[RankedFile] = []
        if code and rank_files:
            t4 = time.perf_counter()
            files = self.ranked_files = self._rank_files(
                terms, lexical_all, dense_all, fused, k, query
            )
            self.timings["files"] = time.perf_counter() - t4
        if not fused:
            return []
        hits = self.fetch(list(fused))
        now = time.time()
        for cid, hit in hits.items():
            hit.ranks = ranks.get(cid, {})
            score = fused[cid]
            if hit.is_memory and weights.recency and hit.updated:
                age_days = max(0.0, (now - hit.updated) / 86400)
                score += weights.recency * 0.3 * math.exp(-age_days / 180)
            hit.score = score * FUSED_SCALE
        if any(kind in MEMORY_KINDS for kind in kinds):
            self._memory_context(hits, kinds, query, weights, keep=max(3 * k, 30))
        ordered = sorted(hits.values(), key=lambda h: -h.score)
        if files:  # code follows the file ranking (see `filerank.order_by_files`)
            ordered = order_by_files(ordered, files)
        chosen = mmr(ordered, k, query_vec, self) if diversify else ordered[:k]
        for hit in chosen:  # what each kept hit matched, for its `why` (substring test: cheap)
            hit.matched = matched_terms(terms, f"{hit.title} {hit.path} {hit.text}".lower())
        return chosen

    def timeline(self) -> Timeline:
        """The index's active memories in the order they were written: read again only when
        they changed, not at every index change (an edited code file left 5k memories as they
        were, and reading them again cost ~30 ms of the next brief)."""
        generation = get_meta(self.db, "generation", "0")
        if self._timeline is not None and generation == self._timeline_gen:
            return self._timeline
        self._timeline_gen = generation
        marks = ",".join("?" * len(MEMORY_KINDS))
        state = self.db.execute(
            f"SELECT count(*), total(id), total(created) FROM chunks WHERE kind IN ({marks}) "
            "AND status = 'active' AND created IS NOT NULL",
            MEMORY_KINDS,
        ).fetchone()
        if self._timeline is None or state != self._timeline_state:
            self._timeline = Timeline.load(self.db, MEMORY_KINDS)
            self._timeline_state = state
        return self._timeline

    def _memory_context(
        self, hits: dict[int, Hit], kinds: Sequence[str], query: str, weights: Weights, keep: int
    ) -> None:
        """Memories written beside a scored memory borrow part of its score (`neighbours`),
        memories written in the period the request names gain (`dates`), and every memory gains
        from the best memory of its session (`neighbours.session_bonus`). A memory the rankers
        missed joins `hits` when its new score places it among the best `keep`, and says where
        its score came from."""
        timeline = self.timeline()
        own = {cid: h.score for cid, h in hits.items() if h.is_memory}
        borrowers = [kind for kind in kinds if kind in CONTEXT_KINDS]
        loans = lend(own, timeline, share=weights.context, kinds=borrowers)
        window = date_window(query) if weights.when > 0 else None
        if not loans and window is None and weights.session <= 0:
            return
        final = {cid: h.score for cid, h in hits.items()}
        for cid, lent in loans.items():
            final[cid] = own.get(cid, 0.0) + lent.amount
        dated: set[int] = set()
        if window is not None:
            for cid in final:
                hit = hits.get(cid)
                when = timeline.written.get(cid) if hit is None else hit.created
                when = when if hit is None or hit.is_memory else None
                near = window.closeness(when) if when else 0.0
                if near > 0.01:
                    final[cid] += weights.when * near * FUSED_SCALE
                    dated.add(cid)
        if weights.session > 0:
            memories = {c: v for c, v in final.items() if c not in hits or hits[c].is_memory}
            gains = session_bonus(memories, timeline, weights.session * FUSED_SCALE, borrowers)
            for cid, extra in gains.items():
                final[cid] += extra
        cutoff = sorted(final.values(), reverse=True)[min(keep, len(final)) - 1]
        hits.update(self.fetch([c for c in loans if c not in hits and final[c] >= cutoff]))
        for cid, hit in hits.items():
            hit.score = final[cid]
            if cid in dated and window is not None:
                hit.ranks["when"] = 1
                hit.named = hit.named or f"written when the request says ({window.text})"
            loan = loans.get(cid)
            if loan is None:
                continue
            hit.ranks["beside"] = loan.steps
            if loan.amount > own.get(cid, 0.0) and not hit.named:
                lender = hits[loan.lender]
                hit.named = f"written beside {lender.ref} ({lender.title[:60]}), which matches"

    def _rank_files(
        self,
        terms: list[str],
        lexical: list[tuple[int, float]],
        dense: list[tuple[int, float]],
        fused: dict[int, float],
        k: int,
        query: str = "",
    ) -> list[RankedFile]:
        """Rank files from the pools' code chunks; a top file with no chunk in `fused` joins it
        through its best chunk (fused score 0: its file's score carries it)."""
        ranked = self.files.rank(
            terms, lexical, dense, k=max(k, 10), request=query, known_paths=self._known_paths
        )
        for f in ranked[:k]:
            if f.best_chunk is not None and f.best_chunk not in fused:
                fused[f.best_chunk] = 0.0
        return ranked


# A BM25 answer from the worker: (chunk id, score) best first, and the code chunks' paths.
LexicalAnswer = tuple[list[tuple[int, float]], dict[int, str]]


@dataclass(frozen=True)
class LexicalKey:
    """What one BM25 search is: a prefetched answer is used only by the search it was for."""

    terms: tuple[str, ...]
    kinds: tuple[str, ...]
    limit: int
    active_only: bool


def _lexical_key(
    terms: Sequence[str], kinds: Sequence[str], pool: int, rank_files: bool, active_only: bool
) -> LexicalKey:
    # A code search that ranks files reads deeper pools (`FILE_POOL`) than the chunks it fuses.
    deep = max(pool, FILE_POOL) if set(CODE_KINDS) <= set(kinds) and rank_files else pool
    return LexicalKey(tuple(terms), tuple(kinds), deep, active_only)


def mmr(
    hits: list[Hit], k: int, query_vec: np.ndarray | None, retriever: Retriever, lam: float = 0.75
) -> list[Hit]:
    """Maximal marginal relevance: drop near-duplicates (same span, or very similar vectors)."""
    chosen: list[Hit] = []
    spans: set[tuple[str, int | None]] = set()
    vecs = retriever.vectors
    use_vec = query_vec is not None and len(vecs.ids) > 0
    found = vecs.vectors([h.chunk_id for h in hits]) if use_vec else {}
    # The kept hits' vectors, one row each (a matrix product per hit, not k dot products).
    dim = len(next(iter(found.values()))) if found else 0
    chosen_vecs = np.zeros((max(k, 0), dim), dtype=np.float32) if found else None
    n_vecs = 0
    top = hits[0].score if hits else 1.0
    for hit in hits:
        if len(chosen) >= k:
            break
        if (hit.ref, hit.start_line) in spans:
            continue
        vec = found.get(hit.chunk_id)
        if vec is not None and chosen_vecs is not None:
            if n_vecs:
                sim = float((chosen_vecs[:n_vecs] @ vec).max())
                if sim > 0.97 or lam * hit.score / top - (1 - lam) * sim < -0.2:
                    continue
            chosen_vecs[n_vecs] = vec
            n_vecs += 1
        spans.add((hit.ref, hit.start_line))
        chosen.append(hit)
    return chosen
