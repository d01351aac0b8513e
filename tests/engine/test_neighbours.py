"""Session context: a memory that answers nothing on its own is found through the memory the
request matches, when the two were written one after the other in the same session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kenning.engine.neighbours import Timeline, lend, session_bonus
from kenning.engine.retrieve import MEMORY_KINDS, Weights
from kenning.memory import Memory, render_memory
from kenning.workspace import Workspace

MORNING = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def _write(root: Path, memory_id: str, title: str, when: datetime, source: str = "chat") -> None:
    folder = root / ".kenning" / "memories" / "note"
    folder.mkdir(parents=True, exist_ok=True)
    memory = Memory(
        id=memory_id, kind="note", title=title, created=when, updated=when, source=source
    )
    (folder / f"{memory_id}.md").write_text(render_memory(memory))


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Workspace]:
    """A question asked in one note and answered in the next, with unrelated sessions around."""
    root = tmp_path / "chat"
    _write(root, "ask", "Which database driver should the ingest worker use?", MORNING)
    _write(root, "answer", "psycopg 3, pinned below 3.2.", MORNING + timedelta(seconds=20))
    _write(root, "then", "Also keep the pool at four.", MORNING + timedelta(seconds=40))
    # Written two days later: the next note in time, but another session.
    _write(root, "later", "Lunch is at noon on Fridays.", MORNING + timedelta(days=2))
    # Another tool wrote this one during the same minute: not part of the exchange.
    _write(root, "other", "Rotate the staging keys.", MORNING + timedelta(seconds=10), "cli")
    for n in range(6):  # notes that share the request's words, to fill the ranks
        _write(
            root,
            f"noise-{n}",
            f"The ingest worker retries job {n} on a database timeout.",
            MORNING + timedelta(days=10 + n),
        )
    ws = Workspace.open(root)
    ws.index(embed=False)
    yield ws
    ws.close()


def test_the_answer_written_after_the_question_is_found_through_it(chat: Workspace) -> None:
    hits = chat.engine.retriever.search(
        "database driver for the ingest worker", MEMORY_KINDS, k=5, use_dense=False
    )
    refs = [h.ref for h in hits]
    assert refs[0] == "ask"
    assert "answer" in refs
    answer = hits[refs.index("answer")]
    assert answer.ranks == {"beside": 1}
    assert answer.named is not None and "written beside ask" in answer.named


def test_without_context_the_answer_is_not_found(chat: Workspace) -> None:
    hits = chat.engine.retriever.search(
        "database driver for the ingest worker",
        MEMORY_KINDS,
        k=5,
        use_dense=False,
        weights=Weights(context=0.0),
    )
    assert "answer" not in [h.ref for h in hits]


def test_loans_stay_inside_one_session_and_one_source(chat: Workspace) -> None:
    retriever = chat.engine.retriever
    ref_of = {
        h.chunk_id: ref
        for ref in ("ask", "answer", "then", "later")
        if (h := retriever.by_ref(ref))
    }
    ask = next(cid for cid, ref in ref_of.items() if ref == "ask")
    beside = {ref_of.get(cid, "?"): steps for cid, steps in retriever.timeline().beside(ask)}
    # "other" (another source, written in between) is skipped; "later" is two days on.
    assert beside == {"answer": 1, "then": 2}


def test_lend_halves_each_step_and_keeps_the_largest_loan() -> None:
    t0 = MORNING.timestamp()
    timeline = Timeline.of(
        [(1, t0, "a", "note"), (2, t0 + 1, "a", "note"), (3, t0 + 2, "a", "note"),
         (4, t0 + 3, "a", "decision"), (5, t0 + 3 + 7200, "a", "note"), (6, t0 + 1, "b", "note")]
    )  # fmt: skip
    loans = lend({1: 1.0, 3: 0.2}, timeline, share=0.5, reach=2, gap=600)
    assert 6 not in loans  # another source
    assert loans[2].lender == 1 and loans[2].amount == pytest.approx(0.5)
    assert loans[3].lender == 1 and loans[3].amount == pytest.approx(0.25)  # two steps: half
    assert loans[1].lender == 3 and loans[1].amount == pytest.approx(0.05)
    assert 5 not in loans  # two hours later: another session
    assert 4 not in lend({1: 1.0, 3: 0.2}, timeline, gap=600, kinds=["note"])
    assert lend({1: 1.0}, timeline, share=0.0) == {}


def test_a_memory_in_the_session_of_a_strong_match_gains(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    # Session one: the strong match, three unrelated notes, then a weak match (too far away
    # for a loan). Session two, days later: a slightly better weak match.
    _write(root, "strong", "Flaky upload test: the upload retries race the S3 mock.", MORNING)
    for n in range(3):
        _write(
            root, f"filler-{n}", f"Reviewed pull request {n}.", MORNING + timedelta(minutes=n + 1)
        )
    _write(root, "same-session", "Upload limits documented.", MORNING + timedelta(minutes=5))
    _write(
        root, "elsewhere", "Upload limits documented twice, upload.", MORNING + timedelta(days=3)
    )
    for n in range(8):
        _write(root, f"noise-{n}", f"Standup {n} moved.", MORNING + timedelta(days=9, hours=n))
    ws = Workspace.open(root)
    ws.index(embed=False)
    request = "why is the upload test flaky"

    def order(weights: Weights) -> list[str]:
        hits = ws.engine.retriever.search(
            request, MEMORY_KINDS, k=10, use_dense=False, weights=weights
        )
        return [h.ref for h in hits if h.ref in ("same-session", "elsewhere")]

    assert order(Weights(session=0.0)) == ["elsewhere", "same-session"]
    assert order(Weights()) == ["same-session", "elsewhere"]
    ws.close()


def test_session_bonus_follows_the_best_memory_of_each_session() -> None:
    t0 = MORNING.timestamp()
    timeline = Timeline.of(
        [(1, t0, "a", "note"), (2, t0 + 60, "a", "note"), (3, t0 + 7200, "a", "note"),
         (4, t0 + 30, "b", "note")]
    )  # fmt: skip
    assert timeline.session[1] == timeline.session[2] != timeline.session[3]
    assert timeline.session[4] not in (timeline.session[1], timeline.session[3])
    bonus = session_bonus({1: 1.0, 2: 0.1, 3: 0.5, 9: 2.0}, timeline, 0.2)
    assert bonus == pytest.approx({1: 0.2, 2: 0.2, 3: 0.1})
    assert session_bonus({1: 1.0}, timeline, 0.0) == {}


def test_only_notes_borrow_a_glossary_entry_written_next_stands_alone(tmp_path: Path) -> None:
    root = tmp_path / "glossary"
    folder = root / ".kenning" / "memories" / "term"
    folder.mkdir(parents=True)
    for n, (ref, title) in enumerate(
        [("dunning", "Dunning: chasing unpaid invoices"), ("reverse-charge", "Reverse charge")]
    ):
        when = MORNING + timedelta(seconds=n)
        memory = Memory(id=ref, kind="term", title=title, created=when, updated=when, source="chat")
        (folder / f"{ref}.md").write_text(render_memory(memory))
    _write(root, "after", "Check the retry queue tomorrow.", MORNING + timedelta(seconds=2))
    ws = Workspace.open(root)
    ws.index(embed=False)
    hits = ws.engine.retriever.search("what is dunning", MEMORY_KINDS, k=5, use_dense=False)
    refs = [h.ref for h in hits]
    assert refs[0] == "dunning"
    assert "reverse-charge" not in refs  # a term: written beside, but stands alone
    assert "after" in refs  # a note two steps on borrows (a term lends)
    ws.close()
