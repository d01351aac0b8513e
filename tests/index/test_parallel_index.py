"""A large run prepares files in worker processes; the index it writes is the same."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from kenning.index import memory_rows, mentions
from kenning.index.prepare import PARALLEL_FROM, WORKER_NICENESS, worker_pool
from kenning.workspace import Workspace


def _repo(root: Path, files: int) -> None:
    for n in range(files):
        folder = root / "pkg" / f"mod{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file_{n}.py").write_text(
            f'"""Module {n}."""\nimport pkg.mod{(n + 1) % 7}.file_{(n + 1) % files}\n\n'
            f"class Handler{n}:\n    def handle_{n}(self, value):\n        return value + {n}\n\n"
            f"def helper_{n}(items):\n    return [i * {n} for i in items]\n"
        )
    methods = "".join(
        f"    def step_{k}(self, value):\n"
        + "".join(f"        value += {i}\n" for i in range(20))
        + "        return value\n\n"
        for k in range(12)
    )
    (root / "pkg" / "pipeline.py").write_text(f"class Pipeline:\n    size = 12\n\n{methods}")
    (root / "notes.md").write_text("# Notes\n\nThe retry policy lives in pkg.\n")
    (root / "blob.bin").write_bytes(b"\x00\x01" * 100)
    (root / "AGENTS.md").write_text("# Rules\n\n- Never log tokens.\n")


def _rows(root: Path) -> tuple[list[tuple[object, ...]], ...]:
    db = sqlite3.connect(root / ".kenning" / "index" / "kenning.sqlite3")
    chunks = db.execute(
        "SELECT kind, ref, title, text, hash, status, memory_json FROM chunks ORDER BY ref"
    ).fetchall()
    fts = db.execute(
        "SELECT c.ref, f.title, f.body FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
        "ORDER BY c.ref"
    ).fetchall()
    symbols = db.execute(
        "SELECT s.path, s.qualname, s.kind, c.ref FROM symbols s "
        "LEFT JOIN chunks c ON c.id = s.chunk_id ORDER BY 1, 2"
    ).fetchall()
    edges = db.execute("SELECT src, dst, kind FROM edges ORDER BY 1, 2, 3").fetchall()
    names = db.execute(
        "SELECT d.path, e.norm, e.name, e.node, e.type, e.derived FROM entities e "
        "JOIN documents d ON d.id = e.doc_id ORDER BY 1, 2, 3, 4, 5, 6"
    ).fetchall()
    words = db.execute("SELECT word FROM entity_words ORDER BY 1").fetchall()
    anchors = db.execute(
        "SELECT memory_id, path, symbol, origin FROM anchors ORDER BY 1, 2, 3, 4"
    ).fetchall()
    memory_docs = db.execute(
        "SELECT path, hash, personal FROM documents WHERE source = 'memory' ORDER BY 1"
    ).fetchall()
    db.close()
    return chunks, fts, symbols, edges, names, words, anchors, memory_docs


def test_workers_write_the_same_index_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = PARALLEL_FROM + 40
    # Memories are linked on the workers from this many (1000 by default: too slow a test).
    monkeypatch.setattr(mentions, "PARALLEL_FROM", 5)
    monkeypatch.setattr(mentions, "BATCH", 3)
    # Memory files are parsed on the workers from this many (200 by default).
    monkeypatch.setattr(memory_rows, "PARALLEL_FROM", 5)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    for root, workers in ((serial, 1), (parallel, 2)):
        _repo(root, files)
        (root / ".kenning").mkdir()
        (root / ".kenning" / "config.toml").write_text(f"[index]\nworkers = {workers}\n")
        ws = Workspace.open(root)
        if root == serial:
            for n in range(12):
                ws.store.add(f"helper_{n * 7} stays pure; see pkg/mod{n % 7}/file_{n}.py", "rule")
            broken = root / ".kenning" / "memories" / "rule" / "broken.md"
            broken.write_text("---\ntitle: [unclosed\n---\nA rule with bad front-matter.\n")
        else:  # the same memories, ids included
            shutil.copytree(serial / ".kenning" / "memories", root / ".kenning" / "memories")
        stats = ws.index(embed=False)
        assert stats.files_indexed == files + 3  # the .py files, notes.md and AGENTS.md
        assert stats.skipped["binary"] == 1
        assert stats.memories_indexed == 12
        assert len(stats.problems) == 1 and "broken.md" in stats.problems[0]
        ws.close()
    serial_rows, parallel_rows = _rows(serial), _rows(parallel)
    assert serial_rows == parallel_rows
    mention_edges = [e for e in parallel_rows[3] if e[2] == "mention"]
    assert len({src for src, _, _ in mention_edges}) == 12
    assert ("file:pkg/mod3/file_3.py") in {dst for _, dst, _ in mention_edges}
    assert len({memory_id for memory_id, *_ in parallel_rows[6]}) == 12  # each names a file
    # Each symbol points at the chunk that holds it: a short class's methods at the class, a
    # long class's methods at their own chunks.
    chunk_of = {(path, name): ref for path, name, _, ref in parallel_rows[2]}
    assert chunk_of[("pkg/mod3/file_3.py", "Handler3.handle_3")] == "pkg/mod3/file_3.py:4-6"
    assert chunk_of[("pkg/pipeline.py", "Pipeline.step_1")] == "pkg/pipeline.py:27-48"
    # And the parallel index answers like any other.
    hits = Workspace.open(parallel).search("helper_17", kind="code")
    assert hits and hits[0].path == "pkg/mod3/file_17.py"


def _niceness(_: int) -> int:
    return os.nice(0)


def test_workers_yield_the_cpu_to_the_writer() -> None:
    """The writer is a run's critical path: its workers run at a lower priority."""
    with worker_pool(2) as pool:
        seen = set(pool.map(_niceness, range(4)))
    assert seen == {min(os.nice(0) + WORKER_NICENESS, 19)}


