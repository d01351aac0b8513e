"""The tools' behaviour on a real project, in-process: arguments, caps, dedupe, files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenning.mcp.service import (
    BadArgument,
    KenningService,
    decision_text,
    int_arg,
    kind_arg,
    list_arg,
    relative_paths,
    text_arg,
)
from kenning.memory import MemoryStore
from kenning.tokens import count_tokens


@pytest.fixture
def service(project: Path) -> KenningService:
    svc = KenningService(project, vectors=False)
    yield svc
    svc.close()


def memory_file(project: Path, kind: str, memory_id: str) -> Path:
    return project / ".kenning" / "memories" / kind / f"{memory_id}.md"


def test_arguments_are_coerced_leniently_and_refused_precisely(tmp_path: Path) -> None:
    assert kind_arg("Decisions") == "decision"
    assert kind_arg("people") == "person"
    assert list_arg("a, b\nc", "tags") == ["a", "b", "c"]
    assert list_arg(None, "tags") == []
    assert int_arg("12", "limit", 1, 25, 8) == 12
    assert int_arg(500, "limit", 1, 25, 8) == 25
    assert int_arg(None, "limit", 1, 25, 8) == 8
    assert relative_paths([str(tmp_path / "src" / "a.py"), "./b.py"], tmp_path) == [
        "src/a.py",
        "b.py",
    ]
    with pytest.raises(BadArgument, match="one of"):
        kind_arg("opinion")
    with pytest.raises(BadArgument, match="empty"):
        text_arg("   ", "request", 100)
    with pytest.raises(BadArgument, match="limit is 10"):
        text_arg("x" * 11, "request", 10)
    with pytest.raises(BadArgument, match="list of strings"):
        list_arg([1, 2], "files")
    with pytest.raises(BadArgument, match="whole number"):
        int_arg("lots", "budget", 1, 10, 5)
    with pytest.raises(BadArgument, match="outside the project"):
        relative_paths(["../etc/passwd"], tmp_path)
    with pytest.raises(BadArgument, match="outside the project"):
        relative_paths(["/etc/passwd"], tmp_path)


def test_decision_text_phrases_rejected_options_as_ruled_out() -> None:
    text = decision_text("Use the Postgres queue.", ["one database"], ["Celery", "RQ."])
    assert "Reasons:\n- one database" in text
    assert "- We ruled out Celery." in text and "- We ruled out RQ." in text


def test_get_context_is_bounded_by_the_budget_and_the_cap(project: Path) -> None:
    svc = KenningService(project, vectors=False, max_tokens=1000)
    try:
        reply, packet = svc.get_context(
            "add retries to the webhook sender",
            files=["src/tidewater/payments/webhooks.py"],
            budget=50_000,
        )
        assert packet.budget == 800  # cap minus the reply's own overhead
        assert count_tokens(reply.text) <= 1000
        assert reply.data["intent"] and reply.data["items"]
        assert "payments.mdc" in reply.text  # the rule scoped to the file given
    finally:
        svc.close()


def test_remember_writes_the_file_and_refuses_a_near_duplicate(
    service: KenningService, project: Path
) -> None:
    first = service.remember(
        "Invoice numbers are never reused, even after a void",
        "rule",
        scope="src/tidewater/billing/**",
        tags=["billing"],
        files=[str(project / "src" / "tidewater" / "billing" / "invoices.py")],
        source="test-client",
    )
    assert first.data["status"] == "created"
    path = memory_file(project, "rule", first.data["id"])
    text = path.read_text()
    assert "source: test-client" in text and "src/tidewater/billing/**" in text
    assert "src/tidewater/billing/invoices.py" in text  # anchored to the file given
    again = service.remember(
        "Invoice numbers are never reused, even after a void.", "rules", source="other"
    )
    assert again.data == {**again.data, "status": "duplicate", "id": first.data["id"]}
    assert "supersedes=" in again.text
    opposite = service.remember("Invoice numbers are reused after a void", "rule")
    assert opposite.data["status"] == "created"
    replaced = service.remember(
        "Invoice numbers are never reused, not even after a void or a credit note",
        "rule",
        supersedes=first.data["id"],
    )
    assert replaced.data["supersedes"] == first.data["id"]
    assert "status: superseded" in path.read_text()


def test_remember_refuses_bad_arguments_with_the_fix(service: KenningService) -> None:
    with pytest.raises(BadArgument, match="no path scope"):
        service.remember("Prefers short answers", "preference", scope=["src/**"])
    with pytest.raises(BadArgument, match="one of"):
        service.remember("Something", "opinion")


def test_record_decision_is_found_as_a_conflict_later(
    service: KenningService, project: Path
) -> None:
    reply = service.record_decision(
        "Feature flags live in the settings table",
        "Feature flags are rows in the settings table, read through tidewater.settings.",
        reasons=["one place to audit", "no new service"],
        alternatives_rejected=["LaunchDarkly"],
        source="test-client",
    )
    memory = MemoryStore(project / ".kenning" / "memories", None).get(reply.data["id"])
    assert memory.kind == "decision" and memory.source == "test-client"
    assert "We ruled out LaunchDarkly." in memory.body
    found = service.search("feature flags settings table", "decision", 3)
    assert reply.data["id"] in [r["id"] for r in found.data["results"]]


def test_search_get_forget_and_rules(service: KenningService, project: Path) -> None:
    hits = service.search("ledger entries append only", None, 50)
    assert 1 <= len(hits.data["results"]) <= 25
    memory_ids = [r["id"] for r in hits.data["results"] if r["id"]]
    assert memory_ids, hits.text
    shown = service.get(memory_ids[0])
    assert shown.data["id"] == memory_ids[0] and shown.text.startswith("# ")
    rules = service.list_rules("src/tidewater/payments/webhooks.py")
    refs = [r["ref"] for r in rules.data["rules"]]
    assert "psp-calls-need-idempotency-key-a5d0" in refs
    assert "migrations-are-append-only-91ce" not in refs  # scoped to migrations/** only
    everything = service.list_rules()
    assert "migrations-are-append-only-91ce" in [r["ref"] for r in everything.data["rules"]]
    gone = service.forget("psp-calls-need-idempotency-key-a5d0")
    assert gone.data["status"] == "retired"
    path = memory_file(project, "rule", "psp-calls-need-idempotency-key-a5d0")
    assert "status: retired" in path.read_text()
    after = service.list_rules("src/tidewater/payments/webhooks.py")
    assert "psp-calls-need-idempotency-key-a5d0" not in [r["ref"] for r in after.data["rules"]]


def test_route_explains_intent_entities_and_plan(service: KenningService) -> None:
    reply = service.route("why did we move background jobs off Celery?")
    assert set(reply.data) >= {"intent", "confidence", "entities", "plan"}
    assert reply.data["plan"]["quotas"]
    assert "plan:" in reply.text


def test_the_index_follows_edits_between_requests(project: Path) -> None:
    svc = KenningService(project, vectors=False, fresh_after=0.0)
    try:
        assert not svc.search("zanzibar quokka", "code", 5).data["results"]
        (project / "src" / "tidewater" / "quokka.py").write_text(
            'def zanzibar_quokka() -> str:\n    """Count the zanzibar quokkas."""\n    return "q"\n'
        )
        found = svc.search("zanzibar quokka", "code", 5).data["results"]
        assert any(r["path"] == "src/tidewater/quokka.py" for r in found)
    finally:
        svc.close()


def test_long_memories_are_cut_to_the_cap_everywhere(project: Path) -> None:
    svc = KenningService(project, vectors=False, max_tokens=600)
    try:
        body = " ".join(f"clause{n} says the ledger export keeps row {n}" for n in range(900))
        made = svc.remember(
            f"Ledger exports keep every row\n\n{body}", "rule", scope="src/tidewater/ledger/**"
        )
        assert made.data["status"] == "created"
        rules = svc.list_rules("src/tidewater/ledger/entries.py")
        assert count_tokens(rules.text) <= 600
        assert all(count_tokens(r["excerpt"]) <= 160 for r in rules.data["rules"])
        shown = svc.get(made.data["id"])
        assert count_tokens(shown.text) <= 600 and "truncated" in shown.text
        found = svc.search("ledger export rows clause", None, 25)
        assert count_tokens(found.text) <= 600
    finally:
        svc.close()


def test_warm_up_never_starts_indexing_a_project(project: Path) -> None:
    svc = KenningService(project, vectors=False)
    try:
        svc.warm_in_background().join(timeout=120)
        assert not (project / ".kenning" / "index").exists()
        svc.get_context("add retries to the webhook sender")  # builds the index
        svc.warm_in_background().join(timeout=120)
        assert svc.last_check_ms >= 0
    finally:
        svc.close()


def test_warm_up_reads_every_decision_rule_and_preference_ahead(project: Path) -> None:
    from kenning.engine._stance import stance

    svc = KenningService(project, vectors=False)
    try:
        svc.get_context("add retries to the webhook sender")  # builds the index
        inputs = svc.ready().engine.stance_inputs()
        assert inputs
        stance.cache_clear()
        svc.warm_in_background().join(timeout=120)
        info = stance.cache_info()
        assert info.currsize >= len(set(inputs))
        # A brief now reads no stance it has not seen: every memory's is cached.
        svc.get_context("switch the webhook sender to a new queue library")
        assert stance.cache_info().misses == info.misses
    finally:
        svc.close()


def test_capture_proposes_without_writing(service: KenningService, project: Path) -> None:
    before = sorted(p.name for p in (project / ".kenning" / "memories").rglob("*.md"))
    session = "\n".join(
        [
            "user: We decided to move settlement runs to 03:00 UTC.",
            "assistant: I'll update the scheduler.",
            "user: From now on, always run the ledger checks before a deploy.",
            "user: what time is it?",
        ]
    )
    reply = service.capture(session, source="pytest")
    kinds = [p["kind"] for p in reply.data["proposals"]]
    assert "decision" in kinds and "rule" in kinds
    assert all(p["source"] == "pytest" for p in reply.data["proposals"])
    assert "Nothing was stored" in reply.text
    after = sorted(p.name for p in (project / ".kenning" / "memories").rglob("*.md"))
    assert after == before
    assert "Nothing in this text" in service.capture("hello there, how are you?").text
