"""Personalized PageRank over the index's edges (imports, co-change, mentions, supersedes),
started from the entities a request names.

Symbols are nodes only where an edge names them (a memory mentioning a function), each tied to
its file. A symbol that only its file links to would hold the same rank as every other symbol of
that file, so it tells the ranking nothing, and at 10k files those symbols were 160k of 177k
nodes (most of the graph's memory and time). A request that names such a symbol seeds its file,
and the symbol is ranked as a seed (see `_ranks`).

The graph is loaded once per index generation into numpy arrays; one iteration is a weighted
scatter-add over the edge list (`np.bincount`), so a few hundred thousand edges take a few
milliseconds per iteration with no sparse-matrix library.
"""

from __future__ import annotations

import sqlite3
from array import array

import numpy as np

from kenning.index.db import get_meta

# Rank below this (of a total of 1) is not spread further: it cannot reach a top result.
# Power iterations: 0.8^8 of the mass is still moving after eight, but the nodes near the seeds
# (the only ones a packet takes) are settled. `python bench/approximations.py` on the 10k-file
# corpus (80 generated requests, ~50 seeds each): the top 60 hold 92 % of the exact top 50 (30
# iterations, every node spreading, 19 ms) in 2 ms.
PUSH_FLOOR = 2e-5
ITERATIONS = 8
EDGE_WEIGHTS = {"import": 1.0, "cochange": 0.6, "mention": 1.2, "supersedes": 0.5, "contains": 0.8}


def file_of(node: str) -> str | None:
    """The file node a symbol node (`sym:<path>::<qualname>`) belongs to."""
    if not node.startswith("sym:"):
        return None
    path, sep, _ = node[4:].partition("::")
    return f"file:{path}" if sep else None


