from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from kenning.index.ingest import DocRow, plan_changes
from kenning.index.scan import FileEntry
from kenning.workspace import Workspace


def test_plan_checks_changed_files_and_deletes_missing_ones() -> None:
    indexed = {"a.py": DocRow("a.py", 1.0, 10, "h"), "gone.py": DocRow("gone.py", 1.0, 5, "h")}
    plan = plan_changes([FileEntry("a.py", 10, 1.0), FileEntry("b.py", 3, 2.0)], indexed)
    assert [e.path for e in plan.check] == ["b.py"]
    assert plan.unchanged == 1 and plan.delete == ["gone.py"]
    touched = plan_changes([FileEntry("a.py", 10, 9.0)], indexed)
    assert [e.path for e in touched.check] == ["a.py"]


def test_incremental_index_reads_only_what_changed(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    first = ws.index(embed=False)
    assert first.files_indexed == 4 and first.chunks_written > 0
    second = ws.index(embed=False)
    assert (second.files_indexed, second.files_unchanged, second.changed) == (0, 4, False)
    (tiny / "app" / "retry.py").write_text("def backoff(n):\n    return [1.0] * n\n")
    third = ws.index(embed=False)
    assert third.files_indexed == 1
    (tiny / "README.md").unlink()
    fourth = ws.index(embed=False)
    assert fourth.files_deleted == 1
    assert [h.ref for h in ws.search("sends email retry", kind="doc")] == []


def test_touched_but_identical_file_is_not_reparsed(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    path = tiny / "app" / "retry.py"
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    stats = ws.index(embed=False)
    assert stats.files_indexed == 0 and stats.files_unchanged == 4


def test_import_edges_and_symbols(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    edges = ws.db.execute("SELECT src, dst FROM edges WHERE kind = 'import'").fetchall()
    assert edges == [("file:app/mailer.py", "file:app/retry.py")]
    names = {r[0] for r in ws.db.execute("SELECT qualname FROM symbols")}
    assert names == {"Mailer", "Mailer.send_email", "backoff"}


def test_corrupt_index_is_rebuilt_not_a_crash(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    before = [h.ref for h in ws.search("backoff delays", k=3)]
    ws.close()
    ws.project.index_path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{ws.project.index_path}{suffix}").unlink(missing_ok=True)
    again = Workspace.open(tiny)
    stats = again.index(embed=False)
    assert stats.rebuilt
    assert [h.ref for h in again.search("backoff delays", k=3)] == before


def test_index_from_a_newer_kenning_is_rebuilt(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    ws.db.execute("INSERT INTO _kenning_migrations (name) VALUES ('m999_from_the_future')")
    ws.db.commit()
    ws.close()
    assert Workspace.open(tiny).index(embed=False).rebuilt


def test_instruction_files_and_adrs_become_memories(tmp_path: Path) -> None:
    (tmp_path / "docs" / "adr").mkdir(parents=True)
    (tmp_path / ".cursor" / "rules").mkdir(parents=True)
    (tmp_path / "CLAUDE.md").write_text(
        "# Rules\n\n- Never use float for money.\n- Run `make test` before pushing.\n"
    )
    (tmp_path / ".cursor" / "rules" / "api.mdc").write_text(
        "---\ndescription: API handlers\nglobs: src/api/**, src/web/*.ts\n---\nValidate every input with pydantic.\n"
    )
    (tmp_path / "docs" / "adr" / "0002-queue.md").write_text(
        "# 2. Use a Postgres queue\n\nDate: 2025-05-01\n\n## Status\n\nSuperseded by ADR 3\n\n## Decision\n\nQueue in Postgres.\n"
    )
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    rows = ws.db.execute(
        "SELECT kind, ref, title, status, memory_json FROM chunks WHERE kind IN ('rule', 'decision') ORDER BY ref"
    ).fetchall()
    summary = [(k, ref, title, status) for k, ref, title, status, _ in rows]
    assert summary == [
        ("rule", ".cursor/rules/api.mdc:5-5", "API handlers", "active"),
        ("rule", "CLAUDE.md:3-3", "Never use float for money.", "active"),
        ("rule", "CLAUDE.md:4-4", "Run `make test` before pushing.", "active"),
        ("decision", "docs/adr/0002-queue.md:1-11", "2. Use a Postgres queue", "superseded"),
    ]
    assert '"scope": ["src/api/**", "src/web/*.ts"]' in rows[0][4]


@pytest.mark.parametrize(
    ("status_line", "status"),
    [
        ("- Status: Superseded by [ADR 0003](0003-queue.md)", "superseded"),
        ("* Status: deprecated", "retired"),
        ("**Status:** Rejected", "retired"),
        ("> Status: rejected", "retired"),
    ],
)
def test_an_adr_status_in_a_list_or_bold_is_read(
    tmp_path: Path, status_line: str, status: str
) -> None:
    (tmp_path / "docs" / "adr").mkdir(parents=True)
    (tmp_path / "docs" / "adr" / "0002-celery.md").write_text(
        f"# ADR 0002: Celery\n\n{status_line}\n- Date: 2025-03-04\n\n## Decision\n\nUse Celery.\n"
    )
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    found = ws.db.execute("SELECT status FROM chunks WHERE kind = 'decision'").fetchall()
    ws.close()
    assert found == [(status,)]


def test_an_index_from_before_m013_reads_its_adrs_again(tmp_path: Path) -> None:
    (tmp_path / "docs" / "adr").mkdir(parents=True)
    (tmp_path / "docs" / "adr" / "0002-celery.md").write_text(
        "# ADR 0002: Celery\n\n- Status: Superseded by ADR 0003\n\n## Decision\n\nCelery.\n"
    )
    (tmp_path / "app.py").write_text("def run() -> None:\n    pass\n")
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    # What an index written before m013 holds: the ADR read as active.
    with ws.db:
        ws.db.execute("UPDATE chunks SET status = 'active' WHERE kind = 'decision'")
        ws.db.execute("DELETE FROM _kenning_migrations WHERE name = 'm013_reread_adrs'")
    ws.close()
    again = Workspace.open(tmp_path)
    stats = again.index(embed=False)
    status = again.db.execute("SELECT status FROM chunks WHERE kind = 'decision'").fetchall()
    again.close()
    assert not stats.rebuilt and stats.files_indexed == 1  # the ADR alone, not app.py
    assert status == [("superseded",)]


def test_secrets_never_reach_the_index(tmp_path: Path) -> None:
    key = "AKIA" + "Q" * 16
    (tmp_path / "settings.py").write_text(f'AWS_KEY = "{key}"\napi_key = "abcd1234efgh5678"\n')
    (tmp_path / ".env").write_text("DATABASE_PASSWORD=hunter2hunter2\n")
    ws = Workspace.open(tmp_path)
    stats = ws.index(embed=False)
    assert stats.secrets_redacted == 2 and stats.skipped["secret file (never read)"] == 1
    dump = "\n".join(ws.db.iterdump())
    assert key not in dump and "abcd1234efgh5678" not in dump and "hunter2" not in dump


def test_memories_are_indexed_and_edits_picked_up(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    memory = ws.remember("Emails retry with exponential backoff via app.retry", "decision")
    hits = ws.search("exponential backoff emails", kind="decision")
    assert [h.ref for h in hits] == [memory.id]
    assert memory.path is not None
    memory.path.write_text(memory.path.read_text().replace("exponential", "linear"))
    ws.index(embed=False)
    assert "linear" in ws.search("backoff emails", kind="decision")[0].title
    edges = ws.db.execute("SELECT dst FROM edges WHERE kind = 'mention'").fetchall()
    assert ("file:app/retry.py",) in edges


def test_two_indexers_at_once_leave_a_consistent_index(tiny: Path) -> None:
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            Workspace.open(tiny).index(embed=False)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = sqlite3.connect(Workspace.open(tiny).project.index_path)
    assert db.execute("SELECT count(*) FROM documents WHERE source='repo'").fetchone()[0] == 4


def test_doctor_names_redacted_files_and_secret_files(tmp_path: Path) -> None:
    from kenning.doctor import diagnose

    token = "ghp_" + "a1B2" * 10
    (tmp_path / "deploy.sh").write_text(f"export GITHUB_TOKEN={token}\n")
    (tmp_path / "id_rsa").write_text(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    report = diagnose(ws)
    assert report["redacted"] == {"deploy.sh": 1}
    assert report["skipped"] == {"secret file (never read)": 1}
    packet = ws.brief("deploy script github token", files=["deploy.sh"])
    assert token not in packet.to_markdown() and "[REDACTED:github-token]" in packet.to_markdown()


def test_reindexing_a_file_keeps_the_edges_other_files_made_to_it(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    ws.remember("app/retry.py holds the backoff schedule", "fact")
    (tiny / "app" / "retry.py").write_text("def backoff(n):\n    return [0.5] * n\n")
    ws.index(embed=False)
    into = ws.db.execute(
        "SELECT src, kind FROM edges WHERE dst = 'file:app/retry.py' ORDER BY kind"
    ).fetchall()
    assert ("file:app/mailer.py", "import") in into
    assert any(kind == "mention" for _, kind in into)


def test_a_common_name_does_not_link_a_memory_to_every_definition(tmp_path: Path) -> None:
    for n in range(6):
        (tmp_path / f"mod{n}.py").write_text("def run():\n    pass\n")
    (tmp_path / "special.py").write_text("def reconcile_ledger():\n    pass\n")
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    ws.remember("Always run reconcile_ledger before the settlement run", "rule")
    targets = {r[0] for r in ws.db.execute("SELECT dst FROM edges WHERE kind = 'mention'")}
    assert targets == {"sym:special.py::reconcile_ledger"}


def test_memories_and_code_are_searched_in_separate_full_text_tables(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    ws.remember("Emails retry with backoff from app.retry", "decision")
    code_rows = ws.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    memory_rows = ws.db.execute("SELECT count(*) FROM memory_fts").fetchone()[0]
    chunks = ws.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert memory_rows == 1 and code_rows + memory_rows == chunks
    hits = ws.search("backoff", k=10)
    assert {h.kind for h in hits} >= {"decision", "symbol"}
