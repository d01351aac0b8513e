"""`kenning sync` on real git: two machines (two stores), one bare remote, concurrent edits."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kenning.errors import InvalidMemory
from kenning.memory import Memory, MemoryStore, render_memory
from kenning.sync import gitsync
from kenning.sync.errors import RemoteUnreachable
from kenning.sync.gitsync import GitStore, sync_personal
from kenning.sync.resolve import open_conflicts, resolve_conflict


def store(folder: Path) -> MemoryStore:
    return MemoryStore(None, folder)


def write(folder: Path, memory: Memory) -> None:
    path = folder / memory.kind / f"{memory.id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_memory(memory))


def at(minute: int) -> datetime:
    return datetime(2026, 3, 14, 10, minute, tzinfo=UTC)


def clean(folder: Path) -> bool:
    out = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain"], capture_output=True, text=True
    )
    return out.stdout.strip() == ""


@pytest.fixture
def machines(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "laptop" / "memories", tmp_path / "desktop" / "memories"


def test_first_sync_without_a_remote_commits_locally_and_says_how_to_add_one(
    machines: tuple[Path, Path],
) -> None:
    a, _ = machines
    store(a).add("Prefer pytest over unittest", "preference", personal=True)
    report = sync_personal(a)
    assert report.committed == 1
    assert "--remote" in report.notes[0]
    assert clean(a)


def test_two_machines_exchange_memories_through_a_bare_remote(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    first = store(a).add("Prefer pytest over unittest", "preference", personal=True)
    assert sync_personal(a, str(bare_remote)).pushed
    report = sync_personal(b, str(bare_remote))
    assert report.fast_forward and report.received == 1
    assert store(b).get(first.id).title == first.title
    second = store(b).add("Dana owns billing", "person", personal=True)
    store(a).add("Reply in British English", "preference", personal=True)
    sync_personal(b)  # the remote is remembered
    report = sync_personal(a)
    assert report.merged and report.pushed
    sync_personal(b)
    ids_a = {m.id for m in store(a).all()}
    ids_b = {m.id for m in store(b).all()}
    assert ids_a == ids_b and second.id in ids_a and len(ids_a) == 3
    assert clean(a) and clean(b)


def test_edits_of_different_fields_merge_into_one_memory(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    memory = store(a).add("Use ruff for linting", "preference", personal=True, tags=["lint"])
    sync_personal(a, str(bare_remote))
    sync_personal(b, str(bare_remote))
    store(a).update(memory.id, tags=("lint", "python"))
    store(b).update(memory.id, body="Also run ruff format before committing.")
    sync_personal(a)
    report = sync_personal(b)
    assert report.merged and not report.pairs and not report.conflicts
    merged = store(b).get(memory.id)
    assert merged.tags == ("lint", "python")
    assert merged.body == "Also run ruff format before committing."


def test_two_edits_of_one_body_become_a_superseding_pair(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    base = Memory(
        id="tabs-1a2b",
        kind="preference",
        title="Indent",
        body="Use tabs.",
        created=at(0),
        updated=at(0),
    )
    write(a, base)
    sync_personal(a, str(bare_remote))
    sync_personal(b, str(bare_remote))
    write(a, replace(base, body="Use 4 spaces.", updated=at(5)))
    write(b, replace(base, body="Use 2 spaces.", updated=at(9)))  # the later edit
    sync_personal(a)
    report = sync_personal(b)
    assert len(report.pairs) == 1
    kept_id, revision = report.pairs[0]
    assert kept_id == "tabs-1a2b"
    sync_personal(a)
    for folder in (a, b):
        winner, loser = store(folder).get(kept_id), store(folder).get(revision)
        assert winner.body == "Use 2 spaces." and winner.active
        assert winner.supersedes == revision
        assert loser.body == "Use 4 spaces." and loser.status == "superseded"
        assert loser.extra["revision_of"] == kept_id
    assert clean(a) and clean(b)


def test_simultaneous_edits_become_a_marked_conflict_that_resolve_settles(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    base = Memory(
        id="pager-9f9f",
        kind="fact",
        title="On call",
        body="Ana is on call.",
        created=at(0),
        updated=at(0),
    )
    write(a, base)
    sync_personal(a, str(bare_remote))
    sync_personal(b, str(bare_remote))
    write(a, replace(base, body="Ben is on call.", updated=at(3)))
    write(b, replace(base, body="Cy is on call.", updated=at(3)))
    sync_personal(a)
    report = sync_personal(b)
    assert len(report.conflicts) == 1
    primary_id, other_id = report.conflicts[0]
    s = store(b)
    assert [m.id for m, _ in open_conflicts(s)] == [primary_id]
    bodies = {s.get(primary_id).body, s.get(other_id).body}
    assert bodies == {"Ben is on call.", "Cy is on call."}
    assert s.get(other_id).active and s.get(other_id).extra["conflict_of"] == primary_id
    chosen = s.get(other_id).body
    done = resolve_conflict(s, other_id, keep="this")  # keep the version named on the line
    assert done.memory.id == primary_id and done.memory.body == chosen
    assert "conflict" not in done.memory.extra
    assert done.other.status == "superseded" and done.other.body in bodies - {chosen}
    assert open_conflicts(s) == []


def test_retire_on_one_machine_and_retag_on_the_other_keep_both(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    memory = store(a).add("Deploy on Fridays", "decision", personal=True, tags=["ops"])
    sync_personal(a, str(bare_remote))
    sync_personal(b, str(bare_remote))
    store(a).retire(memory.id)
    store(b).update(memory.id, tags=("ops", "release"))
    sync_personal(a)
    sync_personal(b)
    final = store(b).get(memory.id)
    assert final.status == "retired" and final.tags == ("ops", "release")


def test_an_edit_survives_a_deletion_on_the_other_machine(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    memory = store(a).add("Use uv for environments", "preference", personal=True)
    sync_personal(a, str(bare_remote))
    sync_personal(b, str(bare_remote))
    assert memory.path is not None
    (a / memory.path.relative_to(a)).unlink()
    store(b).update(memory.id, body="uv pip compile for lock files")
    sync_personal(a)
    sync_personal(b)
    sync_personal(a)
    assert store(a).get(memory.id).body == "uv pip compile for lock files"


def test_unrelated_histories_merge_as_a_union(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    one = store(a).add("Prefer small PRs", "preference", personal=True)
    two = store(b).add("Prefer squash merges", "preference", personal=True)
    sync_personal(a, str(bare_remote))
    report = sync_personal(b, str(bare_remote))  # b's first sync: its own root commit
    assert report.merged and report.pushed
    sync_personal(a)
    assert {m.id for m in store(a).all()} == {one.id, two.id} == {m.id for m in store(b).all()}


def test_an_unreachable_remote_keeps_local_work_and_says_so(machines: tuple[Path, Path]) -> None:
    a, _ = machines
    memory = store(a).add("Prefer pytest", "preference", personal=True)
    with pytest.raises(RemoteUnreachable, match="committed locally"):
        sync_personal(a, str(a.parent / "no-such-remote.git"))
    assert store(a).get(memory.id).title == "Prefer pytest"
    assert GitStore(a).rev("HEAD") is not None and clean(a)


def test_a_sync_killed_while_updating_files_is_finished_by_the_next_one(
    machines: tuple[Path, Path], bare_remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = machines
    for n in range(6):
        store(a).add(f"Preference number {n}", "preference", personal=True)
    sync_personal(a, str(bare_remote))
    local = store(b).add("Only on the desktop", "note", personal=True)
    written: list[Path] = []
    real = gitsync._write_file

    def dies_after_two(target: Path, data: bytes) -> None:
        if len(written) == 2:
            raise KeyboardInterrupt  # the process is killed half-way through the file update
        written.append(target)
        real(target, data)

    monkeypatch.setattr(gitsync, "_write_file", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        sync_personal(b, str(bare_remote))
    assert (b / ".git" / gitsync.JOURNAL).exists()
    (b / ".git" / "index.lock").write_text("")  # and git left its lock behind
    os.utime(b / ".git" / "index.lock", (0, 0))
    monkeypatch.setattr(gitsync, "_write_file", real)
    report = sync_personal(b)
    assert report.resumed and report.pushed
    sync_personal(a)
    ids_a = {m.id for m in store(a).all()}
    assert ids_a == {m.id for m in store(b).all()} and local.id in ids_a and len(ids_a) == 7
    assert clean(a) and clean(b)


def test_concurrent_syncs_from_two_machines_lose_nothing(
    machines: tuple[Path, Path], bare_remote: Path
) -> None:
    a, b = machines
    sync_personal(a, str(bare_remote))
    sync_personal(b, str(bare_remote))
    expected: set[str] = set()
    for round_ in range(3):
        expected.add(store(a).add(f"laptop note {round_}", "note", personal=True).id)
        expected.add(store(b).add(f"desktop note {round_}", "note", personal=True).id)
        errors: list[BaseException] = []

        def run(folder: Path, errors: list[BaseException] = errors) -> None:
            try:
                sync_personal(folder)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(f,)) for f in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    sync_personal(a)
    sync_personal(b)
    assert {m.id for m in store(a).all()} == expected == {m.id for m in store(b).all()}


def _marked_conflict(folder: Path) -> tuple[str, str]:
    from kenning.sync.merge import merge_memory_texts

    base = Memory(
        id="rota-1111", kind="fact", title="Rota", body="Ana.", created=at(0), updated=at(0)
    )
    ours, theirs = (
        replace(base, body="Ben.", updated=at(2)),
        replace(base, body="Cy.", updated=at(2)),
    )
    change = merge_memory_texts(
        base.id,
        ("fact/rota-1111.md", render_memory(base)),
        ("fact/rota-1111.md", render_memory(ours)),
        ("fact/rota-1111.md", render_memory(theirs)),
    )
    assert change.outcome == "conflict" and change.other_id is not None
    for rel, text in change.write.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return base.id, change.other_id


def test_resolve_keep_other_moves_the_other_text_to_the_id(tmp_path: Path) -> None:
    primary, other = _marked_conflict(tmp_path)
    s = store(tmp_path)
    before_primary, before_other = s.get(primary).body, s.get(other).body
    done = resolve_conflict(s, primary, keep="other")
    assert done.memory.id == primary and done.memory.body == before_other
    assert done.other.body == before_primary and done.other.status == "superseded"
    assert done.memory.supersedes == other and open_conflicts(s) == []


def test_resolve_keep_both_leaves_two_active_memories_without_marks(tmp_path: Path) -> None:
    primary, other = _marked_conflict(tmp_path)
    s = store(tmp_path)
    done = resolve_conflict(s, primary, keep="both")
    assert done.memory.active and done.other.active
    assert "conflict" not in done.memory.extra and "conflict_of" not in done.other.extra
    with pytest.raises(InvalidMemory, match="no open conflict"):
        resolve_conflict(s, primary)
