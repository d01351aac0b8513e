"""Session context: a memory borrows relevance from the memories written just beside it.

A memory is often one step of a longer exchange and says little on its own: "For walking or
running?", "I added some sage for flavour", "Yes, that one: the retry wrapper". What it is about
is in the memory written just before or after it in the same working session, which the request
matches instead. So once the rankers have scored a search's memories, each scored memory lends a
share of its score to its neighbours in time: the memory written right before and right after it
(`SHARE` of its score) and the ones two steps away (half that), counting only memories of the
same source (the tool that recorded them) and stopping at a pause longer than `SESSION_GAP`. A
memory keeps its own score plus the largest loan it gets; loans are made from the rankers' scores
only, so nothing is passed on twice. Then every scored memory gains a little
(`SESSION_WEIGHT`, relative to the best score) from the best-scored memory of its session: a
session that holds a strong match is likelier to hold the rest of the answer. Only notes
borrow and gain (`CONTEXT_KINDS`); every kind lends and counts for its session.

Measured on LoCoMo conversations 0-4 (every turn a memory; the held-out 5-9 were not looked at
while choosing): search R@10 0.679 without, 0.747 with the adjacent memories alone at share 0.5,
0.763 with two steps; later (memory titles at 2x) share 0.4 / 0.5 / 0.6 gave 0.759 / 0.772 /
0.770 and three steps 0.771. The session bonus at 0.2 (after the date bonus of `dates`): 0.795 ->
0.804 (0.1 / 0.3: 0.796 / 0.803; a session scored by the sum of its best 3 or 5 memories
instead of its best: 0.803 / 0.803). Code chunks are never lent to.

`lend` is pure; `Timeline.load` reads the active memories of an index in the order they were
written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Share of a memory's score lent to the memory written just before and just after it.
SHARE = 0.5
# How many steps in time a loan reaches; each further step gets half the share of the last.
REACH = 2
# A longer pause between two memories ends a session: nothing is lent across it.
SESSION_GAP = 30 * 60.0
# Only these kinds borrow or gain from their session: a note is what a tool writes down in the
# flow of a session and often means something only beside the notes around it. Decisions, rules,
# preferences, people, terms and facts are written to stand alone (the glossary entry written
# after "dunning" is not about dunning), though any kind lends.
CONTEXT_KINDS = ("note",)
# What a memory gains from its session's best score (relative to the best score of all), in
# units of the fused score scale.
SESSION_WEIGHT = 0.2


@dataclass(frozen=True)
class Loan:
    """What a memory borrows: the amount, from which memory, and how many steps away it is."""

    amount: float
    lender: int
    steps: int


@dataclass
class Timeline:
    """Memories in the order each source wrote them: chunk ids, created times and kinds (and
    each memory's created time and kind by id).

    A memory's neighbours are the memories of its own source just before and after it; one
    another tool wrote in between does not break an exchange.
    """

    ids: dict[str, list[int]] = field(default_factory=dict)
    created: dict[str, list[float]] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    position: dict[int, tuple[str, int]] = field(default_factory=dict)
    written: dict[int, float] = field(default_factory=dict)
    # Which session each memory belongs to: a run of one source's memories with no pause
    # longer than `SESSION_GAP`.
    session: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, float, str | None, str]]) -> Timeline:
        """A timeline from (chunk id, created, source, kind) rows, in any order."""
        timeline = cls()
        for cid, when, source, kind in sorted(rows, key=lambda r: (r[1], r[0])):
            key = source or ""
            ids = timeline.ids.setdefault(key, [])
            timeline.position[cid] = (key, len(ids))
            ids.append(cid)
            timeline.created.setdefault(key, []).append(when)
            timeline.kinds[cid] = kind
            timeline.written[cid] = when
        sessions = 0
        for key, ids in timeline.ids.items():
            created = timeline.created[key]
            for i, cid in enumerate(ids):
                if i == 0 or created[i] - created[i - 1] > SESSION_GAP:
                    sessions += 1
                timeline.session[cid] = sessions
        return timeline

    @classmethod
    def load(cls, db: sqlite3.Connection, kinds: Iterable[str]) -> Timeline:
        """The active memories of these kinds in an index (those with a created time)."""
        wanted = tuple(kinds)
        marks = ",".join("?" * len(wanted))
        rows = db.execute(
            "SELECT id, created, json_extract(memory_json, '$.source'), kind FROM chunks "
            f"WHERE kind IN ({marks}) AND status = 'active' AND created IS NOT NULL",
            wanted,
        ).fetchall()
        return cls.of((int(r[0]), float(r[1]), r[2], str(r[3])) for r in rows)

    def beside(
        self, chunk_id: int, reach: int = REACH, gap: float = SESSION_GAP
    ) -> list[tuple[int, int]]:
        """(neighbour id, steps away) before and after `chunk_id` among its source's memories;
        a walk outward stops at the first pause longer than `gap` (another session)."""
        found = self.position.get(chunk_id)
        if found is None:
            return []
        source, at = found
        ids, created = self.ids[source], self.created[source]
        out: list[tuple[int, int]] = []
        for direction in (-1, 1):
            here = at
            for steps in range(1, reach + 1):
                there = here + direction
                if not 0 <= there < len(ids) or abs(created[there] - created[here]) > gap:
                    break
                out.append((ids[there], steps))
                here = there
        return out


def lend(
    scores: Mapping[int, float],
    timeline: Timeline,
    *,
    share: float = SHARE,
    reach: int = REACH,
    gap: float = SESSION_GAP,
    kinds: Iterable[str] | None = None,
) -> dict[int, Loan]:
    """The largest loan each memory gets from the scored memories beside it.

    Args:
        scores: the rankers' scores of a search's memories (chunk id → score).
        timeline: the index's memories in the order they were written.
        share: what the adjacent memory gets; one more step away halves it.
        reach: how many steps away a loan goes.
        gap: the longest pause (seconds) inside one session.
        kinds: only memories of these kinds borrow (all when None).
    """
    allowed = set(kinds) if kinds is not None else None
    loans: dict[int, Loan] = {}
    if share <= 0:
        return loans
    for lender, score in scores.items():
        if score <= 0:
            continue
        for borrower, steps in timeline.beside(lender, reach, gap):
            if allowed is not None and timeline.kinds[borrower] not in allowed:
                continue
            amount = share * score / 2 ** (steps - 1)
            best = loans.get(borrower)
            if best is None or amount > best.amount:
                loans[borrower] = Loan(amount, lender, steps)
    return loans


def session_bonus(
    scores: Mapping[int, float],
    timeline: Timeline,
    weight: float,
    kinds: Iterable[str] | None = None,
) -> dict[int, float]:
    """What each scored memory (of `kinds`, all when None) gains from the best-scored memory of
    its session: `weight` times that score over the best score of all (a memory alone in its
    session gains from itself). Memories outside the timeline gain nothing."""
    allowed = set(kinds) if kinds is not None else None
    best: dict[int, float] = {}
    for cid, score in scores.items():
        session = timeline.session.get(cid)
        if session is not None:
            best[session] = max(best.get(session, 0.0), score)
    top = max(best.values(), default=0.0)
    if weight <= 0 or top <= 0:
        return {}
    return {
        cid: weight * best[timeline.session[cid]] / top
        for cid in scores
        if cid in timeline.session and (allowed is None or timeline.kinds[cid] in allowed)
    }
