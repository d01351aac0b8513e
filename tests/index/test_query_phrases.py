"""A snake_case name in a request is searched as itself (an FTS5 phrase), not only as its parts."""

from __future__ import annotations

from pathlib import Path

from kenning.engine.pack import focus_lines
from kenning.engine.retrieve import matched_terms
from kenning.index.terms import query_terms
from kenning.workspace import Workspace


def test_a_snake_case_name_adds_its_pieces_as_one_phrase() -> None:
    terms = query_terms("Use sqlite_master not sqlite_schema; parse_HTTPHeader, v1_2, __init__")
    assert terms[:3] == ["sqlite", "master", "sqlite master"]
    assert "sqlite schema" in terms
    # The phrase is the name as FTS5's tokenizer splits it: at underscores only.
    assert "parse httpheader" in terms and "v1 2" in terms
    assert not any(" " in t and "init" in t for t in terms)  # one piece: no phrase
    assert query_terms("retry the webhook") == ["retry", "webhook"]


def _project(root: Path) -> None:
    # Many chunks say "sqlite" and "schema" apart; one test says `sqlite_schema`.
    for n in range(6):
        (root / f"store_{n}.py").write_text(
            "".join(
                f'def table_{n}_{m}(db):\n    """The schema of SQLite table {m}: its master copy, '
                f'from the sqlite cache of each schema."""\n    return db.schema({m})\n\n\n'
                for m in range(4)
            )
        )
    (root / "test_parser.py").write_text(
        "def test_reads_back(db):\n"
        "    sql = db.execute(\"select sql from sqlite_schema where name = 't'\").fetchone()\n"
        "    assert sql\n"
    )


def test_the_file_that_uses_the_name_ranks_first(tmp_path: Path) -> None:
    _project(tmp_path)
    ws = Workspace.open(tmp_path)
    try:
        ws.index(embed=False)
        hits = ws.search("Use sqlite_master not sqlite_schema for older SQLite", kind="code")
    finally:
        ws.close()
    assert hits and hits[0].path == "test_parser.py"


def test_focus_lands_on_the_line_with_the_name() -> None:
    lines = ["def check(db):"] + [f"    sqlite = schema_{n}(db)" for n in range(40)]
    lines[30] = "    rows = db.execute('select * from sqlite_schema')"
    text, first, last = focus_lines("\n".join(lines), 1, query_terms("sqlite_schema"), 40)
    assert first <= 31 <= last
    assert "sqlite_schema" in text


def test_a_hit_that_holds_the_name_is_said_to_match_the_name_not_its_parts() -> None:
    terms = query_terms("store the VAT amount as a float in compute_invoice_total")
    text = "def compute_invoice_total(invoice): amount = invoice.total"
    assert matched_terms(terms, text) == ["compute_invoice_total", "amount"]
    # Without the name, its parts are what matched.
    assert matched_terms(terms, "the invoice total amount") == ["amount", "invoice", "total"]
