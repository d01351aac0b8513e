"""Speed fixes the benchmark motivated must not change what the index holds."""

from __future__ import annotations

from pathlib import Path

from kenning.workspace import Workspace


def _edges(ws: Workspace) -> list[tuple[str, str]]:
    return sorted(
        (src, dst) for src, dst in ws.db.execute("SELECT src, dst FROM edges WHERE kind = 'import'")
    )


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text(
        "from pkg import b\nfrom . import c\n\n\ndef fa():\n    pass\n"
    )
    (root / "pkg" / "b.py").write_text("import pkg.c\n\n\ndef fb():\n    pass\n")
    (root / "pkg" / "c.py").write_text("import os\n\n\ndef fc():\n    pass\n")
    (root / "main.py").write_text("from pkg.a import fa\nimport pkg.b\n")
    return root


def test_import_edges_of_a_full_index_and_after_edits_match_a_rebuild(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    ws = Workspace.open(root)
    ws.index(embed=False)
    full = _edges(ws)
    assert ("file:main.py", "file:pkg/a.py") in full
    assert ("file:pkg/a.py", "file:pkg/c.py") in full
    # A modified file (no structural change) is relinked with the run's one module map.
    (root / "pkg" / "c.py").write_text("from pkg import a\n\n\ndef fc():\n    return 1\n")
    stats = ws.index(embed=False)
    assert stats.files_indexed == 1
    after_edit = _edges(ws)
    assert ("file:pkg/c.py", "file:pkg/a.py") in after_edit
    # A new file (structural change) defers linking to the relink at the end of the run.
    (root / "pkg" / "d.py").write_text("from pkg.b import fb\n")
    ws.index(embed=False)
    after_add = _edges(ws)
    assert ("file:pkg/d.py", "file:pkg/b.py") in after_add
    ws.index(rebuild=True, embed=False)
    rebuilt = _edges(ws)
    ws.close()
    assert after_add == rebuilt
