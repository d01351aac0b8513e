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
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kenning.hygiene import git
from kenning.hygiene.anchors import Code, resolve_anchors
from kenning.hygiene.dedupe import (
    default_embed,
    find_near_duplicate,
    merge,
    statement,
)
from kenning.memory import Memory, MemoryStore

UNANCHORED_KINDS = ("person", "preference")


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
        candidates = [
            m for m in store.all(memory.kind) if m.active and m.personal == memory.personal
        ]
        if not candidates:
            return None
        found = find_near_duplicate(
            statement(memory), candidates, self.embed, known=self._index_vectors(memory.kind)
        )
        return (found[0], found[1].score) if found else None

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
