"""Scores shared by every suite: recall@k, hit@k, latency percentiles, and a plain BM25 baseline.

The baseline is deliberately plain (Okapi BM25, k1 1.5, b 0.75, Lucene's idf, words lowercased,
English stop words dropped, no stemming, no identifier splitting): it is the floor every suite
compares kenning against, so it must not borrow any of kenning's tricks.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

K_VALUES = (1, 3, 5, 10)

_WORD = re.compile(r"\w+")

# The NLTK English list: the usual choice of a "plain" baseline, and the one the floor in
# ../shared/bench/README.md reproduces with.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom this
    that these those am is are was were be been being have has had having do does did doing a an
    the and but if or because as until while of at by for with about against between into through
    during before after above below to from up down in out on off over under again further then
    once here there when where why how all any both each few more most other some such no nor not
    only own same so than too very s t can will just don should now""".split()
)


def words(text: str) -> list[str]:
    """The baseline's tokens: lowercase word characters, stop words dropped."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


class BM25:
    """Okapi BM25 over an in-memory list of documents (an inverted index of term counts)."""

    def __init__(
        self,
        docs: Sequence[Sequence[str]] | Sequence[Counter[str]],
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        self.k1 = k1
        self.b = b
        counts = [d if isinstance(d, Counter) else Counter(d) for d in docs]
        self.n = len(counts)
        self.lengths = [sum(c.values()) for c in counts]
        self.avg = (sum(self.lengths) / self.n) if self.n else 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, c in enumerate(counts):
            for term, tf in c.items():
                self.postings[term].append((i, tf))

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, query: Iterable[str]) -> list[float]:
        """One score per document (each distinct query term counted once)."""
        out = [0.0] * self.n
        k1, b, avg = self.k1, self.b, self.avg or 1.0
        for term in dict.fromkeys(query):
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for i, tf in postings:
                out[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * self.lengths[i] / avg))
        return out

    def top(self, query: Iterable[str], k: int) -> list[int]:
        """Indexes of the k best documents (documents with score 0 are never returned)."""
        scored = [(s, i) for i, s in enumerate(self.scores(query)) if s > 0]
        scored.sort(key=lambda si: (-si[0], si[1]))
        return [i for _, i in scored[:k]]


def recall_at(gold: Iterable[str], ranked: Sequence[str], k: int) -> float:
    """|gold ∩ top-k| / |gold| (0 when there is no gold)."""
    wanted = set(gold)
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


def hit_at(gold: Iterable[str], ranked: Sequence[str], k: int) -> float:
    """1 when any gold item is in the top k."""
    return 1.0 if set(gold) & set(ranked[:k]) else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_summary(ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of latencies in milliseconds."""
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 3),
        "p95": round(percentile(ms, 95), 3),
        "p99": round(percentile(ms, 99), 3),
        "mean": round(sum(ms) / len(ms), 3) if ms else 0.0,
        "max": round(max(ms), 3) if ms else 0.0,
    }


@dataclass
class RecallTable:
    """Accumulates per-query recall@k and hit@k, grouped (by category, say) and overall."""

    ks: tuple[int, ...] = K_VALUES
    recall: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    hit: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    tokens: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    empty: int = 0

    def add(
        self,
        gold: Iterable[str],
        ranked: Sequence[str],
        group: str | None = None,
        tokens: int | None = None,
        ms: float | None = None,
    ) -> None:
        gold = list(gold)
        if not ranked:
            self.empty += 1
        for name in ("all", group) if group is not None else ("all",):
            rec = self.recall.setdefault(name, {k: [] for k in self.ks})
            hits = self.hit.setdefault(name, {k: [] for k in self.ks})
            for k in self.ks:
                rec[k].append(recall_at(gold, ranked, k))
                hits[k].append(hit_at(gold, ranked, k))
        if tokens is not None:
            self.tokens.append(tokens)
        if ms is not None:
            self.latency_ms.append(ms)

    def summary(self) -> dict[str, object]:
        """A JSON-ready dict: per group n, recall@k and hit@k; tokens and latency overall."""
        groups: dict[str, object] = {}
        for name in sorted(self.recall, key=lambda g: (g != "all", g)):
            rec = self.recall[name]
            hits = self.hit[name]
            n = len(rec[self.ks[0]])
            groups[name] = {
                "n": n,
                "recall": {str(k): round(sum(v) / n, 4) if n else 0.0 for k, v in rec.items()},
                "hit": {str(k): round(sum(v) / n, 4) if n else 0.0 for k, v in hits.items()},
            }
        out: dict[str, object] = {"groups": groups, "empty": self.empty}
        if self.tokens:
            out["tokens"] = {
                "mean": round(sum(self.tokens) / len(self.tokens), 1),
                "p50": percentile(self.tokens, 50),
                "max": max(self.tokens),
            }
        if self.latency_ms:
            out["latency_ms"] = latency_summary(self.latency_ms)
        return out
