"""BM25 searches run on a second connection, in a worker thread, while the brief goes on.

At 10k files FTS5 scores ~11k rows for a typical request (~9 ms), and SQLite releases the GIL
while it does: started when the request arrives, the code and memory searches run while the
main thread links the request, embeds it and ranks by vectors and by the graph, instead of
before all of that. `Prefetcher` owns the thread and its read-only connection; it answers any
callable that takes that connection (the retriever passes its lexical search).

Only worth it for a large index: below `MIN_ROWS` code chunks a search takes about as long as
handing it over.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from kenning.index.db import connect_reader

# Code chunks from which a search is handed to the worker (~1 ms of BM25 at this size).
MIN_ROWS = 20_000

T = TypeVar("T")


def database_path(db: sqlite3.Connection) -> Path | None:
    """The file behind a connection's main database (None in memory)."""
    row = db.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else None


class Prefetcher:
    """One worker thread with its own read-only connection to the index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    def submit(self, job: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run `job(connection)` on the worker; the connection is opened on first use."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="kenning-bm25")
        return self._pool.submit(self._run, job)

    def _run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            self._db = connect_reader(self.path)
        return job(self._db)

    def close(self) -> None:
        """Stop the thread (after the job it is running) and close its connection."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
