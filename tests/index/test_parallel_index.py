"""A large run prepares files in worker processes; the index it writes is the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kenning.index.prepare import PARALLEL_FROM
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
    (root / "notes.md").write_text("# Notes\n\nThe retry policy lives in pkg.\n")
    (root / "blob.bin").write_bytes(b"\x00\x01" * 100)
    (root / "AGENTS.md").write_text("# Rules\n\n- Never log tokens.\n")


def _rows(root: Path) -> tuple[list[tuple[object, ...]], ...]:
    db = sqlite3.connect(root / ".kenning" / "index" / "kenning.sqlite3")
    chunks = db.execute("SELECT kind, ref, title, text, hash FROM chunks ORDER BY ref").fetchall()
    fts = db.execute(
        "SELECT c.ref, f.title, f.body FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
        "ORDER BY c.ref"
    ).fetchall()
    symbols = db.execute("SELECT path, qualname, kind FROM symbols ORDER BY 1, 2").fetchall()
    edges = db.execute("SELECT src, dst, kind FROM edges ORDER BY 1, 2, 3").fetchall()
    db.close()
    return chunks, fts, symbols, edges


def test_workers_write_the_same_index_as_one_process(tmp_path: Path) -> None:
    files = PARALLEL_FROM + 40
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    for root, workers in ((serial, 1), (parallel, 2)):
        _repo(root, files)
        (root / ".kenning").mkdir()
        (root / ".kenning" / "config.toml").write_text(f"[index]\nworkers = {workers}\n")
        stats = Workspace.open(root).index(embed=False)
        assert stats.files_indexed == files + 2  # the .py files, notes.md and AGENTS.md
        assert stats.skipped["binary"] == 1
    assert _rows(serial) == _rows(parallel)
    # And the parallel index answers like any other.
    hits = Workspace.open(parallel).search("helper_17", kind="code")
    assert hits and hits[0].path == "pkg/mod3/file_17.py"
