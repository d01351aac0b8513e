"""The index schema: ordered, append-only, named migrations recorded in `_kenning_migrations`.

The index is derived data. When a database was written by a newer kenning (it records a migration
this one does not know) or by an older chunker (`INDEX_FORMAT` differs), it is rebuilt from the
files rather than patched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

# Bump when the way files are chunked or tokenised changes: old indexes are rebuilt.
INDEX_FORMAT = "4"

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(func: Migration) -> Migration:
    """Register `func` as the next migration, named after the function."""
    MIGRATIONS.append((func.__name__, func))
    return func


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            lang TEXT,
            mtime REAL NOT NULL,
            size INTEGER NOT NULL,
            hash TEXT NOT NULL,
            personal INTEGER NOT NULL DEFAULT 0,
            imports TEXT
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            path TEXT NOT NULL,
            title TEXT NOT NULL,
            symbol TEXT,
            start_line INTEGER,
            end_line INTEGER,
            text TEXT NOT NULL,
            tokens INTEGER NOT NULL,
            hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            created REAL,
            updated REAL,
            memory_json TEXT
        );
        CREATE INDEX chunks_doc ON chunks(doc_id);
        CREATE INDEX chunks_kind ON chunks(kind);
        CREATE INDEX chunks_ref ON chunks(ref);
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            title, body, tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TABLE vectors (chunk_id INTEGER PRIMARY KEY, vec BLOB NOT NULL);
        CREATE TABLE embed_cache (key TEXT PRIMARY KEY, vec BLOB NOT NULL);
        CREATE TABLE symbols (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            qualname TEXT NOT NULL,
            kind TEXT NOT NULL,
            path TEXT NOT NULL,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            chunk_id INTEGER
        );
        CREATE INDEX symbols_name ON symbols(name);
        CREATE TABLE edges (
            src TEXT NOT NULL,
            dst TEXT NOT NULL,
            kind TEXT NOT NULL,
            weight REAL NOT NULL DEFAULT 1.0,
            doc_id INTEGER REFERENCES documents(id) ON DELETE CASCADE
        );
        CREATE INDEX edges_src ON edges(src);
        CREATE INDEX edges_dst ON edges(dst);
        CREATE INDEX edges_doc ON edges(doc_id);
        CREATE TABLE entities (
            norm TEXT NOT NULL,
            name TEXT NOT NULL,
            node TEXT NOT NULL,
            type TEXT NOT NULL,
            doc_id INTEGER REFERENCES documents(id) ON DELETE CASCADE
        );
        CREATE INDEX entities_norm ON entities(norm);
        CREATE INDEX entities_doc ON entities(doc_id);
        CREATE TABLE skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
        """
    )


@migration
def m002_redactions(db: sqlite3.Connection) -> None:
    """Which files had secret-looking spans redacted, for `kenning doctor`."""
    db.execute("CREATE TABLE redactions (path TEXT PRIMARY KEY, count INTEGER NOT NULL)")


@migration
def m003_hygiene(db: sqlite3.Connection) -> None:
    """Memory anchors, the fingerprints they were last checked against, and stale flags.

    Also indexes symbols by path: the staleness pass looks up the symbols of anchored files.
    """
    db.executescript(
        """
        CREATE TABLE anchors (
            memory_id TEXT NOT NULL,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            symbol TEXT,
            fp TEXT,
            origin TEXT NOT NULL,
            base TEXT,
            created REAL
        );
        CREATE INDEX anchors_memory ON anchors(memory_id);
        CREATE INDEX anchors_doc ON anchors(doc_id);
        CREATE INDEX symbols_path ON symbols(path);
        CREATE TABLE anchor_state (
            path TEXT NOT NULL,
            symbol TEXT NOT NULL,
            doc_hash TEXT NOT NULL,
            fp TEXT,
            PRIMARY KEY (path, symbol)
        );
        CREATE TABLE memory_flags (
            memory_id TEXT NOT NULL,
            flag TEXT NOT NULL,
            anchor TEXT NOT NULL,
            cause TEXT NOT NULL,
            reason TEXT NOT NULL,
            target TEXT,
            detail TEXT NOT NULL,
            since REAL NOT NULL,
            PRIMARY KEY (memory_id, flag, anchor)
        );
        """
    )


MEMORY_KIND_LIST = ("decision", "rule", "preference", "person", "term", "fact", "note")

# The entity name index as m001 creates it: an index run drops it for a first build and builds
# it after the files (`Indexer._apply_repo_plan`), and creates it when a killed run left it out.
ENTITY_NAME_INDEX = "CREATE INDEX IF NOT EXISTS entities_norm ON entities(norm)"


