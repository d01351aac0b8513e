"""How much the brief's two speed approximations change their rankers' answers, and what they save.

    python bench/approximations.py PROJECT [--requests 80] [--out bench/results/approximations.json]

PROJECT is an indexed project: your own, or the latency suite's 10k-file corpus built with
`kenning.bench.corpus.build(root, 10000, 5000)` and `kenning -C root index --no-vectors` (the suite
itself deletes its copy). Requests are generated from the project's own names with the latency
suite's templates.

- Term pruning (`engine/lexical.py`): the code FTS query with every term against the pruned
  query; the share of the full query's top 20 found in the pruned query's top 50, and the time.
- PageRank (`engine/graph.py`): the top 50 nodes after 30 exact iterations against the top 60
  with the shipped floor and iteration count; the share kept, and the time.
- Compact vector search (`engine/vectors.py`, above 20k vectors): the exact cosine top 20
  against the top 20 of the Hamming-ranked candidates scored by their int8 vectors; the share
  of the exact top 20 kept, the time, and the memory each holds. Needs an index with vectors.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _requests(db: sqlite3.Connection, n: int) -> list[str]:
    from kenning.bench.corpus import Vocabulary, requests

    vocab = Vocabulary()
    for (path,) in db.execute("SELECT path FROM documents WHERE source = 'repo' LIMIT 2000"):
        vocab.paths.append(path)
        if path.split("/")[0] not in vocab.packages:
            vocab.packages.append(path.split("/")[0])
    for name, kind in db.execute("SELECT name, kind FROM symbols LIMIT 20000"):
        (vocab.classes if kind == "class" else vocab.functions).append(name)
    return requests(n, vocab)


def pruning(db: sqlite3.Connection, reqs: list[str]) -> dict[str, Any]:
    from kenning.engine.lexical import LexicalSearch
    from kenning.index.terms import fts_query, query_terms

    search = LexicalSearch(db, "chunks_fts")
    sql = (
        "SELECT rowid, bm25(chunks_fts, 4.0, 1.0) AS s FROM chunks_fts "
        "WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?"
    )
    kept: list[float] = []
    full_ms: list[float] = []
    pruned_ms: list[float] = []
    for request in reqs:
        terms = query_terms(request)
        if not fts_query(terms):
            continue
        started = time.perf_counter()
        full = [r[0] for r in db.execute(sql, (fts_query(terms), 20))]
        full_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        pruned = {r[0] for r in db.execute(sql, (fts_query(search.terms_for(terms)), 50))}
        pruned_ms.append((time.perf_counter() - started) * 1000)
        if full:
            kept.append(len(set(full) & pruned) / len(full))
    return {
        "requests": len(kept),
        "top20_in_top50": round(statistics.fmean(kept), 3) if kept else None,
        "worst": round(min(kept), 3) if kept else None,
        "full_ms_p50": round(statistics.median(full_ms), 2) if full_ms else None,
        "pruned_ms_p50": round(statistics.median(pruned_ms), 2) if pruned_ms else None,
    }


def pagerank(db: sqlite3.Connection, reqs: list[str]) -> dict[str, Any]:
    from kenning.engine import graph as graph_module
    from kenning.engine.link import EntityTable, find_mentions

    graph = graph_module.Graph()
    graph.refresh(db)
    table = EntityTable.load(db)
    floor = graph_module.PUSH_FLOOR
    kept: list[float] = []
    exact_ms: list[float] = []
    fast_ms: list[float] = []
    for request in reqs:
        seeds = {m.node: (1.0 if m.strong else 0.3) for m in find_mentions(request, table)}
        if not seeds:
            continue
        graph_module.PUSH_FLOOR = -1.0  # every node spreads: exact power iteration
        graph._last = None
        started = time.perf_counter()
        exact = [n for n, _ in graph.top(seeds, 50, iterations=30)]
        exact_ms.append((time.perf_counter() - started) * 1000)
        graph_module.PUSH_FLOOR = floor
        graph._last = None
        started = time.perf_counter()
        fast = {n for n, _ in graph.top(seeds, 60)}
        fast_ms.append((time.perf_counter() - started) * 1000)
        if exact:
            kept.append(len(set(exact) & fast) / len(exact))
    graph_module.PUSH_FLOOR = floor
    return {
        "requests": len(kept),
        "floor": floor,
        "iterations": graph_module.ITERATIONS,
        "exact_top50_in_top60": round(statistics.fmean(kept), 3) if kept else None,
        "worst": round(min(kept), 3) if kept else None,
        "exact_ms_p50": round(statistics.median(exact_ms), 2) if exact_ms else None,
        "shipped_ms_p50": round(statistics.median(fast_ms), 2) if fast_ms else None,
    }


def sign_search(db: sqlite3.Connection, reqs: list[str]) -> dict[str, Any]:
    from kenning.engine.vectors import VectorMatrix, embed_query

    exact, signs = VectorMatrix(), VectorMatrix()
    exact.EXACT_ROWS, signs.EXACT_ROWS = 10**9, 0
    exact.refresh(db)
    signs.refresh(db)
    if not len(exact.ids) or exact.matrix is None or signs.signs is None or signs.q8 is None:
        return {"vectors": 0, "note": "the index has no vectors"}
    kept: list[float] = []
    exact_ms: list[float] = []
    sign_ms: list[float] = []
    for request in reqs:
        query = embed_query(request)
        if query is None:
            return {"vectors": len(exact.ids), "note": "no embedding model here"}
        for span in ("code", "memory"):
            started = time.perf_counter()
            truth = {c for c, _ in exact.top(query, 20, span=span)}
            exact_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            got = {c for c, _ in signs.top(query, 20, span=span)}
            sign_ms.append((time.perf_counter() - started) * 1000)
            if truth:
                kept.append(len(truth & got) / len(truth))
    return {
        "vectors": len(exact.ids),
        "searches": len(kept),
        "candidates_per_search": signs.CANDIDATES,
        "exact_top20_kept": round(statistics.fmean(kept), 3) if kept else None,
        "worst": round(min(kept), 3) if kept else None,
        "exact_ms_p50": round(statistics.median(exact_ms), 2) if exact_ms else None,
        "signs_ms_p50": round(statistics.median(sign_ms), 2) if sign_ms else None,
        "exact_mb": round(exact.matrix.nbytes / 1e6, 1),
        "signs_and_int8_mb": round((signs.signs.nbytes + signs.q8.nbytes) / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    index = args.project / ".kenning" / "index" / "kenning.sqlite3"
    if not index.exists():
        print(f"{args.project}: no index (run `kenning -C {args.project} index`)", file=sys.stderr)
        return 2
    db = sqlite3.connect(index)
    reqs = _requests(db, args.requests)
    chunks = db.execute("SELECT count(*) FROM chunks_fts_docsize").fetchone()[0]
    result = {
        "suite": "approximations",
        "project": str(args.project),
        "code_chunks": chunks,
        "pruning": pruning(db, reqs),
        "pagerank": pagerank(db, reqs),
        "sign_search": sign_search(db, reqs),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
