"""Dense retrieval glue: the embedder (loaded once per process) and the vector matrix.

Vectors are stored as float16 blobs in the index; `VectorMatrix` holds them (exactly, or as sign
bits and int8 when there are many), brought up to date when the index's `vector_generation`
changes. This Python cannot load sqlite-vec. When the model files are missing, dense
retrieval is off and lexical + graph retrieval carry on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    """All chunk vectors of an index, for nearest-neighbour search; reloaded when vectors change.

    Memory rows come first, then code rows (`spans`), so a memory search scans the few
    thousand memory vectors instead of every code chunk's as well.

    Up to `EXACT_ROWS` vectors are held as one float32 matrix and searched exactly. Beyond that
    (10k files make ~175k chunks: a 267 MB matrix, most of a server's memory) each vector is
    held as its signs (48 bytes) and as int8 with a scale (388 bytes): a search ranks every
    row by the Hamming distance of the signs, then scores the best `CANDIDATES` by their int8
    vectors. `bench/approximations.py` measures how much of the exact top k that keeps.

    The signs are stored word-major (`signs[w]` is word `w` of every row): the distance is then
    six passes over contiguous words, ~0.5 ms for 169k rows, where a row-major sum over each
    row's six words took ~3 ms.
    """

    EXACT_ROWS = 20_000
    CANDIDATES = 4000

    def __init__(self) -> None:
        self.generation: str | None = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix: np.ndarray | None = np.zeros((0, 0), dtype=np.float32)
        self.signs: np.ndarray | None = None
        self.q8: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        # Row numbers by chunk id: the ids sorted, and where each sorted id's row is.
        self._sorted_ids = np.zeros(0, dtype=np.int64)
        self._sorted_rows = np.zeros(0, dtype=np.int64)
        self.spans: dict[str, slice] = {}

    @property
    def exact(self) -> bool:
        return self.matrix is not None

    def refresh(self, db: sqlite3.Connection) -> None:
        generation = get_meta(db, "vector_generation", "0")
        if generation == self.generation:
            return
        if self.generation is not None and self._apply_changes(db):
            self.generation = generation
            return
        count, memories = db.execute(
            "SELECT count(*), coalesce(sum(c.kind IN " + MEMORY_KIND_SQL + "), 0) "
            "FROM vectors v JOIN chunks c ON c.id = v.chunk_id"
        ).fetchone()
        self.generation = generation
        # A batch at a time, each written into arrays sized for every row: the rows, a joined
        # blob and a float32 matrix held at once had tripled the peak memory of a refresh, and
        # per-batch blocks joined at the end still doubled it (175k rows: 275 MB peak for 77).
        exact = count <= self.EXACT_ROWS
        ids = np.zeros(count, dtype=np.int64)
        whole: _Block | None = None
        done = 0
        for batch in _batches(db, _MEMORIES_FIRST, 4096):
            block = _Block.of(_floats(r[1] for r in batch), exact)
            if whole is None:
                whole = _Block.empty_like(block, count)
            end = min(done + len(batch), count)
            if end - done < len(batch):  # written since the count: read again next time
                self.generation = None
            ids[done:end] = [r[0] for r in batch[: end - done]]
            whole.fill(done, block, end - done)
            done = end
        self._set([ids[:done]], [] if whole is None else [whole.head(done)], exact, memories)

    def _set(self, ids: list[np.ndarray], blocks: list[_Block], exact: bool, memories: int) -> None:
        self.ids = (
            ids[0] if len(ids) == 1 else np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        )
        joined = _Block.join(blocks, exact)
        self.matrix, self.signs, self.q8, self.scale = (
            joined.matrix,
            joined.signs,
            joined.q8,
            joined.scale,
        )
        memories = min(memories, len(self.ids))
        self.spans = {"memory": slice(0, memories), "code": slice(memories, len(self.ids))}
        # Memory ids then code ids, each run sorted: a stable sort merges them in a few ms,
        # where a dict of 175k ids took ~25 ms on the first brief after every index change.
        self._sorted_rows = np.argsort(self.ids, kind="stable")
        self._sorted_ids = self.ids[self._sorted_rows]

    def rows_of(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        """Row number of each of `chunk_ids` that has a vector."""
        if not len(chunk_ids) or not len(self._sorted_ids):
            return {}
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted_ids, wanted), len(self._sorted_ids) - 1)
        hit = self._sorted_ids[at] == wanted
        return {
            int(c): int(r) for c, r in zip(wanted[hit], self._sorted_rows[at[hit]], strict=True)
        }

    def _apply_changes(self, db: sqlite3.Connection) -> bool:
        """Bring the rows up to date by dropping the vectors that went and reading only the new
        ones (a server re-embeds one edited file: reading 175k vectors again took seconds).
        False when a full reload is simpler: a large change, or a switch of representation."""
        current = _vector_ids(db)
        fresh = np.setdiff1d(current, self.ids, assume_unique=True)
        if len(fresh) > max(2000, len(self.ids) // 10) or not len(self.ids):
            return False
        alive = np.isin(self.ids, current, assume_unique=True)
        if self.exact != (int(alive.sum()) + len(fresh) <= self.EXACT_ROWS):
            return False
        rows: list[tuple[int, bytes, int]] = []
        for start in range(0, len(fresh), 900):
            part = [int(c) for c in fresh[start : start + 900]]
            marks = ",".join("?" * len(part))
            rows += db.execute(
                "SELECT v.chunk_id, v.vec, c.kind IN " + MEMORY_KIND_SQL + " AS memory "
                f"FROM vectors v JOIN chunks c ON c.id = v.chunk_id WHERE v.chunk_id IN ({marks}) "
                "ORDER BY memory DESC, v.chunk_id",
                part,
            ).fetchall()
        split = self.spans["memory"].stop or 0
        ids: list[np.ndarray] = []
        blocks: list[_Block] = []
        memories = 0
        for memory, old in ((True, slice(0, split)), (False, slice(split, len(self.ids)))):
            keep = np.flatnonzero(alive[old]) + (old.start or 0)
            new = [r for r in rows if bool(r[2]) == memory]
            ids += [self.ids[keep], np.array([r[0] for r in new], dtype=np.int64)]
            blocks.append(self._rows(keep))
            if new:
                blocks.append(_Block.of(_floats(r[1] for r in new), self.exact))
            if memory:
                memories = len(keep) + len(new)
        self._set(ids, blocks, self.exact, memories)
        return True

    def _rows(self, rows: np.ndarray) -> _Block:
        return _Block(
            None if self.matrix is None else self.matrix[rows],
            None if self.signs is None else self.signs[:, rows],
            None if self.q8 is None else self.q8[rows],
            None if self.scale is None else self.scale[rows],
        )

    def vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The float32 vectors of these chunks (those that have one; int8-rounded above
        `EXACT_ROWS`)."""
        row_of = self.rows_of(chunk_ids)
        rows = [(c, row_of[c]) for c in chunk_ids if c in row_of]
        if not rows:
            return {}
        index = np.array([r for _, r in rows], dtype=np.int64)
        if self.matrix is not None:
            found = self.matrix[index]
        else:
            assert self.q8 is not None and self.scale is not None
            found = self.q8[index].astype(np.float32) * self.scale[index, None]
        return {c: found[i] for i, (c, _) in enumerate(rows)}

    def top(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        span: str | None = None,
    ) -> list[tuple[int, float]]:
        """The k chunk ids most similar to `query`: only rows where `allowed` (a mask over all
        rows), and only in `span` ('memory' or 'code') when given."""
        if not len(self.ids) or k <= 0:
            return []
        part = self.spans.get(span or "", slice(0, len(self.ids)))
        offset = part.start or 0
        if self.matrix is not None:
            scores = self.matrix[part] @ query
            if allowed is not None:
                scores = np.where(allowed[part], scores, -np.inf)
            return _best(scores, k, self.ids[part])
        assert self.signs is not None and self.q8 is not None and self.scale is not None
        distance = _hamming(self.signs[:, part], _sign_bits(query[None, :])[0])
        if allowed is not None:
            distance = np.where(allowed[part], distance, np.iinfo(np.int32).max)
        wanted = min(max(self.CANDIDATES, k), len(distance))
        near = np.argpartition(distance, wanted - 1)[:wanted] if wanted < len(distance) else None
        rows = np.arange(len(distance)) if near is None else near
        if allowed is not None:
            rows = rows[allowed[part][rows]]
        rows = rows + offset
        scores = (self.q8[rows].astype(np.float32) @ query) * self.scale[rows]
        return _best(scores, k, self.ids[rows])


@dataclass
class _Block:
    """Rows of a `VectorMatrix` in one representation: exact, or signs + int8 + scale."""

    matrix: np.ndarray | None
    signs: np.ndarray | None  # word-major: (words, rows)
    q8: np.ndarray | None
    scale: np.ndarray | None

    @classmethod
    def of(cls, floats: np.ndarray, exact: bool) -> _Block:
        if exact:
            return cls(floats.astype(np.float32), None, None, None)
        peak = np.abs(floats).max(axis=1).astype(np.float32)
        scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
        q8 = np.rint(floats / scale[:, None]).astype(np.int8)
        return cls(None, np.ascontiguousarray(_sign_bits(floats).T), q8, scale)

    @classmethod
    def empty_like(cls, block: _Block, rows: int) -> _Block:
        """Room for `rows` rows in `block`'s representation."""

        def room(part: np.ndarray | None, axis: int = 0) -> np.ndarray | None:
            if part is None:
                return None
            shape = list(part.shape)
            shape[axis] = rows
            return np.zeros(shape, dtype=part.dtype)

        return cls(room(block.matrix), room(block.signs, 1), room(block.q8), room(block.scale))

    def fill(self, at: int, block: _Block, rows: int) -> None:
        """Copy the first `rows` rows of `block` in from row `at`."""
        end = at + rows
        if self.matrix is not None and block.matrix is not None:
            self.matrix[at:end] = block.matrix[:rows]
        if self.signs is not None and block.signs is not None:
            self.signs[:, at:end] = block.signs[:, :rows]
        if self.q8 is not None and block.q8 is not None:
            self.q8[at:end] = block.q8[:rows]
        if self.scale is not None and block.scale is not None:
            self.scale[at:end] = block.scale[:rows]

    def head(self, rows: int) -> _Block:
        """The first `rows` rows (a view when that is all of them)."""
        return _Block(
            None if self.matrix is None else self.matrix[:rows],
            None if self.signs is None else self.signs[:, :rows],
            None if self.q8 is None else self.q8[:rows],
            None if self.scale is None else self.scale[:rows],
        )

    @classmethod
    def join(cls, blocks: list[_Block], exact: bool) -> _Block:
        def stack(parts: list[np.ndarray | None]) -> np.ndarray | None:
            present = [p for p in parts if p is not None]
            return np.concatenate(present) if present else None

        def stack_words(parts: list[np.ndarray | None]) -> np.ndarray | None:
            present = [p for p in parts if p is not None]
            return np.concatenate(present, axis=1) if present else None

        if not blocks:
            empty = np.zeros((0, 0), dtype=np.float32)
            return cls(empty, None, None, None) if exact else cls(None, None, None, None)
        if len(blocks) == 1:  # as it is: a copy would double the peak
            return blocks[0]
        return cls(
            stack([b.matrix for b in blocks]),
            stack_words([b.signs for b in blocks]),
            stack([b.q8 for b in blocks]),
            stack([b.scale for b in blocks]),
        )


# Memory rows, then code rows, each in chunk id order. Two passes, not one query sorted by
# "is a memory": SQLite sorted every row with its blob in memory for that (~140 MB at 175k).
_MEMORY_IDS = "SELECT id FROM chunks WHERE kind IN " + MEMORY_KIND_SQL
_MEMORIES_FIRST = (
    f"SELECT v.chunk_id, v.vec FROM vectors v WHERE v.chunk_id IN ({_MEMORY_IDS}) "
    "ORDER BY v.chunk_id",
    f"SELECT v.chunk_id, v.vec FROM vectors v WHERE v.chunk_id NOT IN ({_MEMORY_IDS}) "
    "AND EXISTS (SELECT 1 FROM chunks c WHERE c.id = v.chunk_id) ORDER BY v.chunk_id",
)


def _vector_ids(db: sqlite3.Connection) -> np.ndarray:
    """Every chunk id with a vector, in id order. Read as one string through the `vectors_chunk`
    index: a Python row per id over the table took ~90 ms at 175k vectors, this ~10 ms."""
    row = db.execute("SELECT group_concat(chunk_id) FROM vectors").fetchone()
    if not row or not row[0]:
        return np.zeros(0, dtype=np.int64)
    return np.array(row[0].split(","), dtype=np.int64)


def _batches(
    db: sqlite3.Connection, queries: Sequence[str], size: int
) -> Iterable[list[tuple[int, bytes]]]:
    for query in queries:
        cursor = db.execute(query)
        while batch := cursor.fetchmany(size):
            yield batch


def _floats(blobs: Iterable[bytes]) -> np.ndarray:
    rows = list(blobs)
    return np.frombuffer(b"".join(rows), dtype=np.float16).reshape(len(rows), -1)


def _best(scores: np.ndarray, k: int, ids: np.ndarray) -> list[tuple[int, float]]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best])]
    return [(int(ids[i]), float(scores[i])) for i in best if np.isfinite(scores[i])]


def _hamming(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each column of `words` (word-major sign bits) to `query`'s bits."""
    distance = np.zeros(words.shape[1], dtype=np.int32)
    for w in range(words.shape[0]):
        distance += np.bitwise_count(words[w] ^ query[w])
    return distance


def _sign_bits(block: np.ndarray) -> np.ndarray:
    """Each row's signs as bits, packed into uint64 words (zero-padded to a multiple of 64)."""
    packed = np.packbits(block > 0, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)
