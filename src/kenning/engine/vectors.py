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


class VectorMatrix:
    """All chunk vectors of an index as (ids, matrix), reloaded when vectors change."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.row_of: dict[int, int] = {}

    def refresh(self, db: sqlite3.Connection) -> None:
        generation = get_meta(db, "vector_generation", "0")
        if generation == self.generation:
            return
        rows = db.execute("SELECT chunk_id, vec FROM vectors ORDER BY chunk_id").fetchall()
        self.generation = generation
        if not rows:
            self.ids = np.zeros(0, dtype=np.int64)
            self.matrix = np.zeros((0, 0), dtype=np.float32)
            self.row_of = {}
            return
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        blob = b"".join(r[1] for r in rows)
        dim = len(rows[0][1]) // 2
        self.matrix = (
            np.frombuffer(blob, dtype=np.float16).reshape(len(rows), dim).astype(np.float32)
        )
        self.row_of = {int(c): i for i, c in enumerate(self.ids)}

    def top(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k chunk ids most similar to `query` (optionally only rows where `allowed`)."""
        if not len(self.ids):
            return []
        scores = self.matrix @ query
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        return [(int(self.ids[i]), float(scores[i])) for i in best if np.isfinite(scores[i])]
