"""BM25 over memories: a title that `remember` derived from the body is not weighted on top of it."""

from __future__ import annotations

from pathlib import Path

from kenning.engine.retrieve import MEMORY_KINDS
from kenning.index.terms import query_terms
from kenning.workspace import Workspace

FILLER = (
    "We spent the morning on the release checklist and the changelog wording for the next "
    "minor version"
)


def test_words_in_passing_at_the_start_do_not_beat_the_memory_about_them(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path)
    # Both are longer than a title, so each gets its first 120 characters as a derived title.
    passing = ws.remember(
        "Kafka came up at the nightly. " + FILLER + ", then a long review of the billing screens.",
        kind="note",
        on_duplicate="keep",
    )
    about = ws.remember(
        FILLER + " and the billing screens. The nightly export should move to Kafka: a Kafka "
        "consumer keeps up with the nightly export where the cron job fell behind.",
        kind="note",
        on_duplicate="keep",
    )
    assert passing.title.endswith("…") and "Kafka" in passing.title
    assert "Kafka" not in about.title
    for n in range(20):
        ws.remember(
            f"Standup moved to {9 + n % 3} o'clock; ticket {100 + n} reviewed.", kind="note"
        )
    ws.index(embed=False)
    retriever = ws.engine.retriever
    ranked = retriever.lexical(query_terms("kafka for the nightly export"), MEMORY_KINDS, 2)
    found = retriever.fetch([cid for cid, _ in ranked])
    # With the title column at 4x (the code weight), `passing` led (5.3 to 4.6): its two words
    # counted in the title and again in the body. At 2x `about` leads (4.6 to 4.1).
    assert [found[cid].ref for cid, _ in ranked] == [about.id, passing.id]
    ws.close()