class Graph:
    """Nodes and weighted, symmetric edges of one index, reloaded when the index changes."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.index: dict[str, int] = {}
        self.nodes: list[str] = []
        self.src = np.zeros(0, dtype=np.int64)
        self.dst = np.zeros(0, dtype=np.int64)
        self.weight = np.zeros(0, dtype=np.float64)
        self.indptr = np.zeros(1, dtype=np.int64)
        # The last answer: a brief ranks code and then memories from the same seeds, and one
        # PageRank over a large graph costs far more than the rest of the graph stage.
        self._last: tuple[object, tuple[np.ndarray, dict[str, float]] | None] | None = None

    def refresh(self, db: sqlite3.Connection) -> None:
        generation = f"{get_meta(db, 'generation', '0')}:{get_meta(db, 'cochange_head', '')}"
        if generation == self.generation:
            return
        self.generation = generation
        self._last = None
        index: dict[str, int] = {}
        # Typed arrays, not lists: 470k Python ints and floats were ~30 MB of a server's memory
        # for the length of a refresh, and the allocator kept most of it afterwards.
        ends = array("q")
        kinds = array("d")
        counts = array("d")
        for a, b, kind, w in db.execute("SELECT src, dst, kind, weight FROM edges"):
            ends.append(index.setdefault(a, len(index)))
            ends.append(index.setdefault(b, len(index)))
            kinds.append(EDGE_WEIGHTS.get(kind, 0.5))
            counts.append(w)
        for node in [n for n in index if n.startswith("sym:")]:
            parent = file_of(node)
            if parent is not None:
                ends.append(index[node])
                ends.append(index.setdefault(parent, len(index)))
                kinds.append(EDGE_WEIGHTS["contains"])
                counts.append(1.0)
        self.index = index
        self.nodes = list(index)
        pairs = np.frombuffer(ends, dtype=np.int64).reshape(-1, 2)
        times = np.frombuffer(counts, dtype=np.float64)
        base = np.frombuffer(kinds, dtype=np.float64) * np.where(
            times > 1, 1.0 + np.log1p(np.maximum(times, 1.0) - 1.0), 1.0
        )
        # Symmetric: each edge both ways, then sorted by source so that the out-edges of any
        # set of nodes are a few slices (`_pagerank` walks only the edges of ranked nodes).
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        w_arr = np.concatenate([base, base])
        order = np.argsort(src, kind="stable")
        self.src, self.dst, w_arr = src[order], dst[order], w_arr[order]
        n = len(index)
        out_sum = np.bincount(self.src, weights=w_arr, minlength=n)
        self.weight = w_arr / np.where(out_sum[self.src] > 0, out_sum[self.src], 1.0)
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(self.src, minlength=n))])

    def personalized_pagerank(
        self, seeds: dict[str, float], alpha: float = 0.8, iterations: int = ITERATIONS
    ) -> dict[str, float]:
        """Scores of the nodes reachable from `seeds` (restart probability 1 - alpha).

        The returned dict is shared with the next call for the same seeds: do not modify it.
        """
        ranked = self._ranks(seeds, alpha, iterations)
        if ranked is None:
            return {}
        rank, leaves = ranked
        nonzero = np.nonzero(rank > 1e-6)[0]
        return {**{self.nodes[i]: float(rank[i]) for i in nonzero}, **leaves}

    def top(
        self, seeds: dict[str, float], n: int, alpha: float = 0.8, iterations: int = ITERATIONS
    ) -> list[tuple[str, float]]:
        """The `n` best-scored nodes, best first: ranked in numpy, not by sorting every reached
        node in Python (at 10k files a brief's seeds reach ~20k nodes)."""
        ranked = self._ranks(seeds, alpha, iterations)
        if ranked is None or n <= 0:
            return []
        rank, leaves = ranked
        live = np.nonzero(rank > 1e-6)[0]
        if len(live) > n:
            live = live[np.argpartition(-rank[live], n - 1)[:n]]
        best = [(self.nodes[i], float(rank[i])) for i in live] + list(leaves.items())
        best.sort(key=lambda pair: -pair[1])
        return best[:n]

    def _ranks(
        self, seeds: dict[str, float], alpha: float, iterations: int
    ) -> tuple[np.ndarray, dict[str, float]] | None:
        """Node ranks, and the ranks of seeds that are not nodes ("leaves").

        A seed no edge names (a file with no imports, a symbol only its file holds) keeps the
        restart share of its seed, what a node linked to little or nothing would hold; a symbol's
        seed also starts a walk at its file, as the walk through the symbol would have.
        """
        key = (self.generation, tuple(sorted(seeds.items())), alpha, iterations)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        placed: dict[int, float] = {}
        leaves: dict[str, float] = {}
        for node, value in seeds.items():
            if value <= 0:
                continue
            i = self.index.get(node)
            if i is None:
                leaves[node] = value
                i = self.index.get(file_of(node) or "")
            if i is not None:
                placed[i] = placed.get(i, 0.0) + value
        total = sum(v for v in seeds.values() if v > 0)
        result = None
        if total > 0:
            rank = self._pagerank(placed, total, alpha, iterations)
            share = {node: (1 - alpha) * v / total for node, v in leaves.items()}
            result = (rank, share)
        self._last = (key, result)
        return result

    def _pagerank(
        self, placed: dict[int, float], total: float, alpha: float, iterations: int
    ) -> np.ndarray:
        n = len(self.nodes)
        start = np.zeros(n, dtype=np.float64)
        for i, value in placed.items():
            start[i] = value / total
        rank = start.copy()
        for _ in range(iterations):
            # Only nodes holding some rank spread it: the walk stays near the seeds instead of
            # touching every edge of the index (~500k at 10k files) sixteen times.
            active = np.flatnonzero(rank > PUSH_FLOOR)
            first = self.indptr[active]
            sizes = self.indptr[active + 1] - first
            edges = np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            spread = np.bincount(
                self.dst[edges],
                weights=np.repeat(rank[active], sizes) * self.weight[edges],
                minlength=n,
            )
            rank = (1 - alpha) * start + alpha * spread
        return rank
