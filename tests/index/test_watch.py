"""The file watcher: a long-lived workspace re-indexes the files that changed, and nothing else."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning.workspace import Workspace


@pytest.fixture
def watched(tiny: Path) -> Iterator[Workspace]:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    if not ws.watch():
        pytest.skip("no file watcher on this system")
    yield ws
    ws.close()


def _settle(ws: Workspace, expected: int = 1, timeout: float = 10.0) -> None:
    """Wait until the watcher has seen `expected` changed paths (events arrive on a thread)."""
    watcher = ws.watcher
    assert watcher is not None
    deadline = time.monotonic() + timeout
    while watcher.pending() < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the rest of an editor's burst (temp file, rename) lands too


def _symbols(ws: Workspace) -> set[str]:
    return {q for (q,) in ws.db.execute("SELECT qualname FROM symbols")}


def test_an_edit_is_indexed_from_its_event_without_a_scan(watched: Workspace) -> None:
    root = watched.root
    with (root / "app" / "retry.py").open("a") as fh:
        fh.write("\n\ndef jitter(delay: float) -> float:\n    return delay * 1.1\n")
    _settle(watched)
    stats = watched.ensure_index(max_age=2.0, embed=False)
    assert stats is not None and stats.files_indexed == 1
    assert stats.files_seen == 1  # only the changed file was looked at
    assert "jitter" in _symbols(watched)
    # Nothing changed since: the check is a no-op, not a scan.
    assert watched.ensure_index(max_age=2.0, embed=False) is None


def test_new_deleted_and_ignored_files(watched: Workspace) -> None:
    root = watched.root
    (root / "app" / "audit.py").write_text("def record_audit(event: str) -> None:\n    pass\n")
    (root / ".gitignore").write_text("")  # an ignore file changed: the next check scans all
    _settle(watched, 2)
    watched.ensure_index(max_age=2.0, embed=False)
    assert "record_audit" in _symbols(watched)
    (root / "app" / "audit.py").unlink()
    (root / "scratch.log").write_text("not code\n")
    _settle(watched, 2)
    stats = watched.ensure_index(max_age=2.0, embed=False)
    assert stats is not None and stats.files_deleted == 1
    assert "record_audit" not in _symbols(watched)


def test_a_removed_folder_removes_its_files(watched: Workspace) -> None:
    shutil.rmtree(watched.root / "app")
    _settle(watched)
    watched.ensure_index(max_age=2.0, embed=False)
    paths = {p for (p,) in watched.db.execute("SELECT path FROM documents WHERE source='repo'")}
    assert not any(p.startswith("app/") for p in paths)


def test_a_memory_file_edited_by_hand_is_seen(watched: Workspace) -> None:
    memory = watched.store.add("Deploys freeze on Fridays after noon.", "decision")
    _settle(watched)
    watched.ensure_index(max_age=2.0, embed=False)
    assert watched.db.execute("SELECT 1 FROM chunks WHERE ref = ?", (memory.id,)).fetchone()


def test_without_a_watcher_a_check_scans(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    (tiny / "app" / "extra.py").write_text("def extra() -> int:\n    return 1\n")
    stats = ws.ensure_index(max_age=0.0, embed=False)
    assert stats is not None and stats.files_indexed == 1
    assert stats.files_seen > 1
    ws.close()
