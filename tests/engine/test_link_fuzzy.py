"""The linker's typo correction: generated edits give the same answer as a brute-force scan."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.engine.link import EntityTable, IndexedEntities
from kenning.index import entity_keys
from kenning.index.schema import migrate


def osa(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(row[j - 1] + 1, rows[-1][j] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def brute_force(table: EntityTable, word: str) -> str | None:
    if len(word) < 5 or word in table.words or not word.isalpha():
        return None
    close = sorted(w for w in table.words if osa(word, w) <= 1)
    return close[0] if len(close) == 1 else None


def table_of(words: list[str]) -> EntityTable:
    return EntityTable.from_rows([(w, w, f"mem:{w}", "term") for w in words])


def test_typos_correct_to_the_one_close_word() -> None:
    table = table_of(["webhook", "dunning", "ledger", "invoice", "invoices", "naïve"])
    assert table.correct("webhok") == "webhook"  # deletion
    assert table.correct("dunnxyg") is None  # two edits away
    assert table.correct("dunnign") == "dunning"  # adjacent swap
    assert table.correct("legder") == "ledger"
    assert table.correct("invoicex") is None  # one edit from both invoice and invoices
    assert table.correct("naive") == "naïve"  # substitution by a letter outside ASCII


words = st.text(alphabet="abcdeé", min_size=4, max_size=8)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(words, min_size=1, max_size=30), words)
def test_generated_edits_match_a_brute_force_scan(known: list[str], probe: str) -> None:
    table = table_of(known)
    assert table.correct(probe) == brute_force(table, probe)


def test_a_huge_word_is_not_expanded() -> None:
    """Edits of an n-letter word take n² memory: a pasted 20k-letter 'word' must not try."""
    table = table_of(["webhook", "ledger"])
    assert table.correct("x" * 20_000) is None
    assert table.correct("webhookz" * 6) is None


def test_the_index_corrects_typos_like_the_in_memory_table(tmp_path: Path) -> None:
    known = ["webhook", "dunning", "ledger", "invoice", "invoices", "naïve", "refunds"]
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    migrate(db)
    with db:
        entity_keys.write(db, None, [(w, w, f"mem:{w}", "term") for w in known])
    indexed, in_memory = IndexedEntities(db), table_of(known)
    for probe in [
        "webhok",
        "dunnxyg",
        "dunnign",
        "legder",
        "invoicex",
        "naive",
        "refund",
        "zzzzzz",
    ]:
        assert indexed.correct(probe) == in_memory.correct(probe), probe
