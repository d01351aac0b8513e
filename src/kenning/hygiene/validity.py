"""Time and supersession: which memories are in force now, and the chain each one belongs to.

A memory is *live* when its status is active, no active memory supersedes it, and now lies in
its validity window: `valid_from` / `valid_until` in the front-matter (a date or a timestamp;
either may be missing). Packets hold live memories only, unless the caller asks for history;
then superseded and expired ones come too, labelled.

`chain` walks `supersedes` links both ways from any memory, so `kenning history ID` shows the
whole line of versions, oldest first, whichever version it was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kenning.memory import Memory

# Stale memories keep this share of their retrieval score: still found, ranked below fresh ones.
STALE_WEIGHT = 0.5


def parse_moment(value: Any) -> float | None:
    """An epoch for a front-matter date (`2026-03-14`, an ISO timestamp, a YAML date)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Window:
    """A validity window; either end may be open."""

    start: float | None = None
    end: float | None = None

    @classmethod
    def of(cls, extra: Mapping[str, Any] | None) -> Window:
        extra = extra or {}
        return cls(parse_moment(extra.get("valid_from")), parse_moment(extra.get("valid_until")))

    def state(self, now: float) -> str:
        """'live', 'expired' (past valid_until) or 'pending' (before valid_from)."""
        if self.end is not None and now > self.end:
            return "expired"
        if self.start is not None and now < self.start:
            return "pending"
        return "live"


def window_of_json(memory_json: Mapping[str, Any] | None) -> Window:
    """The window of an indexed memory (its `memory_json` column, already decoded)."""
    if not memory_json:
        return Window()
    extra = memory_json.get("extra")
    return Window.of(extra if isinstance(extra, Mapping) else None)


def chain(memories: Iterable[Memory], memory_id: str) -> list[Memory]:
    """Every version linked to `memory_id` through `supersedes`, oldest first."""
    by_id = {m.id: m for m in memories}
    if memory_id not in by_id:
        return []
    newer: dict[str, list[str]] = {}
    for m in by_id.values():
        if m.supersedes:
            newer.setdefault(m.supersedes, []).append(m.id)
    seen: set[str] = set()
    todo = [memory_id]
    while todo:
        current = todo.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        older = by_id[current].supersedes
        if older:
            todo.append(older)
        todo.extend(newer.get(current, []))
    return sorted((by_id[i] for i in seen), key=lambda m: (m.created, m.id))


def live_end(memories: Iterable[Memory], memory_id: str) -> Memory | None:
    """The version of `memory_id`'s chain in force now (the newest active one), if any."""
    versions = chain(memories, memory_id)
    active = [m for m in versions if m.active]
    return active[-1] if active else None
