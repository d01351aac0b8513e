"""Named code leads the packet only when the request writes it as code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning.engine.pack import PacketItem
from kenning.workspace import Workspace

FILES = {
    "shop/__init__.py": "",
    "shop/invoices.py": '''"""Invoices: totals, tax lines and the printed invoice."""


def invoice_total(lines: list[int]) -> int:
    """The invoice total in cents: the sum of its lines plus tax."""
    return sum(lines)


def print_invoice(lines: list[int]) -> str:
    """The printed invoice: each line, then the invoice total."""
    return "\\n".join(str(n) for n in lines) + f"\\ntotal {invoice_total(lines)}"
''',
    "shop/codes.py": '''"""Status codes."""


class HTTP:
    """The HTTP status codes the shop answers with."""

    OK = 200
''',
    "shop/text.py": '''"""Small text helpers."""


def one_line(text: str) -> str:
    """Collapse whitespace so a text fits a single row."""
    return " ".join(text.split())
''',
}


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "shop"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    ws = Workspace.open(root)
    ws.index(embed=False)
    yield ws
    ws.close()


def code_items(ws: Workspace, request: str) -> list[PacketItem]:
    packet = ws.brief(request, budget=2000, use_dense=False)
    return [i for i in packet.items if i.kind in ("file", "symbol")]


def test_plain_words_that_spell_a_symbol_do_not_promote_it(shop: Workspace) -> None:
    # "one line" spells `one_line`; only `print_invoice` is written as code.
    items = code_items(shop, "print_invoice should show the tax on one line")
    assert items[0].ref.startswith("shop/invoices.py:") and "names `print_invoice`" in items[0].why
    helper = next(i for i in items if i.ref.startswith("shop/text.py:"))
    assert "the request names `" not in helper.why
    assert helper.score < 1.0 <= items[0].score


def test_a_symbol_written_as_code_is_promoted(shop: Workspace) -> None:
    items = code_items(shop, "print the invoice total with `one_line`")
    assert items[0].ref.startswith("shop/text.py:")
    assert "the request names `one_line`" in items[0].why


def test_an_acronym_in_capitals_is_prose_unless_quoted(shop: Workspace) -> None:
    # `class HTTP` exists, but "HTTP" in a sentence is the protocol, not the class.
    items = code_items(shop, "print_invoice should send the invoice total over HTTP")
    assert items[0].ref.startswith("shop/invoices.py:")
    assert all("the request names `HTTP`" not in i.why for i in items)
    quoted = code_items(shop, "add a 402 code to `HTTP`")
    assert quoted[0].ref.startswith("shop/codes.py:") and "names `HTTP`" in quoted[0].why
