"""Migration m009 drops `chunks.tokens`; on SQLite without DROP COLUMN it copies the table,
and both ways leave the same columns, rows and indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from kenning.index.schema import drop_chunk_tokens


def _index_before_m009(index_before: Callable[[str], sqlite3.Connection]) -> sqlite3.Connection:
    db = index_before("m009")
    with db:
        db.execute(
            "INSERT INTO documents (id, path, source, mtime, size, hash) "
            "VALUES (1, 'a.py', 'repo', 0, 0, '')"
        )
        for n in range(3):
            db.execute(
                "INSERT INTO chunks (doc_id, kind, ref, path, title, text, tokens, hash, created) "
                "VALUES (1, 'symbol', ?, 'a.py', ?, 'def f(): pass', 7, ?, 1.5)",
                (f"a.py:{n}-{n}", f"f{n}", f"h{n}"),
            )
    return db


def _shape(db: sqlite3.Connection) -> tuple[object, ...]:
    columns = [(r[1], r[2], r[3], r[4], r[5]) for r in db.execute("PRAGMA table_info(chunks)")]
    indexes = sorted(r[1] for r in db.execute("PRAGMA index_list(chunks)"))
    rows = db.execute("SELECT * FROM chunks ORDER BY id").fetchall()
    return columns, indexes, rows


@pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 35, 0), reason="no DROP COLUMN here")
def test_the_copy_leaves_what_drop_column_leaves(
    index_before: Callable[[str], sqlite3.Connection],
) -> None:
    native, copied = _index_before_m009(index_before), _index_before_m009(index_before)
    with native:
        drop_chunk_tokens(native, native=True)
    with copied:
        drop_chunk_tokens(copied, native=False)
    assert _shape(copied) == _shape(native)
    columns, indexes, rows = _shape(copied)
    assert "tokens" not in [c[0] for c in columns]
    assert indexes == ["chunks_doc", "chunks_kind", "chunks_ref"] and len(rows) == 3
    # The copy still cascades from its document, like the table it replaced.
    with copied:
        copied.execute("DELETE FROM documents WHERE id = 1")
    assert copied.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0
