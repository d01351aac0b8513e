"""Personalized PageRank over the index's edges (imports, co-change, mentions, supersedes,
contains), started from the entities a request names.

The graph is loaded once per index generation into numpy arrays; one iteration is a weighted
scatter-add over the edge list (`np.bincount`), so a few hundred thousand edges take a few
milliseconds per iteration with no sparse-matrix library.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from kenning.index.db import get_meta

EDGE_WEIGHTS = {"import": 1.0, "cochange": 0.6, "mention": 1.2, "supersedes": 0.5, "contains": 0.8}


class Graph:
    """Nodes and weighted, symmetric edges of one index, reloaded when the index changes."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.index: dict[str, int] = {}
        self.nodes: list[str] = []
        self.src = np.zeros(0, dtype=np.int64)
        self.dst = np.zeros(0, dtype=np.int64)
        self.weight = np.zeros(0, dtype=np.float64)
        # The last answer: a brief ranks code and then memories from the same seeds, and one
        # PageRank over a large graph costs far more than the rest of the graph stage.
        self._last: tuple[object, dict[str, float]] | None = None

    def refresh(self, db: sqlite3.Connection) -> None:
        generation = f"{get_meta(db, 'generation', '0')}:{get_meta(db, 'cochange_head', '')}"
        if generation == self.generation:
            return
        self.generation = generation
        index: dict[str, int] = {}
        src: list[int] = []
        dst: list[int] = []
        weight: list[float] = []
        for a, b, kind, w in db.execute("SELECT src, dst, kind, weight FROM edges"):
            ia = index.setdefault(a, len(index))
            ib = index.setdefault(b, len(index))
            base = EDGE_WEIGHTS.get(kind, 0.5) * (1.0 + np.log1p(w - 1.0) if w > 1 else 1.0)
            src += [ia, ib]
            dst += [ib, ia]
            weight += [base, base]
        self.index = index
        self.nodes = list(index)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        w_arr = np.asarray(weight, dtype=np.float64)
        out_sum = (
            np.bincount(self.src, weights=w_arr, minlength=len(index)) if len(index) else w_arr
        )
        self.weight = (
            w_arr / np.where(out_sum[self.src] > 0, out_sum[self.src], 1.0) if len(w_arr) else w_arr
        )

    def personalized_pagerank(
        self, seeds: dict[str, float], alpha: float = 0.8, iterations: int = 16
    ) -> dict[str, float]:
        """Scores of the nodes reachable from `seeds` (restart probability 1 - alpha).

        The returned dict is shared with the next call for the same seeds: do not modify it.
        """
        key = (self.generation, tuple(sorted(seeds.items())), alpha, iterations)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        scores = self._pagerank(seeds, alpha, iterations)
        self._last = (key, scores)
        return scores

    def _pagerank(self, seeds: dict[str, float], alpha: float, iterations: int) -> dict[str, float]:
        n = len(self.nodes)
        start = np.zeros(n, dtype=np.float64)
        for node, value in seeds.items():
            i = self.index.get(node)
            if i is not None:
                start[i] += value
        total = start.sum()
        if n == 0 or total <= 0:
            return {}
        start /= total
        rank = start.copy()
        for _ in range(iterations):
            spread = np.bincount(self.dst, weights=rank[self.src] * self.weight, minlength=n)
            rank = (1 - alpha) * start + alpha * spread
        nonzero = np.nonzero(rank > 1e-6)[0]
        return {self.nodes[i]: float(rank[i]) for i in nonzero}
