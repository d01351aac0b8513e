"""Term pruning for FTS5 BM25: near-universal terms go, and the ranking does not change."""

from __future__ import annotations

import sqlite3

from kenning.engine.lexical import LexicalSearch, prune
from kenning.index.terms import fts_query


def test_universal_terms_go_and_common_ones_go_when_a_specific_one_remains() -> None:
    df = {"src": 900, "error": 300, "retry": 12, "webhook": 4}
    assert prune(["src", "error", "retry", "webhook"], df, 1000) == ["retry", "webhook"]
    assert prune(["src", "error"], df, 1000) == ["error"]  # nothing more specific: keep it
    assert prune(["src"], df, 1000) == ["src"]  # never an empty query
    assert prune(["retry", "unknown"], df, 1000) == ["retry", "unknown"]
    assert prune(["src", "error"], df, 0) == ["src", "error"]


def _table(rows: list[str]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body)")
    db.executemany("INSERT INTO t (rowid, title, body) VALUES (?, '', ?)", enumerate(rows, 1))
    return db


def _top(db: sqlite3.Connection, terms: list[str], k: int = 10) -> list[int]:
    sql = "SELECT rowid, bm25(t, 4.0, 1.0) AS s FROM t WHERE t MATCH ? ORDER BY s LIMIT ?"
    return [r[0] for r in db.execute(sql, (fts_query(terms), k))]


def test_dropping_a_term_in_most_rows_keeps_the_ranking() -> None:
    rows = [f"src module number {n}" for n in range(3000)]
    rows[10] = "src webhook retry backoff"
    rows[20] = "src webhook sender"
    rows[30] = "retry policy for src jobs"
    db = _table(rows)
    search = LexicalSearch(db, "t")
    assert search.document_frequency("src") == 3000
    assert search.document_frequency("webhook") == 2
    kept = search.terms_for(["src", "webhook", "retry"])
    assert kept == ["webhook", "retry"]
    assert _top(db, kept, 3) == _top(db, ["src", "webhook", "retry"], 3) == [11, 21, 31]


def test_small_tables_are_searched_with_every_term() -> None:
    db = _table(["src a", "src b", "webhook src"])
    assert LexicalSearch(db, "t").terms_for(["src", "webhook"]) == ["src", "webhook"]
