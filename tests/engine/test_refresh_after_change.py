"""What the first brief after an index change reads again: only what changed. An edited code
file leaves the memory timeline and the path-word tables as they were; a new memory or a new
file does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kenning.engine.vectors import VectorMatrix, _Block
from kenning.workspace import Workspace


def _project(root: Path) -> Path:
    (root / "billing").mkdir(parents=True)
    (root / "billing" / "ledger.py").write_text("def reconcile(rows):\n    return rows\n")
    (root / "billing" / "export.py").write_text("def export(rows):\n    return len(rows)\n")
    return root


def test_an_edit_keeps_the_timeline_and_path_tables_and_additions_do_not(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    ws.remember("Ledger exports run nightly.", kind="decision")
    ws.brief("reconcile the ledger", use_dense=False)
    retriever = ws.engine.retriever
    timeline, words = retriever.timeline(), retriever.files._by_word

    (root / "billing" / "ledger.py").write_text("def reconcile(rows):\n    return rows[:10]\n")
    assert ws.index(embed=False).files_indexed == 1
    ws.brief("reconcile the ledger", use_dense=False)
    assert retriever.timeline() is timeline
    assert retriever.files._by_word is words

    made = ws.remember("Refunds are never reconciled inline.", kind="rule")
    ws.brief("reconcile refunds", use_dense=False)
    assert retriever.timeline() is not timeline
    assert len(retriever.timeline().kinds) == len(timeline.kinds) + 1
    assert made.id

    (root / "billing" / "refunds.py").write_text("def refund(row):\n    return -row\n")
    ws.index(embed=False)
    ws.brief("refund a row", use_dense=False)
    assert retriever.files._by_word is not words
    assert any("billing/refunds.py" in paths for paths in retriever.files._by_word.values())
    ws.close()


def test_rows_of_finds_each_ids_row_in_both_runs() -> None:
    matrix = VectorMatrix()
    memory_ids = np.array([7, 40, 41], dtype=np.int64)  # memory rows first, then code rows
    code_ids = np.array([1, 2, 9, 100], dtype=np.int64)
    floats = np.random.default_rng(1).normal(size=(7, 8)).astype(np.float16)
    matrix._set([memory_ids, code_ids], [_Block.of(floats, True)], True, 3)
    order = [*memory_ids.tolist(), *code_ids.tolist()]
    assert matrix.rows_of([100, 7, 3, 41, 2]) == {100: 6, 7: 0, 41: 2, 2: 4}
    assert matrix.rows_of(order) == {c: i for i, c in enumerate(order)}
    assert matrix.rows_of([]) == {}
