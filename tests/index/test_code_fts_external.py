"""The code FTS table keeps no copy of the chunks' text (m011): it reads them back from `chunks`.

An old index migrates to it with the same BM25 answers, and the index stays consistent (FTS5's
own integrity check against the content) through edits and deletions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from kenning.index.prepare import chunk_row
from kenning.index.schema import MIGRATIONS
from kenning.workspace import Workspace

CODE = [
    ("def retry_with_backoff(attempts):\n    return [2**n for n in range(attempts)]", "backoff"),
    ("class WebhookSender:\n    def send(self, payload):\n        post(payload)", "WebhookSender"),
    ("def parse_HTTPHeader(raw):\n    return raw.split(':', 1)", "parse_HTTPHeader"),
]
QUERIES = ['"webhook" OR "sender"', '"backoff"', '"http" OR "header"', '"payload"']


def _search(db: sqlite3.Connection, query: str) -> list[tuple[int, float]]:
    rows = db.execute(
        "SELECT rowid, round(bm25(chunks_fts, 4.0, 1.0), 9) FROM chunks_fts "
        "WHERE chunks_fts MATCH ? ORDER BY rowid",
        (query,),
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def _index_before_m011(index_before: Callable[[str], sqlite3.Connection]) -> sqlite3.Connection:
    db = index_before("m011")
    with db:
        db.execute(
            "INSERT INTO documents (id, path, source, mtime, size, hash) "
            "VALUES (1, 'app/hooks.py', 'repo', 0, 0, '')"
        )
        for n, (text, symbol) in enumerate(CODE, 1):
            row = chunk_row(
                "symbol", f"app/hooks.py::{symbol}", text, symbol, n, n, search_extra="app hook"
            )
            db.execute(
                "INSERT INTO chunks (id, doc_id, kind, ref, path, title, text, hash) "
                "VALUES (?, 1, 'symbol', ?, 'app/hooks.py', ?, ?, ?)",
                (n, f"app/hooks.py:{n}-{n}", row.title, row.text, row.hash),
            )
            db.execute(
                "INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)",
                (n, row.fts_title, row.fts_body),
            )
        db.execute(
            "INSERT INTO chunks (id, doc_id, kind, ref, path, title, text, hash) "
            "VALUES (9, 1, 'rule', 'never-block', 'm.md', 'Never block', 'Never block the webhook', 'h')"
        )
        db.execute(
            "INSERT INTO memory_fts (rowid, title, body) VALUES "
            "(9, 'Never block', 'Never block the webhook')"
        )
    return db


def test_an_old_index_migrates_with_the_same_answers(
    index_before: Callable[[str], sqlite3.Connection],
) -> None:
    db = _index_before_m011(index_before)
    before = {q: _search(db, q) for q in QUERIES}
    assert all(before.values())
    migration = dict(MIGRATIONS)["m011_code_fts_reads_chunks"]
    with db:
        migration(db)
    assert {q: _search(db, q) for q in QUERIES} == before
    db.execute("INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "chunks_fts_content" not in tables  # no second copy of the text
    extra = dict(db.execute("SELECT id, fts_extra FROM chunks").fetchall())
    assert extra[9] is None and all(extra[n] for n in (1, 2, 3))
    assert "webhook sender" in extra[2] and extra[2].endswith("app hook")
    # The memory's own FTS table is untouched.
    assert db.execute("SELECT rowid FROM memory_fts WHERE memory_fts MATCH 'block'").fetchall() == [
        (9,)
    ]


def test_edits_and_deletions_keep_the_code_fts_consistent(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)

    def check() -> None:
        ws.db.execute("INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)")

    check()
    assert "chunks_fts_content" not in {
        r[0] for r in ws.db.execute("SELECT name FROM sqlite_master")
    }
    retry = tiny / "app" / "retry.py"
    retry.write_text("def jittered_delay(n):\n    return n * 1.5\n")
    ws.index(embed=False)
    check()
    assert [h.path for h in ws.search("jittered delay", kind="code")][:1] == ["app/retry.py"]
    assert _matching(ws, "jittered") == ["app/retry.py"]
    assert _matching(ws, "exponential") == []  # the old text's words left with it
    assert _matching(ws, "backoff") == ["app/mailer.py"]
    retry.unlink()
    ws.index(embed=False)
    check()
    assert _matching(ws, "jittered") == []
    rows = ws.db.execute("SELECT count(*) FROM chunks_fts_docsize").fetchone()[0]
    assert rows == ws.db.execute("SELECT count(*) FROM chunks_fts_source").fetchone()[0]
    ws.close()


def _matching(ws: Workspace, word: str) -> list[str]:
    """The paths whose code chunks the FTS index says hold `word` (rowids kept, no join)."""
    ids = [
        r[0]
        for r in ws.db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (word,))
    ]
    paths = {ws.db.execute("SELECT path FROM chunks WHERE id = ?", (i,)).fetchone() for i in ids}
    assert None not in paths, "an FTS row outlived its chunk"
    return sorted(p[0] for p in paths if p)
