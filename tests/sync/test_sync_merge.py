"""The memory-aware three-way merge, as pure functions over path → text snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from kenning.memory import Memory, parse_memory, render_memory
from kenning.sync.merge import memory_key, merge_trees, revision_id

T0 = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
BASE = Memory(
    id="ledger-3fa1",
    kind="decision",
    title="Ledger store",
    body="PostgreSQL.",
    created=T0,
    updated=T0,
    tags=("storage",),
)


def snap(*memories: Memory) -> dict[str, str]:
    return {f"{m.kind}/{m.id}.md": render_memory(m) for m in memories}


def test_memory_key_is_the_id_for_memory_files_and_the_path_otherwise() -> None:
    assert memory_key("rule/no-float-1a2b.md") == "m:no-float-1a2b"
    assert memory_key("README.md") == "p:README.md"
    assert memory_key("rule/sub/x.md") == "p:rule/sub/x.md"


def test_a_deletion_of_an_untouched_memory_is_applied() -> None:
    result = merge_trees(snap(BASE), snap(BASE), {})
    assert [(c.remove, c.outcome) for c in result.changes] == [
        (("decision/ledger-3fa1.md",), "theirs")
    ]


def test_a_kind_change_and_a_body_edit_merge_into_one_file() -> None:
    moved = replace(BASE, kind="rule", updated=T1)
    edited = replace(BASE, body="PostgreSQL 16.", updated=T2)
    [change] = merge_trees(snap(BASE), snap(moved), snap(edited)).changes
    assert change.outcome == "merged" and change.remove == ()
    [(path, text)] = change.write.items()
    merged = parse_memory(text, __import__("pathlib").Path(path))
    assert (
        path == "rule/ledger-3fa1.md" and merged.body == "PostgreSQL 16." and merged.updated == T2
    )


def test_a_pair_comes_out_the_same_whichever_machine_merges() -> None:
    ours = replace(BASE, body="DynamoDB after all.", updated=T1)
    theirs = replace(BASE, body="CockroachDB.", updated=T2)
    one = merge_trees(snap(BASE), snap(ours), snap(theirs)).changes[0]
    two = merge_trees(snap(BASE), snap(theirs), snap(ours)).changes[0]
    assert one.outcome == two.outcome == "pair"
    assert dict(one.write) == dict(two.write)
    rev = revision_id("ledger-3fa1", render_memory(ours))
    assert one.other_id == rev and f"decision/{rev}.md" in one.write


def test_both_sides_editing_a_plain_file_keep_ours_and_write_theirs_beside_it() -> None:
    [change] = merge_trees({"README.md": "a"}, {"README.md": "b"}, {"README.md": "c"}).changes
    assert change.outcome == "conflict"
    [(path, text)] = change.write.items()
    assert path.startswith("README.md.conflict-") and text == "c"


def test_an_unparseable_edit_is_kept_verbatim_beside_ours() -> None:
    ours = snap(replace(BASE, body="edited", updated=T1))
    theirs = {"decision/ledger-3fa1.md": "---\nkind: [broken\n---\nhand edit\n"}
    [change] = merge_trees(snap(BASE), ours, theirs).changes
    assert change.outcome == "conflict"
    assert list(change.write.values()) == [theirs["decision/ledger-3fa1.md"]]
