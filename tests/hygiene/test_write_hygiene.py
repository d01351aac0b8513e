"""Write hygiene: near-duplicates refused or merged, provenance on each memory, an audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kenning.hygiene.audit import log_path
from kenning.hygiene.dedupe import NearDuplicate, compare, find_near_duplicate, is_duplicate
from kenning.memory import Memory, MemoryStore
from kenning.workspace import Workspace


@pytest.mark.parametrize(
    ("a", "b", "duplicate"),
    [
        (
            "Money is integer cents, never floats",
            "Money is always integer cents, never float",
            True,
        ),
        ("Retry webhooks 3 times", "Retry webhooks three times", True),
        ("Retry webhooks 3 times", "Retry webhooks 5 times", False),
        ("Always run migrations in a transaction", "Never run migrations in a transaction", False),
        ("We chose Postgres over DynamoDB", "We chose DynamoDB over Postgres", False),
        ("Target py311 in CI", "Target py312 in CI", False),
        ("Use ruff for linting", "Deploys happen on Tuesdays", False),
    ],
)
def test_lexical_rule_and_its_guards(a: str, b: str, duplicate: bool) -> None:
    assert is_duplicate(compare(a, b)) is duplicate


def test_the_embedder_catches_a_paraphrase_with_little_word_overlap() -> None:
    existing = Memory(
        "staging-1", "fact", "The staging database is refreshed from production weekly"
    )
    other = Memory("tabs-1", "fact", "YAML files are indented with two spaces")
    text = "Once a week staging gets a fresh copy of the prod database"
    found = find_near_duplicate(text, [other, existing])
    assert found is not None and found[0].id == "staging-1"
    assert found[1].dense is not None and found[1].lexical < 0.5
    assert find_near_duplicate(text, [other, existing], embed=None) is None  # words alone: no


def test_near_duplicate_is_refused_with_the_existing_id(ws: Workspace) -> None:
    first = ws.remember("Money is integer cents, never floats", "rule")
    with pytest.raises(NearDuplicate) as refused:
        ws.remember("Money is always integer cents and never float", "rule")
    assert first.id in str(refused.value) and refused.value.existing.id == first.id
    assert len(ws.memories("rule")) == 1


def test_merge_folds_new_detail_into_the_existing_memory(ws: Workspace) -> None:
    first = ws.remember("Money is integer cents, never floats", "rule", tags=["billing"])
    merged = ws.remember(
        "Money is integer cents, never floats.\n\nRounding errors cost us a refund run.",
        "rule",
        title="Money is integer cents, never float",
        tags=["money"],
        on_duplicate="merge",
    )
    assert merged.id == first.id
    assert "Rounding errors" in merged.body and merged.tags == ("billing", "money")
    assert len(ws.memories("rule")) == 1


def test_keep_stores_both(ws: Workspace) -> None:
    ws.remember("Money is integer cents, never floats", "rule")
    ws.remember("Money is integer cents and never float", "rule", on_duplicate="keep")
    assert len(ws.memories("rule")) == 2


def test_exact_restatement_still_returns_the_existing_memory(ws: Workspace) -> None:
    first = ws.remember("Deploys happen on Tuesdays", "fact")
    assert ws.remember("deploys happen on tuesdays.", "fact").id == first.id


def test_provenance_names_tool_session_and_commit(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KENNING_SESSION", "claude-session-7")
    memory = ws.remember("Deploys happen on Tuesdays", "fact", source="claude-code")
    provenance = ws.get(memory.id).extra["provenance"]
    assert provenance["tool"] == "claude-code" and provenance["session"] == "claude-session-7"
    assert len(provenance["commit"]) == 40


def test_every_change_is_appended_to_the_audit_log(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "dana")
    old = ws.remember("Deploys happen on Tuesdays", "fact", source="cli")
    new = ws.remember("Deploys happen on Wednesdays", "fact", supersedes=old.id)
    ws.update(new.id, tags=["ops"])
    ws.forget(new.id)
    log = log_path(ws.project.memories_dir)
    assert log == ws.project.kenning_dir / "audit.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["action"], r["id"]) for r in records] == [
        ("add", old.id),
        ("add", new.id),
        ("supersede", old.id),
        ("update", new.id),
        ("retire", new.id),
    ]
    assert all(r["user"] == "dana" and r["at"].endswith("Z") for r in records)
    assert records[0]["tool"] == "cli" and "commit" in records[0]
    assert records[2]["by"] == new.id and records[2]["changed"]["status"] == "superseded"
    assert records[3]["changed"] == {"tags": ["ops"]}


def test_a_bare_store_writes_only_memory_files(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "memories", None)
    store.add("Deploys happen on Tuesdays", "fact")
    assert not (tmp_path / "audit.jsonl").exists()
    assert "provenance" not in store.all()[0].extra


def test_near_duplicate_error_survives_pickling_between_processes() -> None:
    import pickle

    from kenning.hygiene.dedupe import NearDuplicate
    from kenning.memory import Memory

    error = NearDuplicate(
        Memory(id="retry-3-times-ab12", kind="decision", title="Retry 3 times"), 0.93
    )
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, NearDuplicate) and again.existing.id == "retry-3-times-ab12"
    assert again.score == 0.93 and str(again) == str(error)
