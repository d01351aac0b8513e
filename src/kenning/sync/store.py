"""The store interface that the Markdown store and the team store on PostgreSQL both satisfy.

`kenning.memory.MemoryStore` already has this shape; `kenning.sync.pgstore.PostgresStore` is the
second implementation. Code that only adds, reads, lists, edits and retires memories (the MCP
tools, import) can take a `Store` and work on either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from kenning.memory import Memory, MemoryStore

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    """Add, get, list, edit and retire memories; ids are stable strings."""

    def add(
        self,
        text: str,
        kind: str,
        *,
        title: str | None = None,
        scope: Sequence[str] = (),
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        supersedes: str | None = None,
        source: str = "cli",
        personal: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> Memory:
        """Write a new memory (an identical active one is returned instead of a copy)."""
        ...

    def get(self, memory_id: str) -> Memory:
        """The memory with this id; raises MemoryNotFound."""
        ...

    def all(self, kind: str | None = None, include_inactive: bool = True) -> list[Memory]:
        """Every memory the caller may see, optionally of one kind, optionally active only."""
        ...

    def update(self, memory_id: str, **changes: Any) -> Memory:
        """Change fields of a memory and return the new version."""
        ...

    def retire(self, memory_id: str) -> Memory:
        """Mark a memory retired (it is kept, never deleted)."""
        ...


def _markdown_store_is_a_store(store: MemoryStore) -> Store:
    return store  # mypy checks that MemoryStore satisfies the Protocol