@migration
def m004_memory_fts(db: sqlite3.Connection) -> None:
    """Memories get their own FTS5 table: a memory search no longer scores every code chunk
    that shares a word with the request (at 10k files that was most of a brief's time)."""
    db.execute(
        "CREATE VIRTUAL TABLE memory_fts USING fts5("
        "title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    marks = ",".join("?" * len(MEMORY_KIND_LIST))
    moved = f"SELECT id FROM chunks WHERE kind IN ({marks})"
    db.execute(
        f"INSERT INTO memory_fts (rowid, title, body) SELECT rowid, title, body FROM chunks_fts "
        f"WHERE rowid IN ({moved})",
        MEMORY_KIND_LIST,
    )
    db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({moved})", MEMORY_KIND_LIST)


@migration
def m005_read_skips(db: sqlite3.Connection) -> None:
    """Files skipped after reading them (generated, binary, too large), with the size and mtime
    they had: an unchanged one is not read again by every run (181 of them cost ~50 ms of each
    one-file re-index at 10k files)."""
    db.execute(
        "CREATE TABLE read_skips (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
        "mtime REAL NOT NULL, reason TEXT NOT NULL)"
    )


@migration
def m006_symbols_doc(db: sqlite3.Connection) -> None:
    """Index symbols by document: deleting a document cascades to its symbols, and without it
    each re-indexed file scanned every symbol row (~170k at 10k files)."""
    db.execute("CREATE INDEX IF NOT EXISTS symbols_doc ON symbols(doc_id)")


@migration
def m007_entity_keys(db: sqlite3.Connection) -> None:
    """Derived entity keys stored as rows (`derived` 1, path-word bags 2) and the typo words
    (`entity_words`): a request is linked by indexed lookups, not by first loading every name
    (3 s and ~130 MB at 10k files, again after every change). Existing names are backfilled."""
    from kenning.index import entity_keys

    db.execute("ALTER TABLE entities ADD COLUMN derived INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE TABLE entity_words (word TEXT PRIMARY KEY) WITHOUT ROWID")
    rows = db.execute(
        "SELECT norm, name, node, type, doc_id FROM entities ORDER BY rowid"
    ).fetchall()
    doc_of = {node: doc_id for _, _, node, _, doc_id in rows}
    derived = entity_keys.derived_rows(r[:4] for r in rows)
    db.executemany(
        "INSERT INTO entities (norm, name, node, type, derived, doc_id) VALUES (?, ?, ?, ?, ?, ?)",
        [(*row, doc_of[row[2]]) for row in derived],
    )
    words = entity_keys.key_words([r[0] for r in rows] + [r[0] for r in derived])
    db.executemany("INSERT INTO entity_words (word) VALUES (?)", [(w,) for w in sorted(words)])
    entity_keys.extend_alphabet(db, words)


@migration
def m008_no_contains_edges(db: sqlite3.Connection) -> None:
    """A symbol's tie to its file is its `symbols` row: the `contains` edges repeated it, one
    per symbol (~170k of ~235k edges at 10k files, each written into three b-trees)."""
    db.execute("DELETE FROM edges WHERE kind = 'contains'")


@migration
def m009_no_chunk_tokens(db: sqlite3.Connection) -> None:
    """Chunks no longer store a token count: nothing read it (a packet counts what it packs),
    and counting took over a third of the parsers' CPU in an index run."""
    drop_chunk_tokens(db, native=sqlite3.sqlite_version_info >= (3, 35, 0))


def drop_chunk_tokens(db: sqlite3.Connection, *, native: bool) -> None:
    """`chunks` without its `tokens` column. SQLite before 3.35 (Debian 11's 3.34, say) has no
    DROP COLUMN: there the table is copied without it (no table references `chunks`, and the
    FTS tables hold its ids, which the copy keeps)."""
    if native:
        db.execute("ALTER TABLE chunks DROP COLUMN tokens")
        return
    columns = ", ".join(
        row[1] for row in db.execute("PRAGMA table_info(chunks)") if row[1] != "tokens"
    )
    db.execute(
        """
        CREATE TABLE chunks_copy (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            path TEXT NOT NULL,
            title TEXT NOT NULL,
            symbol TEXT,
            start_line INTEGER,
            end_line INTEGER,
            text TEXT NOT NULL,
            hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            created REAL,
            updated REAL,
            memory_json TEXT
        )
        """
    )
    db.execute(f"INSERT INTO chunks_copy ({columns}) SELECT {columns} FROM chunks")
    db.execute("DROP TABLE chunks")
    db.execute("ALTER TABLE chunks_copy RENAME TO chunks")
    db.execute("CREATE INDEX chunks_doc ON chunks(doc_id)")
    db.execute("CREATE INDEX chunks_kind ON chunks(kind)")
    db.execute("CREATE INDEX chunks_ref ON chunks(ref)")


@migration
def m010_vector_ids(db: sqlite3.Connection) -> None:
    """A compact index of the chunk ids that have a vector. The table's rows hold the vectors,
    so counting them or listing their ids read every blob page (~30 ms at 175k vectors, in
    every index run and at every vector refresh); through this index it is under 10 ms."""
    db.execute("CREATE INDEX IF NOT EXISTS vectors_chunk ON vectors(chunk_id)")


_FTS_TOKENIZER = "tokenize = 'porter unicode61 remove_diacritics 2'"


@migration
def m011_code_fts_reads_chunks(db: sqlite3.Connection) -> None:
    """The code FTS table reads its text from `chunks` (external content) instead of keeping
    its own copy of every chunk: at 10k files that copy was 156 of the index's 605 MB, and
    every run wrote it again. A chunk's FTS title and what its body adds to its text (split
    identifiers, path words) are two new columns; the body is the text, a newline, then those.
    Memories keep their own (small) FTS table as it is; their `fts_extra` stays NULL.
    """
    db.execute("ALTER TABLE chunks ADD COLUMN fts_title TEXT")
    db.execute("ALTER TABLE chunks ADD COLUMN fts_extra TEXT")
    db.execute(
        "UPDATE chunks SET (fts_title, fts_extra) = (SELECT f.title, "
        "substr(f.body, length(chunks.text) + 2) FROM chunks_fts f WHERE f.rowid = chunks.id) "
        "WHERE id IN (SELECT rowid FROM chunks_fts)"
    )
    db.execute("DROP TABLE chunks_fts")
    db.execute(
        "CREATE VIEW chunks_fts_source AS SELECT id, fts_title AS title, "
        "text || char(10) || fts_extra AS body FROM chunks WHERE fts_extra IS NOT NULL"
    )
    db.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5(title, body, "
        f"content = 'chunks_fts_source', content_rowid = 'id', {_FTS_TOKENIZER})"
    )
    db.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')")


@migration
def m012_file_history(db: sqlite3.Connection) -> None:
    """Each file's recent commit messages, searchable (see `kenning.index.githistory`): the
    file ranking's history signal. The co-change head is forgotten so that the next index run
    reads the log again and fills the table (an index is otherwise not rebuilt for it)."""
    db.execute(
        f"CREATE VIRTUAL TABLE file_history USING fts5(path UNINDEXED, body, {_FTS_TOKENIZER})"
    )
    db.execute("DELETE FROM meta WHERE key = 'cochange_head'")


@migration
def m013_reread_adrs(db: sqlite3.Connection) -> None:
    """ADR status lines written as a list item ("- Status: Superseded by ADR 3", MADR's form)
    were read as active. Imported decisions' files are marked changed, so the next index run
    reads them again (their content hash no longer matches)."""
    db.execute(
        "UPDATE documents SET mtime = -1, hash = '' WHERE id IN "
        "(SELECT doc_id FROM chunks WHERE kind = 'decision' AND ref LIKE '%:%')"
    )


def applied(db: sqlite3.Connection) -> list[str]:
    """Names of the migrations this database has run, in order."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _kenning_migrations "
        "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    return [row[0] for row in db.execute("SELECT name FROM _kenning_migrations ORDER BY rowid")]


def is_compatible(db: sqlite3.Connection) -> bool:
    """False when the database knows migrations this kenning does not, or another format."""
    done = applied(db)
    known = [name for name, _ in MIGRATIONS]
    if done != known[: len(done)]:
        return False
    if not done:
        return True
    row = db.execute("SELECT value FROM meta WHERE key = 'index_format'").fetchone()
    return row is not None and row[0] == INDEX_FORMAT


def migrate(db: sqlite3.Connection) -> list[str]:
    """Run the pending migrations, each in its own transaction; return their names."""
    done = set(applied(db))
    ran: list[str] = []
    for name, func in MIGRATIONS:
        if name in done:
            continue
        with db:
            func(db)
            db.execute("INSERT INTO _kenning_migrations (name) VALUES (?)", (name,))
        ran.append(name)
    with db:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('index_format', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (INDEX_FORMAT,),
        )
    return ran
