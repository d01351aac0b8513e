"""The one entry point every adapter uses: a project's store, index and brief engine together.

`Workspace.open(path)` touches nothing on disk. The index opens on first use and is built when it
does not exist yet, so `brief` and `search` work on a project nobody indexed. The CLI, the MCP
server, the local model layer and the web UI all go through this class and never reach into the
index tables themselves.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenning.config import Project, load_settings, setting
from kenning.engine.brief import DEFAULT_BUDGET, BriefEngine
from kenning.engine.pack import Packet
from kenning.engine.retrieve import CODE_KINDS, MEMORY_KINDS, Hit
from kenning.errors import InvalidMemory
from kenning.hygiene.hooks import WorkspaceHooks
from kenning.index.ingest import Indexer, IndexStats, Progress
from kenning.memory import Memory, MemoryStore, iter_kinds
from kenning.tokens import valid_unicode

if TYPE_CHECKING:
    from kenning.index.watch import ChangeWatcher

# An index built on the fly (by `brief`, `search`, the MCP server) embeds at most this many chunks
# so the first answer comes in seconds; `kenning index` embeds the rest with a progress bar.
AUTO_EMBED_LIMIT = 1500
# With a file watcher, a full scan still runs this often: events can be lost (an inotify queue
# overflow, a network file system), and a scan is the ground truth.
FULL_CHECK_SECONDS = 60.0


class Workspace:
    """A project opened for reading and writing context."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.settings: dict[str, Any] = load_settings(project)
        self.store = MemoryStore(
            project.memories_dir,
            project.personal_memories_dir,
            hooks=WorkspaceHooks(project.root, self._built_index),
        )
        self._db: sqlite3.Connection | None = None
        self._engine: BriefEngine | None = None
        self._indexer: Indexer | None = None
        self._checked_at = 0.0
        self._watcher: ChangeWatcher | None = None
        self.last_stats: IndexStats | None = None

    @classmethod
    def open(cls, path: Path | str = ".") -> Workspace:
        """The workspace of the project containing `path`."""
        return cls(Project.discover(path))

    @property
    def root(self) -> Path:
        return self.project.root

    # ---- index ---------------------------------------------------------------------------

    def _open_indexer(self) -> Indexer:
        if self._indexer is None:
            self._indexer = Indexer(self.project)
            self._db = self._indexer.db
        return self._indexer

    @property
    def db(self) -> sqlite3.Connection:
        return self._open_indexer().db

    def _built_index(self) -> sqlite3.Connection | None:
        """The index connection when an index exists on disk (never creates one)."""
        return self.db if self._db is not None or self.project.index_path.exists() else None

    def index(
        self,
        *,
        rebuild: bool = False,
        embed: bool = True,
        progress: Progress | None = None,
        embed_limit: int | None = None,
    ) -> IndexStats:
        """Bring the index up to date (from scratch with `rebuild`).

        Vectors are computed after the lexical index is committed, memories first; with
        `embed_limit` at most that many chunks are embedded now and the rest stay pending.
        """
        if rebuild:
            self.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.project.index_path}{suffix}").unlink(missing_ok=True)
        stats = self._open_indexer().run(embed=embed, progress=progress, embed_limit=embed_limit)
        self.last_stats = stats
        self._checked_at = time.monotonic()
        return stats

    def has_index(self) -> bool:
        if not self.project.index_path.exists():
            return False
        row = self.db.execute("SELECT value FROM meta WHERE key = 'indexed_at'").fetchone()
        return row is not None

    def ensure_index(self, max_age: float | None = None, embed: bool = True) -> IndexStats | None:
        """Index when there is no index yet, or when the last check is older than `max_age` s.

        With a file watcher running (`watch`), a check re-indexes just the files it saw change,
        and the full scan runs only every `FULL_CHECK_SECONDS` (a safety net for missed events).
        """
        if not self.has_index():
            return self.index(embed=embed, embed_limit=AUTO_EMBED_LIMIT)
        if max_age is None:
            return None
        age = time.monotonic() - self._checked_at
        watcher = self._watcher
        if watcher is not None and max_age > 0 and age <= FULL_CHECK_SECONDS:
            changed = watcher.drain()
            if changed is not None:
                if not changed:
                    return None
                stats = self._open_indexer().run(
                    embed=embed, embed_limit=AUTO_EMBED_LIMIT, changed=changed
                )
                self.last_stats = stats
                return stats
            if watcher.healthy:  # too many changes to list: scan
                return self.index(embed=embed, embed_limit=AUTO_EMBED_LIMIT)
            watcher.close()  # it stopped: back to scanning every `max_age` seconds
            self._watcher = None
        if age > max_age:
            return self.index(embed=embed, embed_limit=AUTO_EMBED_LIMIT)
        return None

    @property
    def watcher(self) -> ChangeWatcher | None:
        """The file watcher `watch` started (None when there is none)."""
        return self._watcher

    def watch(self) -> bool:
        """Start a file watcher for `ensure_index` (a long-lived process: the MCP server).

        Off with `index.watch = false`; True when it runs (False: checks keep scanning).
        """
        if self._watcher is not None:
            return self._watcher.healthy
        if not setting(self.settings, "index.watch", True):
            return False
        from kenning.index.watch import ChangeWatcher

        watcher = ChangeWatcher(
            self.root, self.project.memories_dir, self.project.personal_memories_dir
        )
        if not watcher.start():
            watcher.close()
            return False
        self._watcher = watcher
        # Whatever changed before the watch began is found by one full scan now.
        self.index(embed=False)
        return True

    @property
    def engine(self) -> BriefEngine:
        if self._engine is None:
            self._engine = BriefEngine(self.db, setting(self.settings, "route", {}) or {})
        return self._engine

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self._engine is not None:
            self._engine.close()
        if self._db is not None:
            self._db.close()
        self._db = None
        self._engine = None
        self._indexer = None

    # ---- reading -------------------------------------------------------------------------

    def brief(
        self, request: str, budget: int | None = None, files: Sequence[str] = (), **options: Any
    ) -> Packet:
        """The packet for `request` (indexing first when there is no index)."""
        request, files = valid_unicode(request), [valid_unicode(f) for f in files]
        built = self.ensure_index()
        budget = int(budget or setting(self.settings, "brief.budget", DEFAULT_BUDGET))
        packet = self.engine.brief(request, budget, files, **options)
        if built is not None and built.vectors_pending:
            packet.notes.append(
                f"Indexed just now; {built.vectors_pending:,} chunks still have no vectors "
                "(lexical and graph search cover them). `kenning index` embeds the rest."
            )
        return packet

    def search(self, query: str, kind: str | None = None, k: int = 10) -> list[Hit]:
        """Fused search over code and memories, or over one kind."""
        query = valid_unicode(query)
        self.ensure_index()
        if kind in (None, "", "all"):
            kinds: Sequence[str] = CODE_KINDS + MEMORY_KINDS
        elif kind == "code":
            kinds = CODE_KINDS
        elif kind == "memory":
            kinds = MEMORY_KINDS
        elif kind in ("file", "symbol", "doc"):
            kinds = (kind,)
        else:
            kinds = tuple(iter_kinds([kind]))
        self.engine.refresh()
        return self.engine.retriever.search(query, kinds, k=max(1, min(int(k), 200)))

    def memories(self, kind: str | None = None, include_inactive: bool = False) -> list[Memory]:
        if kind:
            iter_kinds([kind])
        return self.store.all(kind, include_inactive)

    def get(self, memory_id: str) -> Memory:
        return self.store.get(memory_id)

    # ---- writing -------------------------------------------------------------------------

    def remember(self, text: str, kind: str, *, personal: bool = False, **fields: Any) -> Memory:
        """Store a memory and index it right away.

        `fields` go to `MemoryStore.add`: title, scope, aliases, tags, supersedes, source, extra,
        `files` (paths or `path::Symbol` to anchor it to) and `on_duplicate` ("refuse", the
        default, raises `NearDuplicate`; "merge" folds it into the existing memory; "keep").
        """
        if kind in ("preference", "person") and fields.get("scope"):
            raise InvalidMemory(f"a {kind} has no path scope; scopes are for rules and decisions")
        memory = self.store.add(text, kind, personal=personal, **fields)
        self._reindex_memories()
        return memory

    def forget(self, memory_id: str) -> Memory:
        """Retire a memory (the file stays, with status: retired)."""
        memory = self.store.retire(memory_id)
        self._reindex_memories()
        return memory

    def update(self, memory_id: str, **changes: Any) -> Memory:
        memory = self.store.update(memory_id, **changes)
        self._reindex_memories()
        return memory

    def _reindex_memories(self) -> None:
        if self.project.index_path.exists():
            self._open_indexer().run_memories()
