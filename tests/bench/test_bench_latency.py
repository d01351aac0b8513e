"""The latency suite on a tiny generated corpus: corpus shape, JSON shape, worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenning.bench import corpus, latency


@pytest.fixture
def fake_roots(tmp_path: Path) -> list[tuple[str, Path]]:
    site = tmp_path / "site-packages"
    for n in range(12):
        pkg = site / f"pkg{n % 3}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"mod{n}.py").write_text(
            f'"""Module {n}."""\n\nclass Handler{n}:\n    pass\n\n\n'
            f"def compute_total_{n}(values):\n    return sum(values) * {n}\n"
        )
    (site / "pkg0" / "__pycache__").mkdir()
    (site / "pkg0" / "__pycache__" / "skip.py").write_text("x = 1\n")
    (site / "pkg1" / "empty.py").write_text("")
    return [("site", site)]


def test_file_selection_is_stable_and_skips_caches(fake_roots: list[tuple[str, Path]]) -> None:
    first = corpus.select_files(5, fake_roots)
    assert first == corpus.select_files(5, fake_roots)
    assert len(first) == 5
    assert all("__pycache__" not in rel and rel.startswith("site/pkg") for _, rel in first)
    assert len(corpus.select_files(100, fake_roots)) == 12  # the empty file is not a candidate


def test_corpus_memories_and_requests(tmp_path: Path, fake_roots: list[tuple[str, Path]]) -> None:
    root = tmp_path / "corpus"
    vocab = corpus.copy_files(corpus.select_files(12, fake_roots), root)
    assert sorted(vocab.packages) == ["pkg0", "pkg1", "pkg2"]
    assert "compute_total_3" in vocab.functions and "Handler3" in vocab.classes
    counts = corpus.write_memories(root, 60, vocab)
    assert sum(counts.values()) == 60 and len(counts) >= 5
    files = list((root / ".kenning" / "memories").rglob("*.md"))
    assert len(files) == 60
    from kenning.memory import MemoryStore

    store = MemoryStore(root / ".kenning" / "memories", None)
    assert len(store.all()) == 60 and not store.problems
    reqs = corpus.requests(40, vocab)
    assert len(reqs) == 40 and len(set(reqs)) > 30
    assert reqs == corpus.requests(40, vocab)


def test_measurements_in_process(tmp_path: Path, fake_roots: list[tuple[str, Path]]) -> None:
    root = tmp_path / "corpus"
    vocab = corpus.copy_files(corpus.select_files(12, fake_roots), root)
    corpus.write_memories(root, 30, vocab)
    index = latency.measure_index(root)
    assert index["files_seen"] == 12 and index["memories_indexed"] == 30
    assert index["files_per_second"] > 0 and index["peak_rss_mb"] > 0
    briefs = latency.measure_briefs(root, corpus.requests(6, vocab), dense=False)
    assert briefs["latency_ms"]["n"] == 6 and len(briefs["samples_ms"]) == 6
    assert "retrieve" in briefs["stages_ms"]
    reindex = latency.measure_reindex(root, rounds=2, vectors=False)
    assert reindex["one_file_ms"]["n"] == 2
    assert reindex["one_file_with_vectors_ms"]["n"] == 0
    assert reindex["file_added_ms"]["n"] == 2 and reindex["file_deleted_ms"]["n"] == 2
    # Where a watcher runs, each watched re-index is followed by a timed brief.
    assert reindex["brief_after_change_ms"]["n"] == reindex["one_file_watched_ms"]["n"]


def test_run_on_uses_workers_and_reports_targets(
    tmp_path: Path, fake_roots: list[tuple[str, Path]]
) -> None:
    root = tmp_path / "corpus"
    vocab = corpus.copy_files(corpus.select_files(12, fake_roots), root)
    corpus.write_memories(root, 20, vocab)
    seen: list[str] = []
    result = latency.run_on(
        root,
        corpus.requests(5, vocab),
        vectors="none",
        reindex_rounds=1,
        progress=lambda stage, n, total: seen.append(stage),
    )
    assert seen[0] == "index" and seen[-1] == "done"
    assert result["index"]["files_seen"] == 12
    # The throughput row is the median of several fresh builds, each listed.
    builds = result["index"]["builds"]
    assert len(builds) == latency.INDEX_BUILDS
    assert sorted(b["seconds"] for b in builds)[len(builds) // 2] == result["index"]["seconds"]
    assert result["vectors"] == {
        "mode": "none",
        "chunks_pending": result["vectors"]["chunks_pending"],
    }
    assert "brief" not in result and result["brief_lexical"]["requests"] == 5
    assert set(result["verdict"]) == set(latency.TARGETS)
    mcp = result["mcp"]  # get_context through a real `kenning mcp` over stdio
    assert mcp["requests"] == 5 and mcp["round_trip_ms"]["n"] == 5
    assert mcp["server_rss_mb"] > 0
