"""`kenning resolve`: settle a conflict that a sync or an import marked.

A marked conflict is two active memories: the one at the original id, whose front-matter lists
`conflict: [<other id>]`, and the other version, with `conflict_of: <id>`. Resolving never
deletes either text:

- `keep="this"`: the memory at the id stays; the other becomes its superseded revision;
- `keep="other"`: the other version's content moves to the id, and the replaced content is
  kept as the superseded revision;
- `keep="both"`: the markers go; both stay active as separate memories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kenning.errors import InvalidMemory
from kenning.memory import Memory, MemoryStore

__all__ = ["Resolution", "open_conflicts", "resolve_conflict"]

Keep = Literal["this", "other", "both"]
_CONTENT = ("kind", "title", "body", "scope", "aliases", "tags", "source", "status")


@dataclass(frozen=True)
class Resolution:
    """The memory left at the id and what happened to the other version."""

    memory: Memory
    other: Memory
    keep: Keep


def _marks(memory: Memory) -> list[str]:
    value = memory.extra.get("conflict")
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def open_conflicts(store: MemoryStore) -> list[tuple[Memory, list[str]]]:
    """Every memory that still carries conflict marks, with the ids of its other versions."""
    return [(m, _marks(m)) for m in store.all() if _marks(m)]


def _without(extra: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if k not in keys}


def resolve_conflict(store: MemoryStore, memory_id: str, keep: Keep = "this") -> Resolution:
    """Resolve the conflict of `memory_id` (either version's id works).

    Raises:
        MemoryNotFound: no such memory.
        InvalidMemory: the memory has no open conflict, or `keep` is not this/other/both.
    """
    if keep not in ("this", "other", "both"):
        raise InvalidMemory(f"keep must be this, other or both, not {keep!r}")
    memory = store.get(memory_id)
    if memory.extra.get("conflict_of"):
        primary, other = store.get(str(memory.extra["conflict_of"])), memory
        if keep != "both":  # "this" and "other" are relative to the id the user named
            keep = "other" if keep == "this" else "this"
    else:
        marks = _marks(memory)
        if not marks:
            raise InvalidMemory(
                f"{memory.id} has no open conflict; `kenning resolve --list` shows the open ones"
            )
        primary, other = memory, store.get(marks[0])
    rest = [m for m in _marks(primary) if m != other.id]
    extra = _without(primary.extra, "conflict") | ({"conflict": rest} if rest else {})
    other_extra = _without(other.extra, "conflict_of")
    if keep == "both":
        kept = store.update(primary.id, extra=extra)
        other = store.update(other.id, extra=other_extra)
        return Resolution(kept, other, keep)
    if keep == "other":
        # Swap: the other version's content takes the id, the replaced text becomes the revision.
        incoming = {name: getattr(other, name) for name in _CONTENT}
        outgoing = {name: getattr(primary, name) for name in _CONTENT if name != "kind"}
        outgoing["status"] = "superseded"
        other = store.update(
            other.id,
            **outgoing,
            supersedes=primary.supersedes,
            extra=other_extra | {"revision_of": primary.id},
        )
        kept = store.update(
            primary.id,
            **{k: v for k, v in incoming.items() if k != "kind"},
            supersedes=other.id,
            extra=extra,
        )
        return Resolution(kept, other, keep)
    other = store.update(
        other.id, status="superseded", extra=other_extra | {"revision_of": primary.id}
    )
    kept = store.update(primary.id, supersedes=other.id, extra=extra)
    return Resolution(kept, other, keep)
