"""BM25 over the index's FTS5 tables, with the request's near-universal terms pruned.

FTS5 scores every row that matches any term of an OR query, and at 10k files a word such as
`src`, `returns` or `error` matches tens of thousands of code chunks: scoring them cost ~60 ms
per search. FTS5's BM25 clamps the idf of a term found in more than half the rows to ~0, so such
a term changes no score and dropping it is lossless (`prune`). A term in more than a fifth of the
rows has an idf below log(4) ≈ 1.4, against 5–10 for the specific words beside it; when the query
keeps a more specific term, those are dropped too. `python bench/approximations.py` at 10k
files, 80 generated requests: 98.8 % of the full query's top 20 stay in the pruned query's top 50,
and the search takes 12 ms instead of 75 ms (p50).

Document frequencies are looked up per term (one FTS5 count, ~0.5 ms) and cached per index
generation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kenning.index.db import get_meta
from kenning.index.terms import fts_query

# A term in more than this share of the rows scores ~0 in FTS5's BM25 (idf clamped).
UNIVERSAL_SHARE = 0.5
# A term in more than this share of the rows is dropped when a more specific term remains.
COMMON_SHARE = 0.2


def prune(terms: Sequence[str], df: dict[str, int], rows: int) -> list[str]:
    """The terms worth matching: near-universal ones dropped, common ones dropped when a more
    specific term remains. Never empties a non-empty query of known terms."""
    if rows <= 0:
        return list(terms)
    kept = [t for t in terms if df.get(t, 0) <= UNIVERSAL_SHARE * rows]
    specific = [t for t in kept if df.get(t, 0) <= COMMON_SHARE * rows]
    if specific:
        return specific
    if kept:
        return kept
    # Every term is near-universal: keep the rarest, so the search still orders something.
    return sorted(terms, key=lambda t: df.get(t, 0))[:1]


class LexicalSearch:
    """FTS5 BM25 over one table of an index, with per-generation term statistics."""

    def __init__(self, db: sqlite3.Connection, table: str) -> None:
        self.db = db
        self.table = table
        self._generation: str | None = None
        self._rows = 0
        self._df: dict[str, int] = {}

    def _refresh(self) -> None:
        generation = get_meta(self.db, "generation", "0")
        if generation != self._generation:
            self._generation = generation
            self._df = {}
            # One %_docsize row per FTS row: a b-tree count, not a scan of the text.
            found = self.db.execute(f"SELECT count(*) FROM {self.table}_docsize").fetchone()
            self._rows = int(found[0]) if found else 0

    @property
    def rows(self) -> int:
        """How many rows the table holds (as of the index's current generation)."""
        self._refresh()
        return self._rows

    def document_frequency(self, term: str) -> int:
        """How many rows of the table hold `term` (after the table's own tokenizer)."""
        self._refresh()
        if term not in self._df:
            try:
                found = self.db.execute(
                    f"SELECT count(*) FROM {self.table} WHERE {self.table} MATCH ?",
                    (fts_query([term]),),
                ).fetchone()
                self._df[term] = int(found[0]) if found else 0
            except sqlite3.OperationalError:
                self._df[term] = 0
        return self._df[term]

    def share(self, term: str) -> float:
        """The fraction of the table's rows that hold `term` (0 for an empty table)."""
        self._refresh()
        return self.document_frequency(term) / self._rows if self._rows else 0.0

    def terms_for(self, terms: Sequence[str]) -> list[str]:
        """The pruned terms of a query (see `prune`)."""
        self._refresh()
        if self._rows < 2000 or len(terms) < 2:
            return list(terms)  # a small table: scoring everything is cheap and exact
        df = {t: self.document_frequency(t) for t in terms}
        return prune(terms, df, self._rows)
