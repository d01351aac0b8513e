"""BM25 searches started ahead on a worker thread answer exactly what the brief's own searches
would have, only for the search they were started for, and stop with the workspace."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kenning.engine import prefetch
from kenning.engine.retrieve import CODE_KINDS, MEMORY_KINDS
from kenning.workspace import Workspace


def _project(root: Path) -> Path:
    (root / "billing").mkdir(parents=True)
    for n in range(12):
        (root / "billing" / f"ledger_{n}.py").write_text(
            f'"""Ledger part {n}: invoices, refunds and the nightly reconcile."""\n\n\n'
            f"def reconcile_{n}(invoices):\n    return [i for i in invoices if i.refund]\n\n\n"
            f"def export_{n}(rows):\n    return len(rows) * {n}\n"
        )
    (root / "README.md").write_text("# Billing\n\nThe nightly reconcile job settles refunds.\n")
    return root


def _packet(ws: Workspace, request: str) -> list[tuple[str, str]]:
    packet = ws.brief(request, use_dense=False)
    return [(item.kind, item.ref) for item in packet.items]


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kenning-bm25")]


def test_prefetched_searches_give_the_same_packets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    ws.remember("Refunds are reconciled nightly, never inline.", kind="decision")
    requests = [
        "fix the nightly reconcile of refunds",
        "export ledger rows",
        "why are refunds reconciled at night",
    ]
    monkeypatch.setattr(prefetch, "MIN_ROWS", 10**9)  # searched on the brief's own thread
    direct = [_packet(ws, r) for r in requests]
    assert not _workers()
    monkeypatch.setattr(prefetch, "MIN_ROWS", 0)  # every search handed to the worker
    retriever = ws.engine.retriever
    ahead = [_packet(ws, r) for r in requests]
    assert ahead == direct
    assert retriever._prefetcher is not None and not retriever._pending  # each answer used
    # The worker answered (not a fallback to this thread): its own retriever ran the searches.
    assert retriever._shadow is not None and retriever._shadow.db is not ws.db
    assert _workers()
    ws.close()
    assert not _workers()


def test_a_prefetched_answer_is_only_used_by_its_own_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    monkeypatch.setattr(prefetch, "MIN_ROWS", 0)
    retriever = ws.engine.retriever
    own = [h.chunk_id for h in retriever.search("export ledger rows", CODE_KINDS, use_dense=False)]
    retriever.prefetch_lexical("export ledger rows", CODE_KINDS)
    # Another request, and the same request for other kinds: neither takes that answer.
    assert retriever.search("nightly reconcile refunds", CODE_KINDS, use_dense=False)
    assert retriever.search("export ledger rows", MEMORY_KINDS, use_dense=False) == []
    assert len(retriever._pending) == 1
    again = retriever.search("export ledger rows", CODE_KINDS, use_dense=False)
    assert not retriever._pending
    assert retriever._known_paths  # the worker's paths went to the file ranking
    assert [h.chunk_id for h in again] == own
    ws.close()


def test_the_worker_reads_through_its_own_read_only_connection(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    path = prefetch.database_path(ws.db)
    assert path is not None and path.exists()
    worker = prefetch.Prefetcher(path)
    seen = worker.submit(lambda db: (db is not ws.db, db.execute("PRAGMA query_only").fetchone()))
    assert seen.result() == (True, (1,))
    refused = worker.submit(lambda db: db.execute("DELETE FROM chunks"))
    with pytest.raises(Exception, match="readonly"):
        refused.result()
    worker.close()
    assert ws.db.execute("SELECT count(*) FROM chunks").fetchone()[0] > 0
    ws.close()
