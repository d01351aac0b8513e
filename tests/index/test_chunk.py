from __future__ import annotations

from kenning.index.chunk import detect_language, parse_file
from kenning.index.code import extract_imports

PY = '''"""Module doc."""
import os
from .retry import backoff

LIMIT = 3


class Sender:
    """Sends things."""

    def send(self, item):
        return backoff(item)


def helper():
    return os.getcwd()
'''


def test_python_is_chunked_by_definition_with_module_code_kept() -> None:
    parsed = parse_file("pkg/send.py", PY)
    spans = [(c.kind, c.symbol, c.start_line, c.end_line) for c in parsed.chunks]
    assert spans == [
        ("file", None, 1, 5),
        ("symbol", "Sender", 8, 12),
        ("symbol", "helper", 15, 16),
    ]
    assert [s.symbol for s in parsed.symbols] == ["Sender", "Sender.send", "helper"]
    assert parsed.imports == ["os", ".retry", ".retry.backoff"]


def test_typescript_arrow_functions_interfaces_and_imports() -> None:
    ts = (
        'import { get } from "./http";\nimport type { X } from "../types";\n'
        "export const listInvoices = async (): Promise<X[]> => get('/invoices');\n"
        "export interface Invoice { id: string }\n"
        "export class Store { load() { return 1 } }\n"
    )
    parsed = parse_file("web/src/api.ts", ts)
    assert [s.symbol for s in parsed.symbols] == ["listInvoices", "Invoice", "Store", "Store.load"]
    assert parsed.imports == ["./http", "../types"]


def test_go_rust_java_definitions_are_found() -> None:
    go = 'package x\n\nimport "example.com/app/ledger"\n\nfunc Post(a int) int { return a }\n\ntype Entry struct{}\n'
    assert [s.symbol for s in parse_file("x.go", go).symbols] == ["Post", "Entry"]
    rs = "use crate::ledger::Entry;\n\npub struct Book {}\n\nimpl Book {\n    pub fn post(&self) {}\n}\n"
    assert [s.symbol for s in parse_file("lib.rs", rs).symbols] == ["Book", "Book", "Book.post"]
    java = "import com.acme.Ledger;\n\nclass Book {\n  void post() {}\n}\n"
    assert [s.symbol for s in parse_file("Book.java", java).symbols] == ["Book", "Book.post"]


def test_markdown_is_chunked_by_heading_with_a_breadcrumb() -> None:
    md = "# Guide\n\nIntro.\n\n## Retries\n\nThree times.\n\n### Backoff\n\nJittered.\n"
    chunks = parse_file("docs/guide.md", md).chunks
    assert [(c.title, c.start_line) for c in chunks] == [
        ("Guide", 1),
        ("Guide › Retries", 5),
        ("Guide › Retries › Backoff", 9),
    ]


def test_syntax_errors_still_give_chunks() -> None:
    parsed = parse_file("broken.py", "def ok():\n    return 1\n\ndef broken(:\n    pass\n")
    assert any(c.symbol == "ok" for c in parsed.chunks)
    assert sum(c.end_line - c.start_line + 1 for c in parsed.chunks) >= 4


def test_unknown_text_falls_back_to_line_windows() -> None:
    text = "\n".join(f"line {i}" for i in range(150))
    chunks = parse_file("notes.cfg", text).chunks
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 150
    assert detect_language("Makefile") == "make" and detect_language("x.unknownext") is None


def test_import_regexes_handle_multiline_and_require() -> None:
    assert extract_imports("from a import (\n  b,\n  c as d,\n)\n", "python") == ["a", "a.b", "a.c"]
    assert extract_imports("const x = require('./x');\nimport('./lazy')", "javascript") == [
        "./x",
        "./lazy",
    ]
