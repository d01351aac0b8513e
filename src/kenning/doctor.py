"""`kenning doctor`: is the store readable, is the index in step with it, what would a rebuild do.

`diagnose` only reports. `repair` (`kenning doctor --fix`) removes what killed writers left behind
(temp files of interrupted atomic writes) and brings the index in step with the files; it never
touches a memory file, readable or not: those are the user's to fix.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from kenning.index.ingest import memory_doc_path
from kenning.workspace import Workspace


def diagnose(ws: Workspace) -> dict[str, Any]:
    """A report with `ok`, human `lines` and the figures behind them."""
    lines: list[str] = [f"project: {ws.root}"]
    ok = True
    memories = ws.store.all()
    lines.append(f"memories: {len(memories)} readable ({sum(m.active for m in memories)} active)")
    for problem in ws.store.problems:
        ok = False
        lines.append(f"  unreadable: {problem}")
    report: dict[str, Any] = {
        "memories": len(memories),
        "problems": [str(p) for p in ws.store.problems],
    }
    if not ws.project.index_path.exists():
        lines.append("index: none yet (built on the next `kenning index`, `brief` or `search`)")
        report.update(ok=ok, lines=lines, index=None)
        return report
    try:
        db = ws.db
        docs = db.execute("SELECT count(*) FROM documents WHERE source='repo'").fetchone()[0]
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        vectors = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
        indexed = {r[0] for r in db.execute("SELECT path FROM documents WHERE source='memory'")}
        skipped = db.execute("SELECT reason, count(*) FROM skipped GROUP BY reason").fetchall()
        redacted = db.execute("SELECT path, count FROM redactions ORDER BY path").fetchall()
    except sqlite3.DatabaseError as exc:
        lines.append(f"index: unreadable ({exc}); `kenning index --rebuild` recreates it")
        report.update(ok=False, lines=lines, index="corrupt")
        return report
    on_disk = {memory_doc_path(m.path, ws.project) for m in memories if m.path}
    missing = on_disk - indexed
    extra = indexed - on_disk
    from kenning.engine.vectors import dense_status

    report["dense"] = dense_status()
    lines.append(f"dense retrieval: {report['dense']}")
    lines.append(
        f"index: {docs} files, {chunks} chunks, {vectors} vectors "
        f"({chunks - vectors} waiting for embeddings)"
    )
    if skipped:
        lines.append("skipped: " + ", ".join(f"{n} {r}" for r, n in skipped))
    if redacted:
        total = sum(n for _, n in redacted)
        lines.append(
            f"secrets: {total} secret-looking spans redacted before indexing, in "
            + ", ".join(p for p, _ in redacted[:5])
            + (" …" if len(redacted) > 5 else "")
        )
    if missing or extra:
        lines.append(
            f"out of date: {len(missing)} memories not indexed, {len(extra)} indexed but "
            "gone; the next `kenning index` fixes this"
        )
    else:
        lines.append("index and store agree")
    report["redacted"] = dict(redacted)
    report["skipped"] = dict(skipped)
    report.update(
        ok=ok,
        lines=lines,
        index={
            "files": docs,
            "chunks": chunks,
            "vectors": vectors,
            "memories_missing": sorted(missing),
            "memories_extra": sorted(extra),
        },
    )
    return report


TEMP_GRACE_SECONDS = 60.0


def leftover_temp_files(ws: Workspace, grace: float = TEMP_GRACE_SECONDS) -> list[Path]:
    """Temp files of interrupted atomic writes (`.<name>.<pid>.<ns>.tmp`) older than `grace` s."""
    now = time.time()
    found: list[Path] = []
    for folder in (ws.project.memories_dir, ws.project.personal_memories_dir):
        if not folder.is_dir():
            continue
        for path in folder.rglob(".*.tmp"):
            try:
                if now - path.stat().st_mtime > grace:
                    found.append(path)
            except OSError:
                continue
    return sorted(found)


def repair(ws: Workspace, rebuild: bool = False) -> list[str]:
    """Fix what can be fixed without touching a memory file; returns what was done."""
    done: list[str] = []
    for path in leftover_temp_files(ws):
        path.unlink(missing_ok=True)
        done.append(f"removed the leftover temp file {path}")
    stats = ws.index(rebuild=rebuild, embed=False)
    if stats.rebuilt or rebuild:
        done.append("rebuilt the index from the files")
    if stats.changed:
        done.append(
            f"re-indexed {stats.files_indexed} files and {stats.memories_indexed} memories, "
            f"removed {stats.files_deleted + stats.memories_deleted}"
        )
    if stats.vectors_pending:
        done.append(f"{stats.vectors_pending} chunks await vectors (`kenning index` embeds them)")
    return done or ["nothing to repair"]
