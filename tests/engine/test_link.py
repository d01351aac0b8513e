"""Entity linking over a small entity table: exact, compact, fuzzy, aliases, ambiguity."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kenning.engine.link import EntityTable, IndexedEntities, Mention, find_mentions
from kenning.index import entity_keys
from kenning.index.schema import migrate


def _symbol(path: str, qual: str) -> list[tuple[str, str, str, str]]:
    node = f"sym:{path}::{qual}"
    bare = qual.rsplit(".", 1)[-1]
    rows = [(qual.lower(), qual, node, "symbol"), (bare.lower(), qual, node, "symbol")]
    from kenning.index.terms import split_identifier

    split = " ".join(split_identifier(bare))
    if " " in split:
        rows.append((split, qual, node, "symbol"))
    return rows


def _file(path: str) -> list[tuple[str, str, str, str]]:
    parts = path.split("/")
    names = {path.lower(), parts[-1].lower(), parts[-1].rsplit(".", 1)[0].lower()}
    names |= {"/".join(parts[-n:]).lower() for n in range(2, len(parts) + 1)}
    return [(n, path, f"file:{path}", "file") for n in names]


def _memory(mid: str, kind: str, *names: str) -> list[tuple[str, str, str, str]]:
    return [(n.lower(), n, f"mem:{mid}", kind) for n in names]


def indexed(rows: list[tuple[str, str, str, str]], folder: Path) -> EntityTable:
    """The same names written to a real index the way the indexer writes them."""
    db = sqlite3.connect(folder / "entities.sqlite3")
    migrate(db)
    by_doc: dict[str, list[tuple[str, str, str, str]]] = {}
    for row in rows:
        owner = (
            row[2].split("::", 1)[0].split(":", 1)[1] if row[2][:4] in ("sym:", "file") else row[2]
        )
        by_doc.setdefault(owner, []).append(row)
    with db:
        for owner, names in by_doc.items():
            doc = db.execute(
                "INSERT INTO documents (path, source, mtime, size, hash) VALUES (?, ?, 0, 0, '')",
                (owner, "memory" if owner.startswith("mem:") else "repo"),
            ).lastrowid
            entity_keys.write(db, doc, names)
    return IndexedEntities(db)


@pytest.fixture(scope="module", params=["in-memory", "indexed"])
def table(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> EntityTable:
    rows: list[tuple[str, str, str, str]] = []
    for path in (
        "src/app/payments/webhooks.py",
        "src/app/billing/invoices.py",
        "src/app/api/routes/invoices.py",
        "src/app/jobs/queue.py",
        "src/app/http_client.py",
        "src/app/settings.py",
        "tests/conftest.py",
        "tools/ledger-export/main.go",
        "docs/adr/0003-postgres-backed-job-queue.md",
        "README.md",
    ):
        rows += _file(path)
    rows += _symbol("src/app/payments/webhooks.py", "WebhookSender")
    rows += _symbol("src/app/payments/webhooks.py", "WebhookSender.send")
    rows += _symbol("src/app/notifications/email.py", "Mailer.send")
    rows += _symbol("src/app/billing/invoices.py", "compute_invoice_total")
    rows += _symbol("src/app/ledger/entries.py", "LedgerEntry")
    rows += _symbol("src/app/auth/sessions.py", "SessionStore")
    rows += _symbol("src/app/auth/sessions.py", "SessionStore.get")
    rows += _symbol("src/app/http_client.py", "request")
    rows += _symbol("src/app/settings.py", "Settings")
    rows += _symbol("tests/conftest.py", "FakePsp")
    rows += _memory("dana-1", "person", "Dana Whitfield", "Dana", "the client", "DW")
    rows += _memory("psp-2", "term", "PSP", "payment service provider", "Stripe")
    rows += _memory("ledger-entry-3", "term", "Ledger entry", "posting", "journal entry")
    rows += _memory("credit-note-4", "term", "Credit note", "credit memo")
    rows += [("payments", "payments", "mem:some-decision", "tag")]
    if request.param == "indexed":
        return indexed(rows, tmp_path_factory.mktemp("links"))
    return EntityTable.from_rows(rows)


def links(text: str, table: EntityTable, **kw: Any) -> set[str]:
    return {m.node for m in find_mentions(text, table, **kw) if m.strong and m.type != "tag"}


def mention(text: str, table: EntityTable, node: str) -> Mention:
    return next(m for m in find_mentions(text, table) if m.node == node)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("look at src/app/payments/webhooks.py", {"file:src/app/payments/webhooks.py"}),
        ("why does payments/webhooks.py retry?", {"file:src/app/payments/webhooks.py"}),
        ("the job queue module needs a cancel", {"file:src/app/jobs/queue.py"}),
        ("the go ledger-export tool needs --from", {"file:tools/ledger-export/main.go"}),
        ("the README is out of date", {"file:README.md"}),
        ("the fake psp in conftest", {"sym:tests/conftest.py::FakePsp", "file:tests/conftest.py"}),
    ],
)
def test_files_are_found_by_path_tail_directory_and_description(
    table: EntityTable, text: str, expected: set[str]
) -> None:
    assert links(text, table) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "add retries to WebhookSender.send",
            "sym:src/app/payments/webhooks.py::WebhookSender.send",
        ),
        (
            "computeInvoiceTotal ignores discounts",
            "sym:src/app/billing/invoices.py::compute_invoice_total",
        ),
        ("the webhook sender retries 410", "sym:src/app/payments/webhooks.py::WebhookSender"),
        ("webhook_sender should log latency", "sym:src/app/payments/webhooks.py::WebhookSender"),
        ("http_client.request needs a retry", "sym:src/app/http_client.py::request"),
        (
            "the SessionStore get() ignores revoked_at",
            "sym:src/app/auth/sessions.py::SessionStore.get",
        ),
        ("runtime flag on Settings", "sym:src/app/settings.py::Settings"),
    ],
)
def test_symbols_are_found_exactly_by_compact_spelling_and_by_their_words(
    table: EntityTable, text: str, expected: str
) -> None:
    assert links(text, table) == {expected}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("webook sender sends twice", "sym:src/app/payments/webhooks.py::WebhookSender"),
        (
            "compute_invoce_total rounds wrong",
            "sym:src/app/billing/invoices.py::compute_invoice_total",
        ),
        ("LegderEntry lacks a field", "sym:src/app/ledger/entries.py::LedgerEntry"),
        ("ask Dana Whitfeld first", "mem:dana-1"),
        ("payements/webhooks.py logs tokens", "file:src/app/payments/webhooks.py"),
    ],
)
def test_one_typo_in_a_long_enough_word_is_forgiven(
    table: EntityTable, text: str, expected: str
) -> None:
    found = find_mentions(text, table)
    assert expected in {m.node for m in found if m.strong}
    assert next(m for m in found if m.node == expected).how == "fuzzy"


def test_typos_are_not_corrected_when_fuzzy_is_off(table: EntityTable) -> None:
    assert links("webook sender sends twice", table, fuzzy=False) == set()


def test_short_words_are_never_fuzzy_matched(table: EntityTable) -> None:
    assert links("the psd file", table) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what does the client think?", {"mem:dana-1"}),
        ("DW wants sortable columns", {"mem:dana-1"}),
        ("the payment service provider is down", {"mem:psp-2"}),
        ("Stripe sent the event twice", {"mem:psp-2"}),
        ("credit memos for partial refunds", {"mem:credit-note-4"}),
        ("journal entries for a refund", {"mem:ledger-entry-3"}),
    ],
)
def test_people_and_terms_are_found_by_alias(
    table: EntityTable, text: str, expected: set[str]
) -> None:
    assert links(text, table) == expected


def test_a_glossary_phrase_is_the_term_and_the_code_spelling_is_the_symbol(
    table: EntityTable,
) -> None:
    assert links("what is a ledger entry?", table) == {"mem:ledger-entry-3"}
    assert links("LedgerEntry needs a currency", table) == {
        "sym:src/app/ledger/entries.py::LedgerEntry"
    }


def test_the_longest_name_wins_an_overlap(table: EntityTable) -> None:
    assert links("the fake psp returns 500", table) == {"sym:tests/conftest.py::FakePsp"}


def test_an_adr_described_by_its_subject_is_linked_without_the_module(
    table: EntityTable,
) -> None:
    assert links("update the ADR about the job queue", table) == {
        "file:docs/adr/0003-postgres-backed-job-queue.md"
    }


def test_one_span_that_fits_several_entities_lists_the_others(table: EntityTable) -> None:
    found = mention(
        "who calls send() with a body", table, "sym:src/app/notifications/email.py::Mailer.send"
    )
    assert found.ambiguous
    assert found.candidates == ("sym:src/app/payments/webhooks.py::WebhookSender.send",)
    assert found.to_dict()["candidates"] == list(found.candidates)


def test_plain_words_that_are_file_stems_are_weak_and_tags_are_weak(table: EntityTable) -> None:
    found = find_mentions("the invoices page shows payments", table)
    assert found
    assert not any(m.strong for m in found)
    assert {m.type for m in found} >= {"tag"}


@pytest.mark.parametrize(
    "text",
    [
        "how do I center a div",
        "explain recursion to a five year old",
        "",
        "\x00\x01\x02",
        "これは何をしますか",
    ],
)
def test_text_naming_nothing_links_nothing(table: EntityTable, text: str) -> None:
    assert links(text, table) == set()


def test_a_megabyte_of_text_is_linked(table: EntityTable) -> None:
    text = "WebhookSender.send " + "lorem ipsum dolor " * 60_000
    found = find_mentions(text, table)
    assert "sym:src/app/payments/webhooks.py::WebhookSender.send" in {m.node for m in found}


def test_an_empty_table_links_nothing() -> None:
    assert find_mentions("WebhookSender.send", EntityTable()) == []
