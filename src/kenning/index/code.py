"""Code files through tree-sitter: one chunk per definition, a symbol table, import targets.

Functions up to `MAX_DEF_LINES` and classes up to `MAX_CLASS_LINES` become one chunk; larger
ones with nested definitions become a header chunk (signature, docstring, fields) plus one chunk
per member, so a packet can hold the one method a request is about. Lines
outside every definition (imports, constants, module docstring) become 'file' chunks. Imports are
read with small regular expressions per language: they only need the target names, and a regex
does not break on a syntax error in the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from typing import Any

from kenning.index.chunk import Chunk, ParsedFile, chunk_windows

MAX_DEF_LINES = 150
MAX_CLASS_LINES = 60
CONTAINERS = frozenset({"class", "impl", "trait", "interface", "module"})

# Node types that define a named thing, per grammar, with the symbol kind they get.
DEFINITIONS: dict[str, dict[str, str]] = {
    "python": {"function_definition": "function", "class_definition": "class"},
    "javascript": {
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "class_declaration": "class",
        "method_definition": "method",
    },
    "typescript": {
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "class_declaration": "class",
        "abstract_class_declaration": "class",
        "method_definition": "method",
        "interface_declaration": "interface",
        "type_alias_declaration": "type",
        "enum_declaration": "enum",
    },
    "go": {"function_declaration": "function", "method_declaration": "method", "type_spec": "type"},
    "rust": {
        "function_item": "function",
        "struct_item": "struct",
        "enum_item": "enum",
        "trait_item": "trait",
        "impl_item": "impl",
        "mod_item": "module",
    },
    "java": {
        "class_declaration": "class",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "record_declaration": "class",
        "method_declaration": "method",
        "constructor_declaration": "method",
    },
}
DEFINITIONS["tsx"] = DEFINITIONS["typescript"]
# Arrow functions bound to a name: `const send = async () => {}`.
ARROW_HOLDERS = frozenset({"lexical_declaration", "variable_declaration"})
WRAPPERS = frozenset({"decorated_definition", "export_statement"})


@cache
def _parser(language: str) -> Any:
    from tree_sitter import Language, Parser

    if language == "python":
        import tree_sitter_python as grammar

        lang = Language(grammar.language())
    elif language == "javascript":
        import tree_sitter_javascript as grammar_js

        lang = Language(grammar_js.language())
    elif language in ("typescript", "tsx"):
        import tree_sitter_typescript as grammar_ts

        raw = grammar_ts.language_tsx() if language == "tsx" else grammar_ts.language_typescript()
        lang = Language(raw)
    elif language == "go":
        import tree_sitter_go as grammar_go

        lang = Language(grammar_go.language())
    elif language == "rust":
        import tree_sitter_rust as grammar_rs

        lang = Language(grammar_rs.language())
    elif language == "java":
        import tree_sitter_java as grammar_java

        lang = Language(grammar_java.language())
    else:  # pragma: no cover - guarded by DEFINITIONS
        raise ValueError(language)
    return Parser(lang)


def _name_of(node: Any, source: bytes) -> str | None:
    field = node.child_by_field_name("name")
    if field is None and node.type == "impl_item":
        field = node.child_by_field_name("type")
    if field is None:
        return None
    return source[field.start_byte : field.end_byte].decode("utf-8", "replace")


def _arrow_name(node: Any, source: bytes) -> str | None:
    for child in node.named_children:
        if child.type == "variable_declarator":
            value = child.child_by_field_name("value")
            if value is not None and value.type in (
                "arrow_function",
                "function_expression",
                "function",
            ):
                return _name_of(child, source)
    return None


def parse_code(path: str, text: str, language: str) -> ParsedFile | None:
    """Parse a code file; None when the language has no grammar here (caller uses windows)."""
    if language not in DEFINITIONS:
        imports = extract_imports(text, language)
        return ParsedFile(language, chunk_windows(path, text), imports) if imports else None
    source = text.encode("utf-8", "surrogatepass")
    tree = _parser(language).parse(source)
    lines = text.splitlines()
    kinds = DEFINITIONS[language]
    out = ParsedFile(language, imports=extract_imports(text, language))
    covered = [False] * (len(lines) + 1)

    def visit(node: Any, parents: list[str], emit: bool = True) -> None:
        for child in node.named_children:
            target = child
            outer = child
            while target.type in WRAPPERS:
                inner = [
                    c
                    for c in target.named_children
                    if c.type in kinds or c.type in WRAPPERS or c.type in ARROW_HOLDERS
                ]
                if not inner:
                    break
                target = inner[-1]
            kind = kinds.get(target.type)
            name = _name_of(target, source) if kind else None
            if kind is None and target.type in ARROW_HOLDERS:
                name = _arrow_name(target, source)
                kind = "function" if name else None
            if kind is None or not name:
                if child.type in (
                    "type_declaration",
                    "class_body",
                    "declaration_list",
                    "block",
                    "impl_item",
                    "body",
                    "interface_body",
                    "enum_body",
                ):
                    visit(child, parents, emit)
                continue
            qual = ".".join([*parents, name])
            start, end = outer.start_point[0] + 1, outer.end_point[0] + 1
            symbol_kind = "method" if parents and kind == "function" else kind
            symbol = Chunk("symbol", f"{path}::{qual}", start, end, "", qual, symbol_kind)
            out.symbols.append(symbol)
            body = target.child_by_field_name("body")
            if not emit:  # inside a definition already chunked whole: symbols only
                if body is not None:
                    visit(body, [*parents, name], emit=False)
                continue
            limit = MAX_CLASS_LINES if kind in CONTAINERS else MAX_DEF_LINES
            if end - start + 1 <= limit or body is None:
                out.chunks.append(replace(symbol, text="\n".join(lines[start - 1 : end])))
                _mark(covered, start, end)
                if body is not None and kind in ("class", "impl", "trait", "interface", "module"):
                    visit(body, [*parents, name], emit=False)
                continue
            before = len(out.symbols)
            visit(body, [*parents, name])
            members = out.symbols[before:]
            if not members:
                out.chunks.extend(_split(replace(symbol, text="\n".join(lines[start - 1 : end]))))
                _mark(covered, start, end)
                continue
            first_member = min(m.start_line for m in members)
            header_end = max(start, first_member - 1)
            out.chunks.append(
                Chunk(
                    "symbol",
                    f"{path}::{qual}",
                    start,
                    header_end,
                    "\n".join(lines[start - 1 : header_end]),
                    qual,
                    symbol_kind,
                )
            )
            _mark(covered, start, header_end)

    visit(tree.root_node, [])
    out.chunks.extend(_uncovered(path, lines, covered))
    out.chunks.sort(key=lambda c: c.start_line)
    return out


def _mark(covered: list[bool], start: int, end: int) -> None:
    stop = min(end, len(covered) - 1) + 1
    if stop > start:
        covered[start:stop] = [True] * (stop - start)


def _split(chunk: Chunk) -> list[Chunk]:
    parts = chunk_windows(chunk.title, chunk.text, "symbol")
    return [
        Chunk(
            "symbol",
            chunk.title,
            chunk.start_line + p.start_line - 1,
            chunk.start_line + p.end_line - 1,
            p.text,
            chunk.symbol,
            chunk.symbol_kind,
        )
        for p in parts
    ]


def _uncovered(path: str, lines: list[str], covered: list[bool]) -> list[Chunk]:
    """Module-level code between definitions, grouped into runs of at most 60 lines (blank
    lines trimmed from each end; a run of blank lines is no chunk)."""
    chunks: list[Chunk] = []
    last = len(lines)
    i = 1
    while i <= last:
        if covered[i]:
            i += 1
            continue
        start = i
        while i <= last and not covered[i]:
            i += 1
        for first in range(start, i, 60):
            end = min(first + 59, i - 1)
            while first <= end and not lines[first - 1].strip():
                first += 1
            while end >= first and not lines[end - 1].strip():
                end -= 1
            if first <= end:
                chunks.append(Chunk("file", path, first, end, "\n".join(lines[first - 1 : end])))
    return chunks


_PY_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)|import[ \t]+([^\n#]+))",
    re.MULTILINE,
)
_JS_IMPORT = re.compile(
    r"""(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]"""
    r"""|(?:^|[;\s])import\s*['"]([^'"]+)['"]"""
    r"""|\brequire\(\s*['"]([^'"]+)['"]\s*\)"""
    r"""|\bimport\(\s*['"]([^'"]+)['"]\s*\)""",
    re.MULTILINE,
)
_GO_IMPORT = re.compile(r'^\s*(?:import\s+)?(?:\w+\s+)?"([\w./-]+)"\s*$', re.MULTILINE)
_RUST_USE = re.compile(r"^\s*(?:pub\s+)?use\s+((?:crate|super|self)::[\w:]+)", re.MULTILINE)
_JAVA_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)\s*;", re.MULTILINE)


def extract_imports(text: str, language: str) -> list[str]:
    """Import targets as written: dotted modules (Python, Java), specifiers (JS/TS), paths (Go)."""
    found: list[str] = []
    if language == "python":
        for match in _PY_IMPORT.finditer(text):
            base, names, plain = match.groups()
            if plain is not None:
                found += [p.split(" as ")[0].strip() for p in plain.split(",") if p.strip()]
            elif base is not None:
                clean = names.strip("() \t\n")
                members = [n.split(" as ")[0].strip() for n in clean.split(",") if n.strip()]
                # `from pkg import mod` may import a module: keep both spellings.
                found.append(base)
                sep = "" if base.endswith(".") else "."
                found += [f"{base}{sep}{m}" for m in members if m and m != "*"]
    elif language in ("javascript", "typescript", "tsx"):
        for match in _JS_IMPORT.finditer(text):
            spec = next(g for g in match.groups() if g)
            found.append(spec)
    elif language == "go":
        found = _GO_IMPORT.findall(text)
    elif language == "rust":
        found = _RUST_USE.findall(text)
    elif language == "java":
        found = _JAVA_IMPORT.findall(text)
    return list(dict.fromkeys(found))
