"""Dense retrieval glue: the embedder (loaded once per process) and the vector matrix.

Vectors are stored as float16 blobs in the index and held in memory as one float32 matrix,
rebuilt only when the index's `vector_generation` changes. Brute-force cosine over 50k × 384 takes
about 20 ms in numpy; this Python cannot load sqlite-vec. When the model files are missing, dense
retrieval is off and lexical + graph retrieval carry on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from kenning.errors import EmbeddingError
from kenning.index.db import get_meta

_unavailable: list[str] = []


@cache
def _embedder() -> Any | None:
    try:
        from kenning.index.embed import default_embedder

        embedder = default_embedder()
        embedder.embed(["warm up"])
        return embedder
    except (ImportError, EmbeddingError) as exc:  # dense retrieval off; lexical and graph go on
        _unavailable.append(str(exc))
        return None


def dense_status() -> str:
    """'on (<model>)' or 'off: <reason>', for `kenning doctor`."""
    embedder = _embedder()
    if embedder is not None:
        return f"on ({embedder.name}, {embedder.dim} dimensions)"
    return "off: " + (_unavailable[0] if _unavailable else "no embedder")


def embedder_key() -> str | None:
    """The name vectors are cached under, or None when no embedder can run here."""
    embedder = _embedder()
    return None if embedder is None else f"{embedder.name}"


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    embedder = _embedder()
    assert embedder is not None
    return np.asarray(embedder.embed(list(texts)), dtype=np.float32)


def embed_query(text: str) -> np.ndarray | None:
    embedder = _embedder()
    if embedder is None:
        return None
    return np.asarray(embedder.embed([text[:2000]])[0], dtype=np.float32)


MEMORY_KIND_SQL = "('decision','rule','preference','person','term','fact','note')"


class VectorMatrix:
    """All chunk vectors of an index as (ids, matrix), reloaded when vectors change.

    Memory rows come first, then code rows (`spans`), so a memory search scans the few
    thousand memory vectors instead of every code chunk's as well.
    """

    def __init__(self) -> None:
        self.generation: str | None = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.row_of: dict[int, int] = {}
        self.spans: dict[str, slice] = {}

    def refresh(self, db: sqlite3.Connection) -> None:
        generation = get_meta(db, "vector_generation", "0")
        if generation == self.generation:
            return
        rows = db.execute(
            "SELECT v.chunk_id, v.vec, c.kind IN " + MEMORY_KIND_SQL + " AS memory "
            "FROM vectors v JOIN chunks c ON c.id = v.chunk_id ORDER BY memory DESC, v.chunk_id"
        ).fetchall()
        self.generation = generation
        if not rows:
            self.ids = np.zeros(0, dtype=np.int64)
            self.matrix = np.zeros((0, 0), dtype=np.float32)
            self.row_of = {}
            self.spans = {}
            return
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        blob = b"".join(r[1] for r in rows)
        dim = len(rows[0][1]) // 2
        self.matrix = (
            np.frombuffer(blob, dtype=np.float16).reshape(len(rows), dim).astype(np.float32)
        )
        self.row_of = {int(c): i for i, c in enumerate(self.ids)}
        memories = sum(1 for r in rows if r[2])
        self.spans = {"memory": slice(0, memories), "code": slice(memories, len(rows))}

    def top(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        span: str | None = None,
    ) -> list[tuple[int, float]]:
        """The k chunk ids most similar to `query`: only rows where `allowed` (a mask over all
        rows), and only in `span` ('memory' or 'code') when given."""
        if not len(self.ids):
            return []
        part = self.spans.get(span or "", slice(0, len(self.ids)))
        offset = part.start or 0
        scores = self.matrix[part] @ query
        if allowed is not None:
            scores = np.where(allowed[part], scores, -np.inf)
        k = min(k, len(scores))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        return [
            (int(self.ids[offset + i]), float(scores[i])) for i in best if np.isfinite(scores[i])
        ]
