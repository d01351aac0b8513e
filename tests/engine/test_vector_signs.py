"""The compact vector search (large indexes: signs to find candidates, int8 to score them)
agrees with the exact one up to rounding and honours the kind mask; an index that changed is
applied incrementally with the same result as a full reload."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from kenning.engine.vectors import VectorMatrix, _sign_bits
from kenning.index.db import set_meta
from kenning.index.schema import migrate


def _index(tmp_path: Path, n: int = 150, dim: int = 384) -> sqlite3.Connection:
    db = sqlite3.connect(tmp_path / "v.sqlite3")
    migrate(db)
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    with db:
        doc = db.execute(
            "INSERT INTO documents (path, source, mtime, size, hash) VALUES ('a.py','repo',0,0,'')"
        ).lastrowid
        for i, vec in enumerate(vecs):
            kind = "note" if i < 30 else "symbol"
            chunk = db.execute(
                "INSERT INTO chunks (doc_id, kind, ref, path, title, text, hash) "
                "VALUES (?, ?, ?, 'a.py', 't', 'x', ?)",
                (doc, kind, f"r{i}", f"h{i}"),
            ).lastrowid
            db.execute(
                "INSERT INTO vectors (chunk_id, vec) VALUES (?, ?)",
                (chunk, vec.astype(np.float16).tobytes()),
            )
        set_meta(db, "vector_generation", "1")
    return db


def _agrees(
    got: list[tuple[int, float]],
    want: list[tuple[int, float]],
    exact: VectorMatrix,
    query: np.ndarray,
) -> None:
    """The compact search's answer is the exact one up to int8 rounding: every score within
    0.01 of the exact cosine, and only rows tied with the exact k-th (within 0.02) swapped."""
    assert len(got) == len(want)
    floor = want[-1][1]
    truth = dict(want)
    for chunk, score in got:
        real = float(exact.vectors([chunk])[chunk] @ query)
        assert abs(score - real) < 0.01
        assert chunk in truth or real > floor - 0.02
    missing = [c for c, s in want if c not in dict(got)]
    assert all(truth[c] < floor + 0.02 for c in missing)


def test_compact_search_scoring_every_row_agrees_with_the_exact_search(tmp_path: Path) -> None:
    db = _index(tmp_path)
    exact, compact = VectorMatrix(), VectorMatrix()
    compact.EXACT_ROWS = 0
    exact.refresh(db)
    compact.refresh(db)
    assert exact.matrix is not None and compact.matrix is None
    assert compact.signs is not None and compact.signs.nbytes == 150 * 48  # 384 signs, 48 bytes
    assert compact.q8 is not None and compact.q8.dtype == np.int8
    rng = np.random.default_rng(1)
    for _ in range(20):
        query = rng.normal(size=384).astype(np.float32)
        query /= np.linalg.norm(query)
        for span in (None, "code", "memory"):
            # 150 rows < CANDIDATES: every row is scored by its int8 vector
            want = exact.top(query, 10, span=span)
            _agrees(compact.top(query, 10, span=span), want, exact, query)
        mask = np.zeros(len(exact.ids), dtype=bool)
        mask[::3] = True
        got = compact.top(query, 5, mask)
        _agrees(got, exact.top(query, 5, mask), exact, query)
        assert all(mask[exact.rows_of([c])[c]] for c, _ in got)
    first = int(compact.ids[0])
    assert np.allclose(compact.vectors([first])[first], exact.vectors([first])[first], atol=0.01)


def test_hamming_candidates_narrow_a_large_search(tmp_path: Path) -> None:
    db = _index(tmp_path, n=600)
    exact, compact = VectorMatrix(), VectorMatrix()
    compact.EXACT_ROWS, compact.CANDIDATES = 0, 100  # 1 row in 6 is scored
    exact.refresh(db)
    compact.refresh(db)
    # A query close to one stored vector finds it through its signs.
    target = int(exact.ids[400])
    query = exact.vectors([target])[target] + np.random.default_rng(3).normal(size=384) * 0.01
    query = (query / np.linalg.norm(query)).astype(np.float32)
    assert compact.top(query, 1)[0][0] == target


def test_hamming_distance_of_sign_bits_counts_disagreeing_signs() -> None:
    a = np.array([[1.0, -1.0, 1.0, -1.0] * 16], dtype=np.float32)
    b = a.copy()
    b[0, :5] *= -1
    distance = np.bitwise_count(_sign_bits(a) ^ _sign_bits(b)).sum()
    assert distance == 5


def test_a_changed_index_is_applied_incrementally_like_a_full_reload(tmp_path: Path) -> None:
    db = _index(tmp_path)
    for exact_rows in (10**6, 0):  # the exact matrix and the sign bits
        kept = VectorMatrix()
        kept.EXACT_ROWS = exact_rows
        kept.refresh(db)
        before = len(kept.ids)
        rng = np.random.default_rng(exact_rows % 97)
        with db:
            gone = [int(c) for c in kept.ids[::15]]
            db.executemany("DELETE FROM vectors WHERE chunk_id = ?", [(c,) for c in gone])
            for kind in ("note", "symbol", "note"):
                chunk = db.execute(
                    "INSERT INTO chunks (doc_id, kind, ref, path, title, text, hash) "
                    "VALUES (1, ?, 'new', 'a.py', 't', 'x', 'h')",
                    (kind,),
                ).lastrowid
                vec = rng.normal(size=384).astype(np.float32)
                vec /= np.linalg.norm(vec)
                db.execute(
                    "INSERT INTO vectors (chunk_id, vec) VALUES (?, ?)",
                    (chunk, vec.astype(np.float16).tobytes()),
                )
            set_meta(db, "vector_generation", f"after-{exact_rows}")
        kept.refresh(db)
        fresh = VectorMatrix()
        fresh.EXACT_ROWS = exact_rows
        fresh.refresh(db)
        assert len(kept.ids) == before - len(gone) + 3
        assert sorted(kept.ids.tolist()) == sorted(fresh.ids.tolist())
        assert kept.spans == fresh.spans
        for span in (None, "code", "memory"):
            query = rng.normal(size=384).astype(np.float32)
            assert kept.top(query, 8, span=span) == fresh.top(query, 8, span=span)
        if exact_rows == 0:
            assert kept.q8 is not None and fresh.q8 is not None
            assert np.array_equal(np.sort(kept.q8, axis=0), np.sort(fresh.q8, axis=0))
        # Incremental, not a full reload in disguise: a vector that stayed is not read again.
        stayed, dropped = int(kept.ids[-1]), int(kept.ids[0])
        before_vec = kept.vectors([stayed])[stayed].copy()
        with db:
            db.execute(
                "UPDATE vectors SET vec = ? WHERE chunk_id = ?",
                (np.ones(384, dtype=np.float16).tobytes(), stayed),
            )
            db.execute("DELETE FROM vectors WHERE chunk_id = ?", (dropped,))
            set_meta(db, "vector_generation", f"again-{exact_rows}")
        kept.refresh(db)
        assert np.allclose(kept.vectors([stayed])[stayed], before_vec)
        assert not kept.rows_of([dropped])
