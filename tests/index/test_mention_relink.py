"""A run relinks only the memories that name a name some file gained or lost, and ends with the
same mention edges as linking every memory again from scratch."""

from __future__ import annotations

from pathlib import Path

from kenning.workspace import Workspace

MEMORIES = [
    ("The RateLimiter in app/limits.py must reset its window per tenant.", "rule"),
    ("Every retry goes through backoff in app/retry.py, never a bare sleep.", "rule"),
    ("Mailer.send_email must never block the request thread.", "decision"),
    ("Add jitter to the backoff delays so clients do not retry in step.", "decision"),
    ("Quarterly planning happens in the first week of the quarter.", "note"),
]


def _edges(ws: Workspace, kind: str = "mention") -> set[tuple[str, str]]:
    rows = ws.db.execute("SELECT src, dst FROM edges WHERE kind = ?", (kind,)).fetchall()
    return {(src, dst) for src, dst in rows}


def _from_scratch(root: Path, kind: str = "mention") -> set[tuple[str, str]]:
    """The edges of `kind` after indexing the project again from nothing."""
    fresh = Workspace.open(root)
    fresh.index(rebuild=True, embed=False)
    found = _edges(fresh, kind)
    fresh.close()
    return found


def test_new_renamed_and_deleted_names_relink_like_a_full_pass(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    for text, kind in MEMORIES:
        ws.store.add(text, kind)
    ws.index(embed=False)
    assert not any(dst.startswith("file:app/limits") for _, dst in _edges(ws))
    # A new file that memories already name, and a new function in an existing file.
    (tiny / "app" / "limits.py").write_text(
        "class RateLimiter:\n    def allow(self, tenant: str) -> bool:\n        return True\n"
    )
    with (tiny / "app" / "retry.py").open("a") as fh:
        fh.write("\n\ndef jitter(delay: float) -> float:\n    return delay * 1.1\n")
    ws.index(embed=False)
    after_add = _edges(ws)
    assert any("RateLimiter" in dst for _, dst in after_add)
    assert any(dst.endswith("::jitter") for _, dst in after_add)
    assert after_add == _from_scratch(tiny)
    # The file goes, and a function is renamed inside another.
    ws = Workspace.open(tiny)
    (tiny / "app" / "limits.py").unlink()
    retry = tiny / "app" / "retry.py"
    retry.write_text(retry.read_text().replace("def jitter(", "def spread_delay("))
    ws.index(embed=False)
    after_delete = _edges(ws)
    assert not any("limits" in dst or dst.endswith("::jitter") for _, dst in after_delete)
    assert after_delete == _from_scratch(tiny)


def _edge_rows(ws: Workspace) -> set[tuple[int, str, str]]:
    rows = ws.db.execute("SELECT rowid, src, dst FROM edges WHERE kind = 'mention'").fetchall()
    return {(rowid, src, dst) for rowid, src, dst in rows}


def test_only_memories_naming_a_changed_name_are_relinked(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    for text, kind in MEMORIES:
        ws.store.add(text, kind)
    ws.index(embed=False)
    before = _edge_rows(ws)
    assert before
    # A comment changes no name: no memory is linked again (its edges keep their rows).
    with (tiny / "app" / "retry.py").open("a") as fh:
        fh.write("\n# a comment changes no name\n")
    assert ws.index(embed=False).files_indexed == 1
    assert _edge_rows(ws) == before
    # A new name: the memory that names it gets an edge; the mailer decision is not touched.
    with (tiny / "app" / "retry.py").open("a") as fh:
        fh.write("\n\ndef jitter(delay: float) -> float:\n    return delay\n")
    ws.index(embed=False)
    after = _edge_rows(ws)
    mailer = {row for row in before if "send_email" in row[2] or "mailer" in row[2]}
    assert mailer and mailer <= after
    assert any(dst.endswith("::jitter") for _, _, dst in after)


def test_import_edges_after_files_come_and_go_match_a_full_pass(tiny: Path) -> None:
    # mailer imports a module that does not exist yet; a JS pair does the same.
    mailer = tiny / "app" / "mailer.py"
    mailer.write_text("from app.jitter import spread\n" + mailer.read_text())
    (tiny / "web").mkdir()
    (tiny / "web" / "main.js").write_text("import { fmt } from './format';\nfmt(1);\n")
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    assert ("file:app/mailer.py", "file:app/jitter.py") not in _edges(ws, "import")
    (tiny / "app" / "jitter.py").write_text("def spread(d: float) -> float:\n    return d\n")
    (tiny / "web" / "format.js").write_text("export function fmt(x) { return String(x); }\n")
    (tiny / "app" / "extra.py").write_text("from app.retry import backoff\n")  # its own imports
    ws.index(embed=False)
    added = _edges(ws, "import")
    assert ("file:app/mailer.py", "file:app/jitter.py") in added
    assert ("file:web/main.js", "file:web/format.js") in added
    assert ("file:app/extra.py", "file:app/retry.py") in added
    assert added == _from_scratch(tiny, "import")
    ws = Workspace.open(tiny)
    (tiny / "app" / "jitter.py").unlink()
    (tiny / "web" / "format.js").unlink()
    ws.index(embed=False)
    gone = _edges(ws, "import")
    assert not any(dst in ("file:app/jitter.py", "file:web/format.js") for _, dst in gone)
    assert gone == _from_scratch(tiny, "import")
