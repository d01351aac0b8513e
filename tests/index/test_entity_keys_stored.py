"""Derived entity keys live in the index: an upgraded index links like a fresh build, and a
new memory gets its vector at once even behind a backlog of unembedded chunks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kenning.engine.link import EntityTable, IndexedEntities, find_mentions
from kenning.index.schema import MIGRATIONS, migrate
from kenning.workspace import Workspace

REQUESTS = [
    "fix send_email in app/mailer.py",
    "why does Mailer.sendEmail retry",
    "the retry module's backoff is too aggressive",
    "ask the client about refunds",
    "change backof delays",  # a typo
]


def _links(table: EntityTable, text: str) -> list[tuple[str, bool]]:
    return [(m.node, m.strong) for m in find_mentions(text, table)]


def test_an_index_from_before_stored_keys_is_upgraded_in_place(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    ws.remember("Dana Reyes approves payment changes.", "person", aliases=["the client"])
    names = ws.db.execute(
        "SELECT norm, name, node, type, doc_id FROM entities WHERE derived = 0 ORDER BY rowid"
    ).fetchall()
    documents = ws.db.execute(
        "SELECT id, path, source, mtime, size, hash FROM documents"
    ).fetchall()
    fresh = IndexedEntities(ws.db)
    expected = {text: _links(fresh, text) for text in REQUESTS}
    assert any(expected.values())
    # The same names in an index made by the migrations before m007 (no derived keys).
    old = sqlite3.connect(tiny / "old.sqlite3")
    for name, func in MIGRATIONS:
        if name.startswith("m007"):
            break
        with old:
            func(old)
    with old:
        old.executemany(
            "INSERT INTO documents (id, path, source, mtime, size, hash) VALUES (?, ?, ?, ?, ?, ?)",
            documents,
        )
        old.executemany(
            "INSERT INTO entities (norm, name, node, type, doc_id) VALUES (?, ?, ?, ?, ?)", names
        )
        old.execute("CREATE TABLE _kenning_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        old.executemany(
            "INSERT INTO _kenning_migrations (name) VALUES (?)",
            [(n,) for n, _ in MIGRATIONS if n < "m007"],
        )
    assert migrate(old) == [n for n, _ in MIGRATIONS if n >= "m007"]
    upgraded = IndexedEntities(old)
    in_memory = EntityTable.load(old)
    for text in REQUESTS:
        assert _links(upgraded, text) == expected[text], text
        assert _links(in_memory, text) == expected[text], text


def test_a_new_memory_is_embedded_before_the_backlog(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    for n in range(40):
        ws.store.add(f"Backlog note {n}: unrelated detail number {n} about topic {n * 7}", "note")
    ws.index(embed=False)  # 40 memories and the code, none embedded
    pending = ws.db.execute(
        "SELECT count(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM vectors)"
    ).fetchone()[0]
    assert pending > 40
    memory = ws.remember("Payments retry at most three times before paging on-call.", "decision")
    row = ws.db.execute(
        "SELECT count(*) FROM vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.ref = ?",
        (memory.id,),
    ).fetchone()
    assert row[0] == 1
