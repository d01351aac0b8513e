from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from kenning.errors import InvalidMemory, MemoryFormatError, MemoryNotFound
from kenning.memory import MemoryStore, parse_memory, render_memory


def store(tmp_path: Path) -> MemoryStore:
    return MemoryStore(tmp_path / "proj" / ".kenning" / "memories", tmp_path / "personal")


def test_add_writes_one_markdown_file_that_reads_back_identically(tmp_path: Path) -> None:
    s = store(tmp_path)
    m = s.add(
        "Use SQLite in WAL mode\n\nReaders never block the writer.",
        "decision",
        tags=["storage"],
        scope=["src/db/**"],
    )
    assert m.path is not None and m.path.parent.name == "decision"
    assert m.path.name == f"{m.id}.md"
    assert m.title == "Use SQLite in WAL mode"
    again = s.get(m.id)
    assert again == m
    assert again.body == "Readers never block the writer."
    text = m.path.read_text()
    assert text.startswith("---\nid: ") and "status: active" in text


def test_personal_memories_live_in_the_personal_folder(tmp_path: Path) -> None:
    s = store(tmp_path)
    m = s.add("I prefer pytest over unittest", "preference", personal=True)
    assert m.path is not None and (tmp_path / "personal") in m.path.parents
    assert s.get(m.id).personal


def test_supersedes_marks_the_old_memory(tmp_path: Path) -> None:
    s = store(tmp_path)
    old = s.add("Retry webhooks three times", "decision")
    new = s.add("Retry webhooks with jittered backoff, 8 attempts", "decision", supersedes=old.id)
    assert new.supersedes == old.id
    assert s.get(old.id).status == "superseded"
    assert [m.id for m in s.all(include_inactive=False)] == [new.id]


def test_unknown_supersedes_id_is_rejected_and_nothing_is_written(tmp_path: Path) -> None:
    s = store(tmp_path)
    with pytest.raises(InvalidMemory, match="no memory has that id"):
        s.add("x y z", "decision", supersedes="nope-0000")
    assert s.all() == []


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [("wish", "x", "not one of"), ("rule", "   ", "empty"), ("rule", "a\x00b", "NUL")],
)
def test_validation_errors_name_the_problem(
    tmp_path: Path, kind: str, text: str, message: str
) -> None:
    with pytest.raises(InvalidMemory, match=message):
        store(tmp_path).add(text, kind)


def test_scope_outside_the_project_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidMemory, match="relative"):
        store(tmp_path).add("x", "rule", scope=["../etc/**"])


def test_exact_restatement_returns_the_existing_memory(tmp_path: Path) -> None:
    s = store(tmp_path)
    a = s.add("Money is integer cents", "rule")
    b = s.add("money is  integer cents!", "rule")
    assert a.id == b.id
    assert len(s.all()) == 1


def test_retire_keeps_the_file(tmp_path: Path) -> None:
    s = store(tmp_path)
    m = s.add("Deploy on Tuesdays", "fact")
    s.retire(m.id)
    assert m.path is not None and m.path.exists()
    assert s.get(m.id).status == "retired"


def test_get_unknown_id_raises_memory_not_found(tmp_path: Path) -> None:
    with pytest.raises(MemoryNotFound, match="kenning memories"):
        store(tmp_path).get("missing-id")


def test_hand_written_file_without_front_matter_is_read(tmp_path: Path) -> None:
    s = store(tmp_path)
    folder = tmp_path / "proj" / ".kenning" / "memories" / "rule"
    folder.mkdir(parents=True)
    (folder / "no-print.md").write_text("# No print() in library code\n\nUse logging.\n")
    (m,) = s.all()
    assert (m.id, m.kind, m.title, m.body, m.status) == (
        "no-print",
        "rule",
        "No print() in library code",
        "Use logging.",
        "active",
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("---\nkind: rule\ntitle: [unclosed\n---\nbody\n", "front-matter"),
        ("---\n- a list\n---\nbody\n", "mapping"),
        ("---\nkind: rule\ntitle: x\n", "never closed"),
        ("---\nkind: rule\ncreated: yesterday\n---\nx\n", "not a date"),
        ("---\nkind: rule\nid: ../../etc\n---\nx\n", "may hold only"),
        ("---\nkind: rule\nstatus: maybe\n---\nx\n", "status"),
    ],
)
def test_malformed_files_are_reported_not_rewritten(
    tmp_path: Path, content: str, problem: str
) -> None:
    s = store(tmp_path)
    folder = tmp_path / "proj" / ".kenning" / "memories" / "rule"
    folder.mkdir(parents=True)
    bad = folder / "bad.md"
    bad.write_text(content)
    good = s.add("A good rule that still loads", "rule")
    assert [m.id for m in s.all()] == [good.id]
    assert len(s.problems) == 1 and problem in str(s.problems[0])
    assert bad.read_text() == content
    with pytest.raises(MemoryFormatError):
        s.read(bad)


def test_render_then_parse_round_trips_unknown_fields(tmp_path: Path) -> None:
    s = store(tmp_path)
    m = s.add("Rule with extra", "rule", extra={"valid_until": "2027-01-01"})
    assert m.path is not None
    parsed = parse_memory(render_memory(m), m.path)
    assert parsed.extra == {"valid_until": "2027-01-01"}


def _writer(args: tuple[str, int]) -> list[str]:
    root, n = args
    s = MemoryStore(Path(root) / "proj", Path(root) / "personal")
    return [s.add(f"memory {n}-{i} about topic {i}", "note").id for i in range(25)]


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ids = [
            i for batch in pool.map(_writer, [(str(tmp_path), n) for n in range(4)]) for i in batch
        ]
    assert len(set(ids)) == 100
    s = MemoryStore(tmp_path / "proj", tmp_path / "personal")
    assert {m.id for m in s.all()} == set(ids)
    assert s.problems == []
