"""`kenning export` / `kenning import`: a lossless, idempotent round trip with provenance."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kenning.memory import Memory, MemoryStore, render_memory
from kenning.sync.archive import export_archive, import_archive
from kenning.sync.errors import ArchiveError


def stores(tmp_path: Path) -> tuple[MemoryStore, MemoryStore]:
    src = MemoryStore(tmp_path / "a" / ".kenning" / "memories", tmp_path / "a-home" / "memories")
    dst = MemoryStore(tmp_path / "b" / ".kenning" / "memories", tmp_path / "b-home" / "memories")
    return src, dst


def files(store: MemoryStore) -> dict[str, str]:
    return {p.name: p.read_text() for p, _ in store.files()}


@pytest.mark.parametrize("name", ["memories.jsonl", "memories.jsonl.gz"])
def test_export_then_import_reproduces_every_file_byte_for_byte(tmp_path: Path, name: str) -> None:
    src, dst = stores(tmp_path)
    src.add("Money is integer cents", "rule", scope=["src/billing/**"], extra={"owner": "dana"})
    src.add("Prefer small PRs", "preference", personal=True)
    archive = tmp_path / name
    assert export_archive(src, archive, project="github.com/acme/app") == 2
    report = import_archive(archive, dst)
    assert len(report.added) == 2 and report.header["project"] == "github.com/acme/app"
    assert files(dst) == files(src)
    again = import_archive(archive, dst)
    assert again.added == [] and len(again.unchanged) == 2


def test_records_carry_provenance(tmp_path: Path) -> None:
    src, _ = stores(tmp_path)
    src.add("Prefer small PRs", "preference", personal=True)
    archive = tmp_path / "m.jsonl.gz"
    export_archive(src, archive, project="github.com/acme/app")
    header, record = (json.loads(line) for line in gzip.open(archive, "rt"))
    assert header["format"] == "kenning-memories" and header["count"] == 1
    assert record["store"] == "personal" and record["origin"]["host"] == header["host"]
    assert record["origin"]["project"] is None  # personal memories belong to no project


def test_a_diverged_memory_is_merged_into_a_pair_and_reimport_changes_nothing(
    tmp_path: Path,
) -> None:
    src, dst = stores(tmp_path)
    t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    base = Memory(
        id="deploy-7c7c", kind="decision", title="Deploys", body="Fridays.", created=t0, updated=t0
    )
    for store, memory in ((src, replace(base, body="Never Fridays.", updated=t1)), (dst, base)):
        assert store.project_dir is not None
        (store.project_dir / "decision").mkdir(parents=True)
        (store.project_dir / "decision" / "deploy-7c7c.md").write_text(render_memory(memory))
    archive = tmp_path / "m.jsonl"
    export_archive(src, archive)
    report = import_archive(archive, dst)
    [(kept, revision)] = report.pairs
    assert dst.get(kept).body == "Never Fridays." and dst.get(revision).body == "Fridays."
    assert dst.get(revision).status == "superseded"
    before = files(dst)
    again = import_archive(archive, dst)
    assert again.unchanged == ["deploy-7c7c"] and files(dst) == before


def test_import_rejects_what_is_not_an_archive_and_reports_bad_records(tmp_path: Path) -> None:
    _, dst = stores(tmp_path)
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    with pytest.raises(ArchiveError, match="not a kenning export"):
        import_archive(junk, dst)
    bad = tmp_path / "bad.jsonl"
    header = {"format": "kenning-memories", "version": 1}
    evil = {
        "store": "project",
        "id": "../../etc/passwd",
        "kind": "rule",
        "markdown": "---\nid: ../../x\nkind: rule\n---\nbody\n",
    }
    bad.write_text("\n".join(json.dumps(r) for r in (header, evil, {"store": "project"})) + "\n")
    report = import_archive(bad, dst)
    assert len(report.invalid) == 2 and report.added == []
    assert dst.project_dir is not None and not dst.project_dir.exists()
