"""The public API is a deliberate list: adding a name to `__all__` is an API decision."""

from __future__ import annotations

import kenning


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert kenning.__all__ == sorted(kenning.__all__)
    for name in kenning.__all__:
        assert getattr(kenning, name) is not None, name


def test_public_api_is_pinned() -> None:
    assert kenning.__all__ == [
        "Conflict",
        "IndexStats",
        "KINDS",
        "KenningError",
        "Memory",
        "MemoryStore",
        "Packet",
        "PacketItem",
        "Project",
        "Workspace",
        "__version__",
    ]
