"""Open the index database: WAL mode, migrated, and rebuilt from scratch when it is unusable.

The index is derived data, so a corrupt file, a file from a newer kenning or one written by an
older chunker is moved out of the way (never patched in place) and indexing starts again.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from kenning._fs import file_lock
from kenning.index import schema

# SQLite's page cache per connection. A brief at 10k files is as fast with 8 MB as with 32 (the
# operating system caches the file too) and the server keeps 28 MB less; a long index run
# raises it while it writes (`ingest.BIG_RUN_CACHE_KB`).
CACHE_KB = 8000


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute(f"PRAGMA cache_size=-{CACHE_KB}")
    return db


def connect_reader(path: Path) -> sqlite3.Connection:
    """A second, read-only connection to an index another connection has opened (and migrated)."""
    db = _connect(path)
    db.execute("PRAGMA query_only=ON")
    return db


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


_BUSY = ("locked", "busy", "locking protocol")


def _transient(exc: sqlite3.DatabaseError) -> bool:
    """Contention (another process opening or writing), not damage: retry, never delete."""
    return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc) for w in _BUSY)


def open_index(path: Path) -> tuple[sqlite3.Connection, bool]:
    """Open or create the index at `path`; returns (connection, rebuilt_from_scratch).

    Opening, checking and migrating hold `open.lock`, so processes that start together never
    race to create the schema or mistake each other's lock for a corrupt file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.parent / "open.lock", timeout=120):
        return _open_locked(path)


def _open_locked(path: Path) -> tuple[sqlite3.Connection, bool]:
    rebuilt = False
    damaged = 0
    for attempt in range(8):
        db: sqlite3.Connection | None = None
        try:
            db = _connect(path)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if not schema.is_compatible(db):
                db.close()
                _remove(path)
                rebuilt = True
                continue
            schema.migrate(db)
            return db, rebuilt
        except sqlite3.DatabaseError as exc:
            if db is not None:
                with contextlib.suppress(Exception):
                    db.close()
            if _transient(exc):
                time.sleep(0.05 * (attempt + 1))
                continue
            damaged += 1
            if damaged > 1:
                raise
            _remove(path)
            rebuilt = True
    raise sqlite3.OperationalError(f"{path} stayed busy; another kenning process holds it")


def get_meta(db: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
