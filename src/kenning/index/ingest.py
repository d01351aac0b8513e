"""Bring the index up to date with the repo and the memory store.

The order of work is planned by pure functions (`plan_changes`) over what the scan saw and what
the index holds; `Indexer.run` applies the plan. Incremental: a file whose size and mtime match
its row is not read; one whose content hash matches is not re-parsed; rows of deleted files go.
Each file's rows are replaced in one transaction, so a killed run leaves a consistent index and
the next run continues. Vectors come last and are optional: the lexical index is usable first.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from kenning._fs import file_lock
from kenning.config import Project, load_settings, setting
from kenning.hygiene.staleness import write_anchors
from kenning.index import entity_keys, githistory, instructions, mentions
from kenning.index.db import CACHE_KB, get_meta, open_index, set_meta
from kenning.index.memory_rows import MemoryJob, PreparedMemory, prepare_memories
from kenning.index.prepare import ChunkRow, PreparedFile, Preparer, chunk_row, worker_count
from kenning.index.scan import (
    DEFAULT_MAX_BYTES,
    IGNORE_FILES,
    FileEntry,
    ScanResult,
    scan,
    scan_paths,
)
from kenning.index.schema import ENTITY_NAME_INDEX, MEMORY_KIND_LIST
from kenning.memory import MemoryStore

Progress = Callable[[str, int, int], None]
COCHANGE_COMMITS = 400
COCHANGE_MAX_FILES = 30


@dataclass(frozen=True)
class DocRow:
    path: str
    mtime: float
    size: int
    hash: str


@dataclass
class Plan:
    """What an index run must do; computed without touching disk or database."""

    check: list[FileEntry] = field(default_factory=list)
    unchanged: int = 0
    delete: list[str] = field(default_factory=list)


def plan_changes(scanned: Iterable[FileEntry], indexed: dict[str, DocRow]) -> Plan:
    """Files whose size or mtime changed (or that are new) are checked; missing ones deleted."""
    plan = Plan()
    seen: set[str] = set()
    for entry in scanned:
        seen.add(entry.path)
        row = indexed.get(entry.path)
        if row is not None and row.size == entry.size and abs(row.mtime - entry.mtime) < 1e-6:
            plan.unchanged += 1
        else:
            plan.check.append(entry)
    plan.delete = sorted(set(indexed) - seen)
    return plan


@dataclass
class IndexStats:
    """What one index run did."""

    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    memories_indexed: int = 0
    memories_deleted: int = 0
    chunks_written: int = 0
    vectors_written: int = 0
    vectors_pending: int = 0
    secrets_redacted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    rebuilt: bool = False
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(
            self.files_indexed
            or self.files_deleted
            or self.memories_indexed
            or self.memories_deleted
            or self.rebuilt
        )

    def to_dict(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["skipped"] = dict(self.skipped)
        return data


def memory_doc_path(
    memory_file: Path, project: Project, bases: list[tuple[str, str]] | None = None
) -> str:
    """The documents.path of a memory file: project-relative, or `~personal/…`.

    Folders are resolved (once each: resolving every one of 5k files twice per run took
    seconds); the file name is kept as the store names it. String work, not pathlib: this runs
    for every memory file in every index run (`bases` from `memory_path_bases`, once a run).
    """
    folder = str(_resolved(str(memory_file.parent)))
    for base, prefix in bases or memory_path_bases(project):
        if folder == base:
            return prefix + memory_file.name
        if folder.startswith(base.rstrip("/") + "/"):
            rest = folder[len(base.rstrip("/")) + 1 :].replace(os.sep, "/")
            return f"{prefix}{rest}/{memory_file.name}"
    return str(memory_file)


def memory_path_bases(project: Project) -> list[tuple[str, str]]:
    """(resolved folder, documents.path prefix) for project and personal memories."""
    return [
        (str(_resolved(str(project.root))), ""),
        (str(_resolved(str(project.personal_memories_dir))), "~personal/"),
    ]


@lru_cache(maxsize=256)
def _resolved(folder: str) -> Path:
    return Path(folder).resolve()


# Reasons a file was skipped after reading that hold until the file changes (size or mtime).
REREAD_WHEN_CHANGED = ("generated", "binary", "too large")


class _Batch:
    """One transaction over many small writes, committed every `items` writes or `seconds`.

    A commit per file cost ~2 ms at 10k files (FTS5 flushes and merges a segment at each): 30 of
    a run's 60 CPU seconds. A killed run loses at most the open batch, which the next run redoes;
    an error rolls the batch back.
    """

    def __init__(self, db: sqlite3.Connection, items: int = 500, seconds: float = 2.0) -> None:
        self.db = db
        self.items = items
        self.seconds = seconds
        self._count = 0
        self._since = time.monotonic()

    def __enter__(self) -> _Batch:
        return self

    def tick(self) -> None:
        self._count += 1
        if self._count >= self.items or time.monotonic() - self._since > self.seconds:
            self.db.commit()
            self._count = 0
            self._since = time.monotonic()

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            self.db.commit()
        else:
            self.db.rollback()


class Indexer:
    """Applies index runs to one project's database."""

    def __init__(self, project: Project, db: sqlite3.Connection | None = None) -> None:
        self.project = project
        if db is None:
            db, rebuilt = open_index(project.index_path)
            self.rebuilt = rebuilt
        else:
            self.rebuilt = False
        self.db = db
        settings = load_settings(project)
        self.settings = settings
        self.exclude: list[str] = list(setting(settings, "index.exclude", []) or [])
        self.max_bytes = (
            int(setting(settings, "index.max_file_kb", DEFAULT_MAX_BYTES // 1024)) * 1024
        )
        self.store = MemoryStore(project.memories_dir, project.personal_memories_dir)
        # Processes that prepare files in a large run (None: one per CPU; 1: in-process).
        workers = setting(settings, "index.workers", None)
        self.workers: int | None = int(workers) if workers is not None else None
        # Import linking during one run: deferred to the end, or one (module map, repo paths).
        self._defer_links = False
        self._links: tuple[dict[str, str], set[str]] | None = None
        # The module map and file set of the last run, kept while no file is added or removed:
        # a server re-indexing one changed file need not rebuild them (70 ms at 10k files).
        self._modules: tuple[dict[str, str], set[str]] | None = None
        self._modules_of: str | None = None  # the `structure_version` they were made at
        self._words = entity_keys.Words()
        self._old_names: dict[str, set[str]] = {}
        self._deferred: list[tuple[int, str, list[str], str]] = []

    # ---- the run -------------------------------------------------------------------------

    def run(
        self,
        *,
        embed: bool = True,
        progress: Progress | None = None,
        embed_limit: int | None = None,
        changed: Collection[str] | None = None,
    ) -> IndexStats:
        """Index what changed; with `embed`, compute missing vectors (at most `embed_limit`).

        `changed` (project-relative paths a file watcher saw change) limits the run to those
        paths instead of scanning the whole project; a run falls back to the full scan when it
        cannot be sure that is enough (a folder, an ignore file, an interrupted run).
        """
        started = time.perf_counter()
        stats = IndexStats(rebuilt=self.rebuilt)
        self.project.index_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.project.index_dir / "write.lock", timeout=600):
            # The passes after the file writes (links, mentions, staleness) derive from the
            # whole index. A run killed between the two left their edges missing, and the next
            # run, seeing no changed file, never made them: the flag says "redo them all".
            interrupted = get_meta(self.db, "derived_pending") == "1"
            self._words = entity_keys.Words()  # per run: another process may rebuild the index
            self._old_names = {}
            if not interrupted:
                with self.db:
                    set_meta(self.db, "derived_pending", "1")
            targeted = None
            if changed is not None and not (interrupted or stats.rebuilt):
                targeted = self._targeted_scan(changed)
            if targeted is None:
                result = scan(self.project.root, exclude=self.exclude, max_bytes=self.max_bytes)
                files_before = self._indexed_paths("repo")
                memories_changed = True
            else:
                result, repo_paths, memories_changed = targeted
                files_before = self._indexed_paths("repo", repo_paths)
            stats.skipped = result.skipped
            stats.files_seen = len(result.files)
            plan = plan_changes(result.files, files_before)
            plan.check = self._drop_known_skips(plan.check, stats)
            stats.files_unchanged = plan.unchanged
            may_change_structure = bool(plan.delete) or any(
                e.path not in files_before for e in plan.check
            )
            structure = get_meta(self.db, "structure_version")
            if may_change_structure or stats.rebuilt or structure != self._modules_of:
                self._modules, self._modules_of = None, structure
            self._apply_repo_plan(
                plan,
                stats,
                progress,
                defer_links=may_change_structure or stats.rebuilt,
                known=files_before,
            )
            # What the run did, not what it planned: a file skipped after reading (generated,
            # binary) is "new" in every plan yet never enters the index, and treating it as a
            # structural change made every incremental run relink all imports and mentions.
            added = [e.path for e in plan.check if e.path not in files_before]
            structure_changed = bool(plan.delete) or self._any_indexed(added)
            if structure_changed or stats.rebuilt:
                # Files came or went: module maps kept by any process are out of date.
                self._modules = None
                with self.db:
                    set_meta(self.db, "structure_version", uuid.uuid4().hex)
            changed_mem_docs = self._index_memories(stats) if memories_changed else set()
            if targeted is None:
                self._save_skipped(result.skipped_paths)
                self._forget_read_skips({e.path for e in result.files})
            else:
                self._save_skipped(result.skipped_paths, only=targeted[1])
                gone = set(targeted[1]) - {e.path for e in result.files}
                self._forget_read_skips(None, gone=gone)
            if stats.rebuilt or interrupted:
                self._relink_imports()
                self._deferred = []
            elif structure_changed:
                # Files came or went: the imports that may point at them, and the files written.
                linked = self._relink_imports(near=[*added, *plan.delete])
                self._deferred = [d for d in self._deferred if d[0] not in linked]
            if self._deferred:
                self._link_deferred(self._repo_paths())
            if stats.changed or interrupted:
                mentioning: set[int] | None = None
                if not (stats.rebuilt or interrupted):
                    touched = [e.path for e in plan.check] + list(plan.delete)
                    mentioning = self._memories_naming(touched)
                if mentioning is not None:
                    mentioning |= changed_mem_docs
                self._relink_mentions(mentioning)
            self._old_names = {}
            self._refresh_cochange()
            if stats.changed or interrupted or get_meta(self.db, "stale_checked") is None:
                self._refresh_staleness()
            with self.db:
                self._words.flush(self.db)
                if stats.changed or interrupted:
                    gen = int(get_meta(self.db, "generation", "0") or 0) + 1
                    set_meta(self.db, "generation", str(gen))
                    set_meta(self.db, "indexed_at", str(time.time()))
                set_meta(self.db, "derived_pending", "0")
            # Only the first run after an incompatible index was replaced is a rebuild; later
            # runs of a long-lived indexer (a server) must stay incremental, not relink all.
            self.rebuilt = False
        if embed:
            self.embed_pending(stats, progress, limit=embed_limit)
        else:
            stats.vectors_pending = self.pending_vectors()
        stats.seconds = time.perf_counter() - started
        return stats

    def run_memories(self) -> IndexStats:
        """Index only the memory store: what `remember` needs, without a repo scan."""
        stats = IndexStats()
        self._words = entity_keys.Words()
        if get_meta(self.db, "derived_pending") == "1":
            return self.run(embed=False)  # a run was killed mid-way: finish it properly
        with file_lock(self.project.index_dir / "write.lock", timeout=600):
            with self.db:
                set_meta(self.db, "derived_pending", "1")
            written = self._index_memories(stats)
            if stats.changed:
                self._relink_mentions(written)
                self._refresh_staleness()
            with self.db:
                self._words.flush(self.db)
                if stats.changed:
                    gen = int(get_meta(self.db, "generation", "0") or 0) + 1
                    set_meta(self.db, "generation", str(gen))
                set_meta(self.db, "derived_pending", "0")
        if stats.changed:
            # The memories just written first, then a little of any backlog: `remember` is
            # interactive, and an index built without vectors can have 100k chunks waiting.
            self.embed_pending(stats, limit=32, first=written)
        return stats

    def _repo_paths(self) -> set[str]:
        return {p for (p,) in self.db.execute("SELECT path FROM documents WHERE source = 'repo'")}

    def _any_indexed(self, paths: list[str]) -> bool:
        """Whether any of `paths` is in the index now (a planned file that was not skipped)."""
        for start in range(0, len(paths), 500):
            part = paths[start : start + 500]
            marks = ",".join("?" * len(part))
            row = self.db.execute(
                f"SELECT 1 FROM documents WHERE source = 'repo' AND path IN ({marks}) LIMIT 1",
                part,
            ).fetchone()
            if row is not None:
                return True
        return False

    def _indexed_paths(self, source: str, only: Sequence[str] | None = None) -> dict[str, DocRow]:
        query = "SELECT path, mtime, size, hash FROM documents WHERE source = ?"
        if only is None:
            rows = self.db.execute(query, (source,)).fetchall()
        else:
            rows = []
            for start in range(0, len(only), 500):
                part = list(only[start : start + 500])
                marks = ",".join("?" * len(part))
                rows += self.db.execute(f"{query} AND path IN ({marks})", (source, *part))
        return {r[0]: DocRow(r[0], r[1], r[2], r[3]) for r in rows}

    def _targeted_scan(self, changed: Collection[str]) -> tuple[ScanResult, list[str], bool] | None:
        """(the scan of the changed repo paths, those paths, whether memory files changed), or
        None when only a full scan can tell what changed."""
        memory_prefixes = ["~personal/"]
        with contextlib.suppress(ValueError):
            folder = self.project.memories_dir.resolve().relative_to(self.project.root.resolve())
            memory_prefixes.append(folder.as_posix() + "/")
        repo: list[str] = []
        memories = False
        for path in changed:
            if any(path.startswith(prefix) for prefix in memory_prefixes):
                memories = True
                continue
            name = path.rsplit("/", 1)[-1]
            if name in IGNORE_FILES:
                return None  # what is ignored may have changed anywhere below
            repo.append(path)
        result, not_indexable = scan_paths(
            self.project.root, repo, exclude=self.exclude, max_bytes=self.max_bytes
        )
        for path in not_indexable:
            if (self.project.root / path).is_dir():
                return None  # a folder came (or was renamed here): its files are not listed
            below = self.db.execute(
                "SELECT 1 FROM documents WHERE source = 'repo' AND path > ? AND path < ? LIMIT 1",
                (path + "/", path + "0"),
            ).fetchone()
            if below is not None:
                return None  # a folder went: the files under it are not listed either
        return result, sorted(set(repo)), memories

    def _apply_repo_plan(
        self,
        plan: Plan,
        stats: IndexStats,
        progress: Progress | None,
        defer_links: bool = False,
        known: dict[str, DocRow] | None = None,
    ) -> None:
        for path in plan.delete:
            with self.db:
                self._delete_doc(path)
            stats.files_deleted += 1
        # Import edges. A run that adds or deletes files relinks every file once at the end, so
        # linking each file as it is written would be thrown away; any other run links with one
        # module map. Building the map per file was quadratic in the repository's size: minutes
        # of a 10,000-file index, and tens of ms of every one-file re-index.
        self._defer_links = defer_links
        self._links = None
        self._deferred = []
        total = len(plan.check)
        if known is None:
            known = self._indexed_paths("repo")
        # A run killed while the name index was dropped (below) left it missing; a no-op else.
        self.db.execute(ENTITY_NAME_INDEX)
        preparer = Preparer(self.project.root, self.max_bytes, self.workers)
        work = [(e.path, known[e.path].hash if e.path in known else None) for e in plan.check]
        prepared = preparer.prepare(work)
        # A long run writes better with a larger page cache than a server should keep.
        big = total >= BIG_RUN_FILES
        # A first build inserts ~70 names a file at random places of the name index: it is
        # built once after the files instead (684k names at 10k files: 1.9 CPU-s inserted with
        # the index, 1.0 without, 0.5 to build it after). Memories and linking need it.
        first_build = big and not known
        if big:
            self.db.execute(f"PRAGMA cache_size=-{BIG_RUN_CACHE_KB}")
        if first_build:
            self.db.execute("DROP INDEX IF EXISTS entities_norm")
        try:
            with _Batch(self.db) as batch:
                for n, (entry, ready) in enumerate(zip(plan.check, prepared, strict=True), 1):
                    if progress and (n % 25 == 0 or n == total):
                        progress("files", n, total)
                    self._write_prepared(entry, known.get(entry.path), ready, stats)
                    batch.tick()
        finally:
            if first_build:
                with self.db:
                    self.db.execute(ENTITY_NAME_INDEX)
            if big:
                self.db.execute(f"PRAGMA cache_size=-{CACHE_KB}")
                self.db.execute("PRAGMA shrink_memory")

    def _drop_known_skips(self, check: list[FileEntry], stats: IndexStats) -> list[FileEntry]:
        """Files to read, without those skipped after reading before and unchanged since."""
        known = {
            path: (size, mtime, reason)
            for path, size, mtime, reason in self.db.execute(
                "SELECT path, size, mtime, reason FROM read_skips"
            )
        }
        if not known:
            return check
        kept: list[FileEntry] = []
        for entry in check:
            skip = known.get(entry.path)
            if skip and skip[0] == entry.size and abs(skip[1] - entry.mtime) < 1e-6:
                stats.skipped[skip[2]] += 1
            else:
                kept.append(entry)
        return kept

    def _forget_read_skips(
        self, present: set[str] | None, gone: Collection[str] = frozenset()
    ) -> None:
        """Drop the read skips of files that are gone: those not `present` (a full scan), or
        the `gone` ones (a watcher's run)."""
        if present is not None:
            gone = {p for (p,) in self.db.execute("SELECT path FROM read_skips")} - present
        if gone:
            with self.db:
                self.db.executemany("DELETE FROM read_skips WHERE path = ?", [(p,) for p in gone])

    def _write_prepared(
        self, entry: FileEntry, row: DocRow | None, ready: PreparedFile, stats: IndexStats
    ) -> None:
        """Apply one prepared file (inside the caller's `_Batch` transaction)."""
        if ready.outcome == "skip" and ready.reason in REREAD_WHEN_CHANGED:
            self.db.execute(
                "INSERT OR REPLACE INTO read_skips (path, size, mtime, reason) VALUES (?, ?, ?, ?)",
                (entry.path, entry.size, entry.mtime, ready.reason),
            )
        else:
            self.db.execute("DELETE FROM read_skips WHERE path = ?", (entry.path,))
        if ready.outcome == "skip":
            stats.skipped[ready.reason] += 1
            # A file that is no longer readable text leaves the index; one that grew too large
            # or became generated keeps its last indexed rows until it is fixed or deleted.
            if row is not None and ready.reason not in ("too large", "generated"):
                self._delete_doc(entry.path)
            return
        if ready.outcome == "same":
            self.db.execute(
                "UPDATE documents SET mtime = ?, size = ? WHERE path = ?",
                (entry.mtime, entry.size, entry.path),
            )
            stats.files_unchanged += 1
            return
        stats.secrets_redacted += ready.secrets
        self._delete_doc(entry.path)
        doc_id = self._insert_doc(
            entry.path,
            "repo",
            ready.language,
            entry,
            ready.digest,
            json.dumps(ready.imports) if ready.imports else None,
        )
        if ready.imported:
            stats.chunks_written += self._write_imported(doc_id, entry.path, ready.imported)
        else:
            stats.chunks_written += self._write_chunks(doc_id, entry.path, ready)
        for names in ready.names:  # its symbols' names, then its own
            entity_keys.write_names(self.db, doc_id, names, self._words)
        self.db.execute("DELETE FROM redactions WHERE path = ?", (entry.path,))
        if ready.secrets:
            self.db.execute(
                "INSERT INTO redactions (path, count) VALUES (?, ?)",
                (entry.path, ready.secrets),
            )
        if ready.imports and self._defer_links:
            language = ready.language or ""
            self._deferred.append((doc_id, entry.path, ready.imports, language))
        elif ready.imports:
            if self._links is None:
                self._links = self._modules or (self._module_map(), self._repo_paths())
                self._modules = self._links
            modules, files = self._links
            self._link_imports_of(
                doc_id, entry.path, ready.imports, ready.language or "", modules, files
            )
        stats.files_indexed += 1

    # ---- writing rows --------------------------------------------------------------------

    def _delete_doc(self, path: str) -> None:
        row = self.db.execute("SELECT id, source FROM documents WHERE path = ?", (path,)).fetchone()
        if row is None:
            return
        doc_id = row[0]
        if row[1] == "repo" and len(self._old_names) < NAME_DIFF_DOCS:
            # The names it had: memories naming one that goes (or comes) are linked again.
            self._old_names.setdefault(path, set()).update(
                n
                for (n,) in self.db.execute("SELECT norm FROM entities WHERE doc_id = ?", (doc_id,))
            )
        for table in ("chunks_fts", "memory_fts"):
            self.db.execute(
                f"DELETE FROM {table} WHERE rowid IN (SELECT id FROM chunks WHERE doc_id = ?)",
                (doc_id,),
            )
        self.db.execute(
            "DELETE FROM vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE doc_id = ?)",
            (doc_id,),
        )
        # Edges this document made go with it (edges.doc_id cascades); edges other documents
        # made *to* it (imports, mentions) stay, so re-indexing a file keeps its in-links.
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        self.db.execute("DELETE FROM redactions WHERE path = ?", (path,))

    def _insert_doc(
        self,
        path: str,
        source: str,
        lang: str | None,
        entry: FileEntry,
        digest: str,
        imports: str | None = None,
        personal: bool = False,
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO documents (path, source, lang, mtime, size, hash, personal, imports) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (path, source, lang, entry.mtime, entry.size, digest, int(personal), imports),
        )
        return int(cur.lastrowid or 0)

    def _insert_chunk(
        self,
        doc_id: int,
        row: ChunkRow,
        *,
        ref: str,
        path: str,
        status: str = "active",
        created: float | None = None,
        updated: float | None = None,
        memory_json: str | None = None,
    ) -> int:
        """The `chunks` row and its FTS row (memories and code have separate FTS tables; the
        code one reads its text back from `chunks`: see `schema.m011_code_fts_reads_chunks`)."""
        memory = row.kind in MEMORY_KIND_LIST
        cur = self.db.execute(
            "INSERT INTO chunks (doc_id, kind, ref, path, title, symbol, start_line, end_line, "
            "text, hash, status, created, updated, memory_json, fts_title, fts_extra) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_id,
                row.kind,
                ref,
                path,
                row.title,
                row.symbol,
                row.start_line,
                row.end_line,
                row.text,
                row.hash,
                status,
                created,
                updated,
                memory_json,
                None if memory else row.fts_title,
                None if memory else row.fts_extra,
            ),
        )
        chunk_id = int(cur.lastrowid or 0)
        table = "memory_fts" if memory else "chunks_fts"
        self.db.execute(
            f"INSERT INTO {table} (rowid, title, body) VALUES (?, ?, ?)",
            (chunk_id, row.fts_title, row.fts_body),
        )
        return chunk_id

    def _write_chunks(self, doc_id: int, path: str, ready: PreparedFile) -> int:
        chunk_ids = [
            self._insert_chunk(
                doc_id, chunk, ref=f"{path}:{chunk.start_line}-{chunk.end_line}", path=path
            )
            for chunk in ready.chunks
        ]
        self._write_symbols(doc_id, path, ready, chunk_ids)
        return len(ready.chunks)

    def _write_symbols(
        self, doc_id: int, path: str, ready: PreparedFile, chunk_ids: list[int]
    ) -> None:
        """The symbol rows of one file (one statement: a file holds dozens of symbols). A
        symbol's tie to its file is its row, not an edge; its names were made by the parser."""
        rows = [
            (
                doc_id,
                sym.symbol.rsplit(".", 1)[-1] if sym.symbol else "",
                sym.symbol,
                sym.symbol_kind or "symbol",
                path,
                sym.start_line,
                sym.end_line,
                None if index is None else chunk_ids[index],
            )
            for sym, index in zip(ready.symbols, ready.symbol_chunks, strict=True)
        ]
        self.db.executemany(
            "INSERT INTO symbols (doc_id, name, qualname, kind, path, start_line, end_line, "
            "chunk_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _insert_entities(self, doc_id: int, rows: list[entity_keys.Row]) -> None:
        entity_keys.write(self.db, doc_id, rows, self._words)

    def _write_imported(self, doc_id: int, path: str, imported: list[instructions.Imported]) -> int:
        for item in imported:
            created = _date_to_epoch(item.date)
            memory_json = json.dumps(
                {
                    "scope": list(item.scope),
                    "aliases": [],
                    "tags": [],
                    "supersedes": None,
                    "source": f"import:{path}",
                    "personal": False,
                    "file": path,
                }
            )
            self._insert_chunk(
                doc_id,
                chunk_row(item.kind, item.title, item.body, None, item.start_line, item.end_line),
                ref=f"{path}:{item.start_line}-{item.end_line}",
                path=path,
                status=item.status,
                created=created,
                updated=created,
                memory_json=memory_json,
            )
        return len(imported)

    # ---- memories ------------------------------------------------------------------------

    def _index_memories(self, stats: IndexStats) -> set[int]:
        """Index new or changed memory files; returns the doc ids written."""
        known = self._indexed_paths("memory")
        seen: set[str] = set()
        todo: list[tuple[FileEntry, DocRow | None]] = []
        jobs: list[MemoryJob] = []
        bases = memory_path_bases(self.project)
        for folder, names, personal in self.store.listing():
            # One folder, one prefix: "x" stands for every file name in it.
            prefix = memory_doc_path(Path(folder) / "x", self.project, bases)[:-1]
            for name in names:
                doc_path = prefix + name
                seen.add(doc_path)
                file = os.path.join(folder, name)
                try:
                    info = os.stat(file)
                except OSError:
                    continue
                row = known.get(doc_path)
                if (
                    row is not None
                    and row.size == info.st_size
                    and abs(row.mtime - info.st_mtime) < 1e-6
                ):
                    continue
                todo.append((FileEntry(doc_path, info.st_size, info.st_mtime), row))
                jobs.append((file, personal, doc_path))
        written: set[int] = set()
        with _Batch(self.db) as batch:
            # Parsed on the workers when there are many (a first run, a pulled store).
            for (entry, row), prepared in zip(
                todo, prepare_memories(jobs, worker_count(self.workers)), strict=True
            ):
                doc_id = self._index_memory_file(prepared, entry, row, stats)
                if doc_id is not None:
                    written.add(doc_id)
                    stats.memories_indexed += 1
                batch.tick()
            for gone in sorted(set(known) - seen):
                self._delete_doc(gone)
                stats.memories_deleted += 1
                batch.tick()
        return written

    def _index_memory_file(
        self,
        prepared: PreparedMemory | str,
        entry: FileEntry,
        row: DocRow | None,
        stats: IndexStats,
    ) -> int | None:
        """Replace one memory file's rows; None when it cannot be read or its id is taken.
        `prepared` is its rows, or why it could not be read."""
        if isinstance(prepared, str):
            stats.problems.append(prepared)
            if row is not None:
                self._delete_doc(entry.path)
            return None
        memory = prepared.memory
        self._delete_doc(entry.path)
        clash = self.db.execute(
            "SELECT path FROM chunks WHERE ref = ? AND kind NOT IN ('file','symbol','doc')",
            (memory.id,),
        ).fetchone()
        if clash is not None:
            stats.problems.append(
                f"{memory.path}: duplicate id {memory.id!r} (also in {clash[0]}); skipped"
            )
            return None
        doc_id = self._insert_doc(
            entry.path, "memory", "memory", entry, prepared.digest, personal=memory.personal
        )
        self._write_memory(doc_id, entry.path, prepared)
        return doc_id

    def _write_memory(self, doc_id: int, doc_path: str, prepared: PreparedMemory) -> None:
        memory = prepared.memory
        self._insert_chunk(
            doc_id,
            prepared.chunk,
            ref=memory.id,
            path=doc_path,
            status=memory.status,
            created=memory.created.timestamp(),
            updated=memory.updated.timestamp(),
            memory_json=prepared.memory_json,
        )
        self._insert_entities(doc_id, prepared.names)
        if memory.supersedes:
            self.db.execute(
                "INSERT INTO edges (src, dst, kind, weight, doc_id) VALUES (?, ?, 'supersedes', 1.0, ?)",
                (f"mem:{memory.id}", f"mem:{memory.supersedes}", doc_id),
            )
        write_anchors(self.db, doc_id, memory, prepared.anchors)

    # ---- edges ---------------------------------------------------------------------------

    def _module_map(self) -> dict[str, str]:
        """Dotted module names (every suffix of the path) → file, for resolving imports."""
        modules: dict[str, str] = {}
        for (path,) in self.db.execute("SELECT path FROM documents WHERE source = 'repo'"):
            if not path.endswith((".py", ".pyi", ".java")):
                continue
            parts = path.rsplit(".", 1)[0].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            for n in range(len(parts)):
                modules.setdefault(".".join(parts[n:]), path)
        return modules

    def _link_imports_of(
        self,
        doc_id: int,
        path: str,
        targets: list[str],
        language: str,
        modules: dict[str, str] | None = None,
        files: set[str] | None = None,
    ) -> None:
        if modules is None:
            modules = self._module_map()
        if files is None:
            files = {
                p for (p,) in self.db.execute("SELECT path FROM documents WHERE source='repo'")
            }
        resolved = resolve_imports(path, targets, language, modules, files)
        self.db.execute("DELETE FROM edges WHERE doc_id = ? AND kind = 'import'", (doc_id,))
        self.db.executemany(
            "INSERT INTO edges (src, dst, kind, weight, doc_id) VALUES (?, ?, 'import', 1.0, ?)",
            [(f"file:{path}", f"file:{dst}", doc_id) for dst in sorted(resolved) if dst != path],
        )

    def _link_deferred(self, files: set[str]) -> None:
        """Link the files a run deferred when, in the end, no file came or went."""
        modules = self._module_map()
        with self.db:
            for doc_id, path, imports, language in self._deferred:
                self._link_imports_of(doc_id, path, imports, language, modules, files)
        self._deferred = []

    def _relink_imports(self, near: Sequence[str] | None = None) -> set[int]:
        """Resolve the import edges of every file again, or (`near`: files that came or went)
        only of the files whose imports could point at one of them: an import names the module
        or file it points at, so it holds that file's stem or folder name, or it pointed at a
        file that went. Every file again was 0.6 s at 10k files, after every new file.

        Returns the documents linked (a deferred one among them needs no second pass)."""
        modules = self._module_map()
        files = {p for (p,) in self.db.execute("SELECT path FROM documents WHERE source='repo'")}
        query = "SELECT id, path, lang, imports FROM documents WHERE source='repo' AND imports IS NOT NULL"
        if near is not None:
            words = set()
            for path in near:
                pure = PurePosixPath(path)
                words |= {pure.stem, pure.parent.name} - {""}
            if not words or len(near) > NAME_DIFF_DOCS:
                near = None
            else:
                like = " OR ".join("instr(imports, ?) > 0" for _ in words)
                gone = ",".join("?" * len(near))
                query += (
                    f" AND ({like} OR id IN (SELECT doc_id FROM edges WHERE kind = 'import' "
                    f"AND dst IN ({gone})))"
                )
        args = [] if near is None else [*sorted(words), *(f"file:{p}" for p in near)]
        rows = self.db.execute(query, args).fetchall()
        with self.db:
            for doc_id, path, lang, imports in rows:
                self._link_imports_of(doc_id, path, json.loads(imports), lang or "", modules, files)
        return {row[0] for row in rows}

    def _memories_naming(self, paths: list[str]) -> set[int] | None:
        """The memory documents whose text may name a name that these files gained or lost,
        or None (link every memory again) when that is too many names to tell.

        A memory links to an entity only through one of its names appearing in its text (as
        written, or with its words separated differently), so a memory whose text contains none
        of the changed names, even loosely, links exactly as before. Adding or deleting a file
        used to relink all memories: 8-13 s at 5,000 memories, after every new file.
        """
        if len(paths) > NAME_DIFF_DOCS or len(self._old_names) >= NAME_DIFF_DOCS:
            return None
        new: dict[str, set[str]] = {}
        for start in range(0, len(paths), 500):
            part = paths[start : start + 500]
            marks = ",".join("?" * len(part))
            for path, norm in self.db.execute(
                "SELECT d.path, e.norm FROM entities e JOIN documents d ON d.id = e.doc_id "
                f"WHERE d.source = 'repo' AND d.path IN ({marks})",
                part,
            ):
                new.setdefault(path, set()).add(norm)
        changed: set[str] = set()
        for path in set(paths) | set(self._old_names):
            changed |= new.get(path, set()) ^ self._old_names.get(path, set())
        if any(_ADR_LIKE.search(p) for p in paths):
            return None  # "the ADR about the job queue" is matched by title words, not names
        if len(changed) > 20_000:
            return None
        if not changed:
            return set()
        needles: set[str] = set()
        bags: list[list[str]] = []  # every word of a path-word bag must be there
        for name in changed:
            if name.startswith(entity_keys.BAG):
                bags.append([w[:-1] or w for w in name[1:].split()])
            else:
                needles.add(name[:-1] if len(name) > 2 else name)  # a plural, "-ies" for "-y"
                needles.add(_LOOSE.sub(" ", name).strip()[:-1] or name)
        needles.discard("")
        pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
        found: set[int] = set()
        for doc_id, title, text in self.db.execute(
            "SELECT c.doc_id, c.title, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id "
            "WHERE d.source = 'memory'"
        ):
            raw = f"{title}\n{text}".lower().replace("’", "'")
            loose = _LOOSE.sub(" ", raw)
            if (needles and (pattern.search(raw) or pattern.search(loose))) or any(
                all(w in loose for w in bag) for bag in bags
            ):
                found.add(doc_id)
        return found

    def _relink_mentions(self, only_docs: set[int] | None) -> None:
        """Mention edges from memories to the files, symbols, people and terms they name."""
        from kenning.engine.prefetch import database_path

        if only_docs is not None and not only_docs:
            return
        query = (
            "SELECT c.doc_id, c.ref, c.title, c.text FROM chunks c JOIN documents d "
            "ON d.id = c.doc_id WHERE d.source = 'memory'"
        )
        if only_docs is None or len(only_docs) > 500:
            rows = self.db.execute(query).fetchall()
            if only_docs is not None:
                rows = [row for row in rows if row[0] in only_docs]
        else:
            marks = ",".join("?" * len(only_docs))
            rows = self.db.execute(f"{query} AND d.id IN ({marks})", sorted(only_docs)).fetchall()
        self.db.commit()  # the workers read what this run has written
        linked = mentions.link_memories(
            self.db,
            database_path(self.db),
            rows,
            in_memory=self._link_in_memory(only_docs),
            workers=worker_count(self.workers),
        )
        with self.db:
            for doc_id, ref, targets in linked:
                self.db.execute(
                    "DELETE FROM edges WHERE doc_id = ? AND kind = 'mention'", (doc_id,)
                )
                node = f"mem:{ref}"
                self.db.executemany(
                    "INSERT INTO edges (src, dst, kind, weight, doc_id) VALUES (?, ?, 'mention', 1.0, ?)",
                    [(node, target, doc_id) for target in targets],
                )

    def _link_in_memory(self, only_docs: set[int] | None) -> bool:
        """Whether linking these memories goes faster with every entity name loaded first.

        Loading costs ~4.5 µs a name row and saves ~0.2 ms a memory over indexed look-ups
        (measured at 10k files: 684k rows, 5k memories: 5.8 s loaded, 3.7 s looked up, the same
        edges), so it pays only when there are few names for the memories to link.
        """
        if only_docs is None:
            memories = self.db.execute(
                "SELECT count(*) FROM documents WHERE source = 'memory'"
            ).fetchone()[0]
        else:
            memories = len(only_docs)
        names = self.db.execute("SELECT max(rowid) FROM entities").fetchone()[0] or 0
        return bool(memories >= BULK_LINKING and memories * NAMES_PER_MEMORY > names)

    def _refresh_cochange(self) -> None:
        """Edges between files changed in the same commits, and each file's recent commit
        messages (`file_history`), from one read of recent git history."""
        if not (self.project.root / ".git").exists():
            return
        head = _git(self.project.root, "rev-parse", "HEAD")
        if head is None or get_meta(self.db, "cochange_head") == head.strip():
            return
        log = _git(
            self.project.root,
            "log",
            f"-n{COCHANGE_COMMITS}",
            "--name-only",
            "--no-renames",
            f"--format={githistory.LOG_FORMAT}",
        )
        commits = githistory.parse_log(log or "")
        pairs = githistory.cochange_pairs(commits, COCHANGE_MAX_FILES)
        histories = githistory.file_histories(
            commits, self._repo_paths(), max_files=COCHANGE_MAX_FILES
        )
        with self.db:
            self.db.execute("DELETE FROM edges WHERE kind = 'cochange'")
            self.db.executemany(
                "INSERT INTO edges (src, dst, kind, weight, doc_id) VALUES (?, ?, 'cochange', ?, NULL)",
                [(f"file:{a}", f"file:{b}", float(n)) for (a, b), n in pairs.items()],
            )
            githistory.write_histories(self.db, histories)
            set_meta(self.db, "cochange_head", head.strip())

    def _refresh_staleness(self) -> None:
        """Flag memories whose anchored code was deleted, renamed or rewritten (see hygiene)."""
        from kenning.hygiene.staleness import FILE_CHANGE, SYMBOL_CHANGE, refresh

        refresh(
            self.db,
            self.project.root,
            symbol_change=float(setting(self.settings, "hygiene.symbol_change", SYMBOL_CHANGE)),
            file_change=float(setting(self.settings, "hygiene.file_change", FILE_CHANGE)),
        )
        with self.db:
            set_meta(self.db, "stale_checked", str(time.time()))

    def _save_skipped(self, skipped: dict[str, str], only: Sequence[str] | None = None) -> None:
        """Record what the scan skipped: all of it, or (a watcher's run) for `only` these paths."""
        with self.db:
            if only is None:
                self.db.execute("DELETE FROM skipped")
            else:
                self.db.executemany("DELETE FROM skipped WHERE path = ?", [(p,) for p in only])
            self.db.executemany(
                "INSERT OR REPLACE INTO skipped (path, reason) VALUES (?, ?)", skipped.items()
            )

    # ---- vectors -------------------------------------------------------------------------

    def pending_vectors(self) -> int:
        """Chunks without a vector. Vectors go with their chunks (`_delete_doc`), so the
        difference of two counts is the answer, without a join over every chunk."""
        row = self.db.execute(
            "SELECT (SELECT count(*) FROM chunks) - (SELECT count(*) FROM vectors)"
        ).fetchone()
        return max(0, int(row[0]))

    def embed_pending(
        self,
        stats: IndexStats,
        progress: Progress | None = None,
        limit: int | None = None,
        batch: int = 64,
        first: set[int] | None = None,
    ) -> None:
        """Embed chunks that have no vector yet, reusing cached vectors of identical text.

        Memories before code, and the chunks of the documents in `first` before anything else.
        """
        from kenning.engine.vectors import embed_texts, embedder_key

        key = embedder_key()
        if key is None:
            stats.vectors_pending = self.pending_vectors()
            return
        rows = self.db.execute(
            "SELECT id, hash, title, text FROM chunks WHERE id NOT IN (SELECT chunk_id FROM vectors) "
            "ORDER BY CASE WHEN doc_id IN (SELECT value FROM json_each(?)) THEN 0 "
            "WHEN kind IN ('file','symbol','doc') THEN 2 ELSE 1 END, id"
            + (f" LIMIT {int(limit)}" if limit else ""),
            (json.dumps(sorted(first or ())),),
        ).fetchall()
        total = len(rows)
        done = 0
        for start in range(0, total, batch):
            part = rows[start : start + batch]
            cached: dict[int, bytes] = {}
            todo: list[tuple[int, str, str]] = []
            for chunk_id, digest, title, text in part:
                hit = self.db.execute(
                    "SELECT vec FROM embed_cache WHERE key = ?", (f"{key}:{digest}",)
                ).fetchone()
                if hit:
                    cached[chunk_id] = hit[0]
                else:
                    todo.append((chunk_id, digest, f"{title}\n{text}"))
            vectors = embed_texts([t for _, _, t in todo]) if todo else None
            with self.db:
                for (chunk_id, digest, _), vec in zip(
                    todo, vectors if vectors is not None else [], strict=False
                ):
                    blob = vec.astype("float16").tobytes()
                    self.db.execute(
                        "INSERT OR REPLACE INTO vectors VALUES (?, ?)", (chunk_id, blob)
                    )
                    self.db.execute(
                        "INSERT OR REPLACE INTO embed_cache VALUES (?, ?)",
                        (f"{key}:{digest}", blob),
                    )
                for chunk_id, blob in cached.items():
                    self.db.execute(
                        "INSERT OR REPLACE INTO vectors VALUES (?, ?)", (chunk_id, blob)
                    )
                gen = int(get_meta(self.db, "vector_generation", "0") or 0) + 1
                set_meta(self.db, "vector_generation", str(gen))
            done += len(part)
            stats.vectors_written += len(part)
            if progress:
                progress("vectors", done, total)
        stats.vectors_pending = self.pending_vectors()


# A run writing this many files raises the page cache to BIG_RUN_CACHE_KB while it writes.
BIG_RUN_FILES = 200
BIG_RUN_CACHE_KB = 32_000

# Linking at least this many memories at once may load the whole entity table instead of
# looking names up in the index one text at a time: when there are fewer than
# NAMES_PER_MEMORY entity rows per memory to link (see `Indexer._link_in_memory`).
BULK_LINKING = 200
NAMES_PER_MEMORY = 40
# A run that rewrote or deleted more files than this links every memory again, instead of
# only the memories that name a name those files gained or lost.
NAME_DIFF_DOCS = 500
_LOOSE = re.compile(r"[\W_]+")
_ADR_LIKE = re.compile(r"(?:^|/)adrs?/\d{3,5}-", re.IGNORECASE)


def resolve_imports(
    path: str, targets: list[str], language: str, modules: dict[str, str], files: set[str]
) -> set[str]:
    """Repo files that the import targets of `path` point at (unresolvable ones are dropped)."""
    out: set[str] = set()
    folder = PurePosixPath(path).parent
    for target in targets:
        if language == "python":
            if target.startswith("."):
                dots = len(target) - len(target.lstrip("."))
                base = folder
                for _ in range(dots - 1):
                    base = base.parent
                rest = target.lstrip(".")
                candidate = (base / rest.replace(".", "/")) if rest else base
                for probe in (f"{candidate}.py", f"{candidate}/__init__.py"):
                    if probe in files:
                        out.add(probe)
                        break
            else:
                name = target
                while name:
                    if name in modules:
                        out.add(modules[name])
                        break
                    name = name.rpartition(".")[0]
        elif language in ("javascript", "typescript", "tsx"):
            if not target.startswith("."):
                continue
            joined = os.path.normpath(str(folder / target)).replace(os.sep, "/")
            for probe in (
                joined,
                *(joined + ext for ext in (".ts", ".tsx", ".js", ".jsx", ".mjs", ".d.ts")),
                *(f"{joined}/index{ext}" for ext in (".ts", ".tsx", ".js", ".jsx")),
            ):
                if probe in files:
                    out.add(probe)
                    break
        elif language == "java":
            if target in modules:
                out.add(modules[target])
        elif language == "go":
            suffix = "/" + target.rsplit("/", 1)[-1] + "/"
            out |= {f for f in files if f.endswith(".go") and suffix in "/" + f}
    return out


def _date_to_epoch(value: str | None) -> float | None:
    if not value:
        return None
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            errors="replace",  # a commit message need not be UTF-8
            timeout=30,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