def test_memories_are_linked_on_workers_only_when_no_other_thread_could_read() -> None:
    """A server indexes while other threads read the index: its children could inherit their
    SQLite lock bookkeeping, so it links in-process; a one-shot run may fork."""
    alone = threading.active_count() == 1  # other tests may have left threads behind
    assert mentions.may_fork_readers() == alone
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(mentions.may_fork_readers()))
    worker.start()
    worker.join()
    assert seen == [False]
    stop = threading.Event()
    reader = threading.Thread(target=stop.wait, daemon=True)  # another thread, alive
    reader.start()
    try:
        assert not mentions.may_fork_readers()
    finally:
        stop.set()
        reader.join()


def _name_index(root: Path) -> str | None:
    db = sqlite3.connect(root / ".kenning" / "index" / "kenning.sqlite3")
    row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'entities_norm'").fetchone()
    plan = " ".join(
        str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM entities WHERE norm = 'x'")
    )
    db.close()
    return f"{row[0]} | {plan}" if row else None


def test_a_first_build_ends_with_the_name_index_and_a_killed_one_gets_it_back(
    tmp_path: Path,
) -> None:
    # A first build of many files drops the entity name index and builds it after the files.
    _repo(tmp_path, PARALLEL_FROM + 10)
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    ws.close()
    found = _name_index(tmp_path)
    assert found is not None and found.startswith("CREATE INDEX entities_norm ON entities(norm)")
    assert "USING INDEX entities_norm" in found
    assert (
        Workspace.open(tmp_path).search("helper_17", kind="code")[0].path == "pkg/mod3/file_17.py"
    )
    # A build killed in between leaves no index: the next run, however small, restores it.
    db = sqlite3.connect(tmp_path / ".kenning" / "index" / "kenning.sqlite3")
    db.execute("DROP INDEX entities_norm")
    db.commit()
    db.close()
    (tmp_path / "pkg" / "mod1" / "file_1.py").write_text("def changed():\n    return 1\n")
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    ws.close()
    assert _name_index(tmp_path) == found
