"""The write hooks a workspace installs on its store: provenance, anchors, near-duplicates.

`WorkspaceHooks` implements `kenning.memory.WriteHooks`. Every memory written through a
workspace (the CLI, the MCP server, the web UI, the local model) gets:

- `provenance:` in its front-matter: the recording tool, the session when the tool names one
  (`KENNING_SESSION`), and the git commit the project was at;
- `anchors:` (see `kenning.hygiene.anchors`), unless it is personal or a person/preference and
  no file was named;

and a new memory that says what an active one of the same kind already says is refused or
merged (see `kenning.hygiene.dedupe`). Stores built without a workspace (imports, sync, tests)
write exactly what they are given.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kenning.errors import MemoryFormatError, MemoryNotFound
from kenning.hygiene import git
from kenning.hygiene.anchors import Code, resolve_anchors
from kenning.hygiene.dedupe import (
    Embed,
    default_embed,
    find_near_duplicate,
    merge,
    statement,
)
from kenning.index.terms import STOP_WORDS
from kenning.memory import Memory, MemoryStore

UNANCHORED_KINDS = ("person", "preference")
# How many memories of the kind a new one is compared with: the closest by words and by meaning.
LEXICAL_CANDIDATES = 100
DENSE_CANDIDATES = 50


def provenance(root: Path, tool: str, session: str | None = None) -> dict[str, str]:
    """Who recorded a memory and where the code was: tool, session, commit."""
    out = {"tool": tool}
    session = session or os.environ.get("KENNING_SESSION")
    if session:
        out["session"] = session
    commit = git.head(root)
    if commit:
        out["commit"] = commit
    return out


class WorkspaceHooks:
    """`WriteHooks` for one project; `db` returns its index connection when one exists."""

    def __init__(
        self,
        root: Path,
        db: Callable[[], sqlite3.Connection | None],
        embed: Callable[[Sequence[str]], np.ndarray[Any, Any] | None] | None = default_embed,
    ) -> None:
        self.root = root
        self.db = db
        self.embed = embed

    def prepare(self, memory: Memory, files: Sequence[str]) -> Memory:
        extra = dict(memory.extra)
        if not isinstance(extra.get("provenance"), dict):
            extra["provenance"] = provenance(self.root, memory.source)
        wants_anchors = files or not (memory.personal or memory.kind in UNANCHORED_KINDS)
        if wants_anchors and "anchors" not in extra:
            anchors = resolve_anchors(memory.text, Code(self.root, self.db()), files)
            if anchors:
                extra["anchors"] = [a.render() for a in anchors]
        return replace(memory, extra=extra)

    def find_duplicate(self, store: MemoryStore, memory: Memory) -> tuple[Memory, float] | None:
        known = self._index_vectors(memory.kind)
        embed = _embedding_once(self.embed) if self.embed is not None else None
        candidates = self._indexed_candidates(store, memory, known, embed)
        if candidates is None:
            candidates = store.all(memory.kind)
        candidates = [m for m in candidates if m.active and m.personal == memory.personal]
        if not candidates:
            return None
        found = find_near_duplicate(statement(memory), candidates, embed, known=known)
        return (found[0], found[1].score) if found else None

    def _indexed_candidates(
        self,
        store: MemoryStore,
        memory: Memory,
        known: dict[str, np.ndarray[Any, Any]],
        embed: Embed | None,
    ) -> list[Memory] | None:
        """The memories of the kind that could be near-duplicates, found through the index:
        the closest by BM25 and by their stored vectors. Parsing and comparing every memory of
        the kind took seconds at 5,000 memories. None when there is no index to ask."""
        db = self.db()
        if db is None:
            return None
        text = statement(memory)
        words = sorted(set(re.findall(r"[a-z0-9]{2,}", text.lower())) - STOP_WORDS)
        refs: dict[str, None] = {}
        if words:
            query = " OR ".join('"' + w.replace('"', "") + '"' for w in words[:64])
            refs.update(
                (ref, None)
                for (ref,) in db.execute(
                    "SELECT c.ref FROM memory_fts f JOIN chunks c ON c.id = f.rowid "
                    "WHERE memory_fts MATCH ? AND c.kind = ? AND c.status = 'active' "
                    "ORDER BY bm25(memory_fts) LIMIT ?",
                    (query, memory.kind, LEXICAL_CANDIDATES),
                )
            )
        if known and embed is not None:
            vector = embed([text])
            if vector is not None:
                ids = list(known)
                scores = np.stack([known[i] for i in ids]) @ vector[0]
                refs.update((ids[i], None) for i in np.argsort(-scores)[:DENSE_CANDIDATES])
        out: list[Memory] = []
        for ref in refs:
            try:
                out.append(store.get(ref))
            except (MemoryNotFound, MemoryFormatError):
                continue  # the index is behind the files: the next run catches up
        return out

    def merge(self, existing: Memory, new: Memory) -> Memory:
        return merge(existing, new)

    def _index_vectors(self, kind: str) -> dict[str, np.ndarray[Any, Any]]:
        """Vectors the index already holds for active memories of `kind`, by memory id."""
        db = self.db()
        if db is None:
            return {}
        from kenning.engine.vectors import embedder_key

        if embedder_key() is None:
            return {}
        rows = db.execute(
            "SELECT c.ref, v.vec FROM chunks c JOIN vectors v ON v.chunk_id = c.id "
            "WHERE c.kind = ? AND c.status = 'active' AND c.memory_json IS NOT NULL",
            (kind,),
        ).fetchall()
        return {ref: np.frombuffer(blob, dtype=np.float16).astype(np.float32) for ref, blob in rows}


def _embedding_once(embed: Embed) -> Embed:
    """`embed` that computes each text once: the candidate search and the comparison both
    need the new memory's vector."""
    done: dict[str, np.ndarray[Any, Any]] = {}

    def once(texts: Sequence[str]) -> np.ndarray[Any, Any] | None:
        missing = [t for t in dict.fromkeys(texts) if t not in done]
        if missing:
            vectors = embed(missing)
            if vectors is None:
                return None
            done.update(zip(missing, vectors, strict=True))
        return np.stack([done[t] for t in texts]) if texts else None

    return once
