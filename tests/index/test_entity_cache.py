"""The entity names a brief links against are read from the index, and never stale."""

from __future__ import annotations

from pathlib import Path

from kenning.workspace import Workspace


def _linked(ws: Workspace, request: str) -> set[str]:
    return {m.node for m in ws.engine.link(request)}


def test_an_alias_edit_is_seen_by_the_next_brief(tiny: Path) -> None:
    ws = Workspace.open(tiny)
    ws.index(embed=False)
    person = ws.remember("Dana Reyes approves payment changes.", "person", aliases=["the client"])
    node = f"mem:{person.id}"
    assert node in _linked(ws, "ask the client about refunds")
    # The same number of entity rows, rewritten in place: the remembered lookups must go.
    ws.update(person.id, aliases=["the customer"])
    assert node in _linked(ws, "ask the customer about refunds")
    assert node not in _linked(ws, "ask the client about refunds")
    # Another process's write is seen too (the version lives in the index, not in memory).
    other = Workspace.open(tiny)
    other.remember("Sam Ortiz runs the on-call rota.", "person", aliases=["the pager"])
    assert any(n.startswith("mem:") for n in _linked(ws, "page the pager"))
