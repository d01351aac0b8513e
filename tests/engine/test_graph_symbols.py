"""The ranking graph holds only the symbols some edge names; a seeded symbol that is not a node
still ranks, and starts its walk at its file."""

from __future__ import annotations

from pathlib import Path

from kenning.workspace import Workspace


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "ledger.py").write_text(
        "def reconcile_ledger():\n    pass\n\n\ndef close_period():\n    pass\n"
    )
    (root / "pkg" / "report.py").write_text("from pkg import ledger\n\n\ndef render():\n    pass\n")
    (root / "notes.py").write_text("def lonely():\n    pass\n")
    return root


def test_only_named_symbols_are_nodes_and_a_seeded_symbol_still_ranks(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    ws.remember(
        "reconcile_ledger must run before close_period, never after.",
        kind="decision",
        title="Reconcile before closing",
    )
    kinds = {k for (k,) in ws.db.execute("SELECT DISTINCT kind FROM edges")}
    assert "contains" not in kinds  # a symbol's tie to its file is its symbols row
    graph = ws.engine.retriever.graph
    graph.refresh(ws.db)
    # The mentioned symbols are nodes tied to their file; `render` and `lonely` are not.
    assert "sym:pkg/ledger.py::reconcile_ledger" in graph.index
    assert "sym:pkg/report.py::render" not in graph.index
    ledger = graph.personalized_pagerank({"sym:pkg/ledger.py::reconcile_ledger": 1.0})
    assert "file:pkg/ledger.py" in ledger and "file:pkg/report.py" in ledger

    # A seeded symbol that is no node: it keeps its restart share and its file is walked from.
    seeds = {"sym:pkg/report.py::render": 1.0}
    ranked = dict(graph.top(seeds, 10))
    assert ranked["sym:pkg/report.py::render"] > 0
    assert "file:pkg/report.py" in ranked and "file:pkg/ledger.py" in ranked
    assert dict(graph.top(seeds, 10_000)) == graph.personalized_pagerank(seeds)

    # A symbol of a file no edge names is still ranked, alone.
    alone = dict(graph.top({"sym:notes.py::lonely": 1.0}, 5))
    assert list(alone) == ["sym:notes.py::lonely"]
    assert abs(alone["sym:notes.py::lonely"] - 0.2) < 1e-9
    hits = ws.engine.retriever.graph_rank({"sym:notes.py::lonely": 1.0}, ["symbol"], 5)
    chunk = ws.db.execute("SELECT chunk_id FROM symbols WHERE qualname = 'lonely'").fetchone()[0]
    assert [cid for cid, _ in hits] == [chunk]
    ws.close()


def test_the_catalogue_still_shows_what_each_file_contains(tmp_path: Path) -> None:
    from kenning.web.graph import load_catalogue

    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    cat = load_catalogue(ws.db)
    ws.close()
    contained = {link.other for link in cat.links["file:pkg/ledger.py"] if link.kind == "contains"}
    assert contained == {
        "sym:pkg/ledger.py::reconcile_ledger",
        "sym:pkg/ledger.py::close_period",
    }
