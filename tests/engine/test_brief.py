"""The brief on the bundled sample project: the behaviour users see."""

from __future__ import annotations

from typing import Any

import pytest

from kenning.engine.brief import scope_matches


def refs(packet: Any, kind: str | None = None) -> list[str]:
    return [i.ref for i in packet.items if kind is None or i.kind == kind]


def test_request_that_revives_a_ruled_out_choice_lists_the_conflict_first(
    indexed_sample: Any,
) -> None:
    packet = indexed_sample.brief(
        "move the webhook retries onto a Celery task so WebhookSender.send stops blocking"
    )
    assert packet.conflicts, "the Celery request must surface the decision that ruled Celery out"
    refs_ = [c.ref for c in packet.conflicts]
    # The decision memory and ADR 0003 both rule Celery out; either may lead.
    assert "background-jobs-on-postgres-queue-8d2e" in refs_
    assert set(refs_[:2]) <= {
        "background-jobs-on-postgres-queue-8d2e",
        "docs/adr/0003-postgres-backed-job-queue.md:1-27",
    }
    assert "celery" in packet.conflicts[0].reason.lower()
    assert packet.items[0].ref == packet.conflicts[0].ref
    assert any(r.startswith("src/tidewater/payments/webhooks.py") for r in refs(packet))


def test_a_conflicting_memory_shows_the_sentence_that_conflicts(indexed_sample: Any) -> None:
    packet = indexed_sample.brief(
        "move the webhook retries onto a Celery task so WebhookSender.send stops blocking"
    )
    by_ref = {i.ref: i for i in packet.items}
    for conflict in packet.conflicts:
        item = by_ref[conflict.ref]
        # The quote is in the conflict; the item says why in a few words and shows the
        # sentence in its text, even when the memory is too long to show whole (ADR 0003 says
        # it in its last section).
        assert item.why == "conflicts with the request: the request asks for celery"
        assert " ".join(conflict.sentence.split()) in " ".join(item.text.split())


def test_float_for_money_conflicts_with_the_integer_cents_decision(indexed_sample: Any) -> None:
    packet = indexed_sample.brief("store the VAT amount as a float in compute_invoice_total")
    assert "money-is-integer-cents-b41a" in [c.ref for c in packet.conflicts]
    assert any("billing/invoices.py" in r for r in refs(packet))


def test_following_a_rule_is_not_a_conflict(indexed_sample: Any) -> None:
    packet = indexed_sample.brief(
        "make sure the job queue stays on Postgres and we don't use Celery"
    )
    assert "background-jobs-on-postgres-queue-8d2e" not in [c.ref for c in packet.conflicts]


def test_rules_scoped_to_a_named_file_are_always_in(indexed_sample: Any) -> None:
    packet = indexed_sample.brief("tidy this up", files=["src/tidewater/payments/psp.py"])
    scoped = [i for i in packet.items if i.kind == "rule" and "scoped to" in i.why]
    assert len(scoped) >= 2
    assert all("covers src/tidewater/payments/psp.py" in i.why for i in scoped)


def test_people_are_found_by_alias(indexed_sample: Any) -> None:
    packet = indexed_sample.brief("who is the client and what does she care about?")
    assert "dana-whitfield-7e21" in refs(packet, "person")
    item = next(i for i in packet.items if i.ref == "dana-whitfield-7e21")
    assert "the client" in item.why


@pytest.mark.parametrize("budget", [150, 500, 2000])
def test_packet_stays_within_budget(indexed_sample: Any, budget: int) -> None:
    packet = indexed_sample.brief("add retries with backoff to the webhook sender", budget=budget)
    assert 0 < packet.tokens <= budget
    assert all(item.why for item in packet.items)


def test_json_contract_has_every_documented_field(indexed_sample: Any) -> None:
    data = indexed_sample.brief("add a refund status call to the PSP client").to_dict()
    assert {"request", "intent", "budget", "tokens", "elapsed_ms", "items", "conflicts"} <= set(
        data
    )
    for item in data["items"]:
        assert {"kind", "ref", "title", "text", "score", "why", "tokens"} <= set(item)
        assert item["kind"] in (
            "file",
            "symbol",
            "decision",
            "rule",
            "preference",
            "person",
            "term",
            "fact",
            "note",
            "doc",
        )
    code = [i for i in data["items"] if i["kind"] in ("file", "symbol", "doc")]
    assert code and all(":" in i["ref"] and "-" in i["ref"].rsplit(":", 1)[1] for i in code)


@pytest.mark.parametrize(
    "request_text",
    [
        "",
        "   ",
        "\x00\x01binary\xff",
        "x" * 1_000_000,
        "¿Cómo reintentamos los webhooks?",
        "请解释发票",
    ],
)
def test_odd_requests_give_a_packet_not_a_traceback(indexed_sample: Any, request_text: str) -> None:
    packet = indexed_sample.brief(request_text)
    assert packet.tokens <= packet.budget
    assert packet.to_markdown().startswith("# Context for:")


def test_a_named_file_that_does_not_exist_is_reported(indexed_sample: Any) -> None:
    packet = indexed_sample.brief("fix it", files=["src/nope.py"])
    assert any("src/nope.py" in n for n in packet.notes)


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("src/payments/**", "src/payments/a/b.py", True),
        ("src/payments/**", "src/paymentsx.py", False),
        ("*.py", "deep/down/x.py", True),
        ("tests/", "tests/test_x.py", True),
        ("src/*.ts", "src/a/b.ts", False),
        ("**/migrations/*.sql", "db/migrations/1.sql", True),
    ],
)
def test_scope_globs_match_like_gitignore(glob: str, path: str, expected: bool) -> None:
    assert scope_matches(glob, path) is expected
