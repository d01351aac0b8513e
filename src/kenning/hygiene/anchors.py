"""Anchors: the files and symbols a memory is about, each with a fingerprint taken when recorded.

An anchor is written in the memory's front-matter as one short string, so people can read and
edit it and `git diff` shows it:

    anchors:
    - app/mailer.py::Mailer.send_email#9c0f…   (a symbol: path, qualified name, fingerprint)
    - app/retry.py#41d2…                       (a whole file)

The fingerprint is a 128-bit SimHash of the code's token 3-shingles. Two fingerprints estimate
how much of the code was rewritten (the angle between the shingle sets), so staleness can tell a
renamed variable from a rewritten function without keeping the old text. Formatting-only edits
(indentation, line wrapping) leave the tokens and so the fingerprint unchanged.

Anchors come from three places, in this order: what the caller names (`--file PATH`,
`PATH::Symbol` or `PATH:LINE`), file paths written in the text, and symbols written like code
(`` `send_email` ``, `Mailer.send_email()`, `snake_case`, `CamelCase` with an inner capital) that
resolve to one definition, first in the files already anchored, then in the whole index. Plain
words are never anchors, and a name defined in several places is left out rather than guessed.
Globs in the text (`src/billing/**`) are not stored: staleness reads them from the text.
"""

from __future__ import annotations

import hashlib
import math
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kenning.index.terms import is_mixed_case

FINGERPRINT_BITS = 128
MAX_FINGERPRINT_BYTES = 400_000
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|[^\s\w]")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
CODE_EXTENSIONS = (
    "py|pyi|ts|tsx|js|jsx|mjs|cjs|go|rs|java|kt|rb|php|cs|c|h|cc|cpp|hpp|swift|scala|sql|sh|"
    "toml|yaml|yml|json|md|mdc|ini|cfg|html|css|scss|vue|svelte|proto|tf|lock|txt|rst"
)
_PATH = re.compile(
    r"(?<![\w/.@*-])"
    r"((?:\.{0,2}[\w-][\w.-]*/)+[\w-][\w.-]*\.[A-Za-z][A-Za-z0-9]{0,5}"  # with folders
    rf"|[\w-][\w.-]*\.(?:{CODE_EXTENSIONS}))"  # a bare file name, known extensions only
    r"(?:(::|:)([A-Za-z_][\w.]*|\d+))?"  # optional ::Symbol or :line
    r"(?![\w/*])"
)
_GLOB = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]*[*?][\w.*?/-]*)(?![\w/])")
_BACKTICKED = re.compile(r"`([A-Za-z_]\w*(?:(?:\.|::)[A-Za-z_]\w*)*)(?:\([^`()]*\))?`")
_CODEISH = re.compile(
    r"(?<![\w./`-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\(\))?(?![\w/`-])",
)
# Placeholders in examples (`NNNN_name.sql`, `<module>.py`) are not references.
_PLACEHOLDER = re.compile(r"([A-Z])\1{2,}|[<>\[\]{}]")
_COMMON_CALLS = frozenset(
    """print len str int float dict list set tuple open range type super self cls isinstance
    getattr setattr hasattr min max sum any all map filter sorted zip enumerate repr format
    main init setup run get set add put post delete update test""".split()
)


# ---- fingerprints ----------------------------------------------------------------------------


def _shingles(text: str) -> set[str]:
    tokens = _TOKEN.findall(text)
    if len(tokens) < 3:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def fingerprint(text: str) -> str:
    """A 128-bit SimHash (32 hex digits) of `text`'s token 3-shingles."""
    shingles = _shingles(text)
    if not shingles:
        return "0" * (FINGERPRINT_BITS // 4)
    digests = b"".join(
        hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        for s in sorted(shingles)
    )
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 16), axis=1)
    # Each bit of the fingerprint is the majority vote of that bit over the shingles' hashes.
    majority = bits.sum(axis=0, dtype=np.int64) * 2 > len(shingles)
    return bytes(np.packbits(majority)).hex()


def similarity(a: str, b: str) -> float:
    """Estimated cosine similarity (0..1) of the shingle sets behind two fingerprints."""
    if a == b:
        return 1.0
    try:
        distance = (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return 0.0
    bits = max(len(a), len(b)) * 4
    return max(0.0, math.cos(math.pi * distance / bits))


def changed_fraction(before: str, after: str) -> float:
    """How much of the code behind `before` was rewritten in `after` (0 = same, 1 = all)."""
    return 1.0 - similarity(before, after)


# ---- the anchor value ------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A file, or a symbol in a file, with its fingerprint when the memory was recorded."""

    path: str
    symbol: str | None = None
    fp: str | None = None

    @property
    def key(self) -> str:
        """`path` or `path::symbol`: the anchor without its fingerprint."""
        return f"{self.path}::{self.symbol}" if self.symbol else self.path

    @property
    def node(self) -> str:
        """The graph node this anchor links to (`file:…` or `sym:…::…`)."""
        return f"sym:{self.path}::{self.symbol}" if self.symbol else f"file:{self.path}"

    def render(self) -> str:
        """The front-matter form: `path[::symbol][#fingerprint]`."""
        return f"{self.key}#{self.fp}" if self.fp else self.key

    @classmethod
    def parse(cls, value: Any) -> Anchor | None:
        """Read one front-matter entry (a string, or a mapping with path/symbol/hash)."""
        if isinstance(value, dict):
            path = str(value.get("path") or value.get("file") or "").strip()
            symbol = value.get("symbol")
            digest = value.get("hash") or value.get("fp")
            if not path:
                return None
            return cls(
                _clean_path(path), str(symbol) if symbol else None, str(digest) if digest else None
            )
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        fp: str | None = None
        head, sep, tail = text.rpartition("#")
        if sep and re.fullmatch(r"[0-9a-f]{8,64}", tail):
            text, fp = head, tail
        path, _, symbol = text.partition("::")
        if not symbol and re.search(r":\d+(-\d+)?$", path):
            path = path.rsplit(":", 1)[0]
        path = _clean_path(path)
        return cls(path, symbol.strip() or None, fp) if path else None


def _clean_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/")


def read_anchors(extra: dict[str, Any]) -> list[Anchor]:
    """The anchors recorded in a memory's front-matter (`anchors:`), unreadable entries skipped."""
    value = extra.get("anchors")
    items = value if isinstance(value, list) else [value] if value else []
    out = [a for a in (Anchor.parse(v) for v in items) if a is not None]
    return list({a.key: a for a in out}.values())


def ignored_anchors(extra: dict[str, Any]) -> set[str]:
    """Anchor keys the user said to stop checking (`anchors_ignored:`, set by `kenning review`)."""
    value = extra.get("anchors_ignored")
    items = value if isinstance(value, list) else [value] if value else []
    return {_clean_path(str(v)) for v in items if str(v).strip()}


# ---- references written in text -----------------------------------------------------------


@dataclass(frozen=True)
class Refs:
    """What a memory's text names: file paths (with an optional symbol or line), globs, symbols."""

    paths: list[tuple[str, str | None]] = field(default_factory=list)
    globs: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)


def find_refs(text: str) -> Refs:
    """File paths, globs and code-like symbol names written in `text`, in order, no repeats."""
    text = _URL.sub(" ", text)
    paths: dict[tuple[str, str | None], None] = {}
    spans: list[tuple[int, int]] = []
    for match in _PATH.finditer(text):
        spans.append(match.span())
        ref = match.group(1).rstrip(".")
        if ref.startswith("../") or "@" in ref or _PLACEHOLDER.search(ref):
            continue
        symbol = match.group(3) if match.group(2) == "::" else None
        paths[(_clean_path(ref), symbol)] = None
    globs: dict[str, None] = {}
    for match in _GLOB.finditer(text):
        glob = match.group(1)
        if "/" in glob or "." in glob.replace("*", ""):
            globs[_clean_path(glob)] = None
            spans.append(match.span())

    def inside(pos: int) -> bool:
        return any(a <= pos < b for a, b in spans)

    symbols: dict[str, None] = {}
    for match in _BACKTICKED.finditer(text):
        if not inside(match.start(1)):
            symbols[match.group(1).replace("::", ".")] = None
    for match in _CODEISH.finditer(text):
        if inside(match.start(1)):
            continue
        name, call = match.group(1), match.group(2)
        last = name.rsplit(".", 1)[-1]
        codeish = (
            call is not None
            or ("_" in last.strip("_") and not last.isupper())
            or is_mixed_case(last)
            or ("." in name and not name.replace(".", "").isdigit() and _dotted_is_code(name))
        )
        if codeish and last not in _COMMON_CALLS:
            symbols[name] = None
    return Refs(list(paths), list(globs), list(symbols))


def _dotted_is_code(name: str) -> bool:
    # "e.g" and "i.e" are prose; `Mailer.send` and `retry.backoff` are code.
    parts = name.split(".")
    return len(parts) >= 2 and all(len(p) > 1 for p in parts)


# ---- the code to resolve against -------------------------------------------------------------


@dataclass(frozen=True)
class SymbolSpan:
    """A definition in a file: qualified name and 1-based inclusive line span."""

    qualname: str
    start: int
    end: int

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


def symbol_spans(path: str, text: str) -> list[SymbolSpan]:
    """The definitions tree-sitter finds in `text` (empty for prose and unknown languages)."""
    from kenning.index.chunk import parse_file

    parsed = parse_file(path, text)
    return [SymbolSpan(s.symbol, s.start_line, s.end_line) for s in parsed.symbols if s.symbol]


def span_text(text: str, span: SymbolSpan) -> str:
    """The lines of `span` in `text`."""
    return "\n".join(text.splitlines()[span.start - 1 : span.end])


class Code:
    """The project's code as anchors see it: the files on disk, and the index when there is one.

    Files are read and parsed from disk (the truth at record time, even when the index lags);
    the index only helps find where a bare file name or a symbol name lives.
    """

    def __init__(self, root: Path, db: sqlite3.Connection | None = None) -> None:
        self.root = root
        self.db = db
        self._texts: dict[str, str | None] = {}
        self._spans: dict[str, list[SymbolSpan]] = {}

    def read(self, path: str) -> str | None:
        if path not in self._texts:
            full = self.root / path
            try:
                raw = full.read_bytes() if full.is_file() else None
            except OSError:
                raw = None
            self._texts[path] = (
                raw.decode("utf-8", errors="replace")
                if raw is not None and b"\x00" not in raw[:8192]
                else None
            )
        return self._texts[path]

    def spans(self, path: str) -> list[SymbolSpan]:
        if path not in self._spans:
            text = self.read(path)
            self._spans[path] = symbol_spans(path, text) if text is not None else []
        return self._spans[path]

    def resolve_path(self, ref: str) -> str | None:
        """The project-relative file `ref` names: exact, else the one indexed file ending so."""
        ref = _clean_path(ref)
        if not ref or ref.startswith("/"):
            return None
        try:
            if (self.root / ref).is_file():
                return ref
        except OSError:  # a name too long for the file system cannot be a file
            return None
        if self.db is None:
            return None
        rows = self.db.execute(
            "SELECT path FROM documents WHERE source = 'repo' AND (path = ? OR path LIKE ?) "
            "LIMIT 3",
            (ref, "%/" + ref.replace("%", r"\%").replace("_", r"\_")),
        ).fetchall()
        # LIKE treats _ as a wildcard even escaped without ESCAPE; confirm the suffix exactly.
        found = [r[0] for r in rows if r[0] == ref or r[0].endswith("/" + ref)]
        return found[0] if len(found) == 1 else None

    def find_symbol(self, name: str, within: Sequence[str] = ()) -> list[tuple[str, SymbolSpan]]:
        """Definitions matching `name` (a qualified name or its tail), in `within` first."""
        found = [
            (path, span)
            for path in within
            for span in self.spans(path)
            if _names_match(span.qualname, name)
        ]
        if found or self.db is None:
            return found
        last = name.rsplit(".", 1)[-1]
        paths = sorted(
            {
                p
                for p, q in self.db.execute(
                    "SELECT path, qualname FROM symbols WHERE name = ? LIMIT 20", (last,)
                )
                if _names_match(q, name)
            }
        )
        return [
            (path, span)
            for path in paths[:4]
            for span in self.spans(path)
            if _names_match(span.qualname, name)
        ]


def _names_match(qualname: str, name: str) -> bool:
    return qualname == name or qualname.endswith("." + name)


def resolve_anchors(
    text: str, code: Code, files: Iterable[str] = (), *, max_anchors: int = 12
) -> list[Anchor]:
    """The anchors of a memory with this text (and the files it was recorded with), fingerprinted.

    Unresolvable references are dropped: an anchor always points at code that exists now.
    """
    anchors: dict[str, Anchor] = {}
    file_paths: list[str] = []

    def add_file(path: str) -> None:
        if path not in file_paths:
            file_paths.append(path)

    def add_symbol(path: str, span: SymbolSpan) -> None:
        source = code.read(path) or ""
        anchor = Anchor(path, span.qualname, fingerprint(span_text(source, span)))
        anchors.setdefault(anchor.key, anchor)

    for value in files:
        anchor = Anchor.parse(value)
        line = re.search(r":(\d+)(?:-\d+)?$", str(value).split("::")[0])
        if anchor is None:
            continue
        path = code.resolve_path(anchor.path)
        if path is None:
            continue
        add_file(path)
        if anchor.symbol:
            for _, span in code.find_symbol(anchor.symbol, [path])[:1]:
                add_symbol(path, span)
        elif line:
            number = int(line.group(1))
            inner = [s for s in code.spans(path) if s.start <= number <= s.end]
            if inner:
                add_symbol(path, min(inner, key=lambda s: s.end - s.start))
    refs = find_refs(text)
    for ref, symbol in refs.paths:
        path = code.resolve_path(ref)
        if path is None:
            continue
        add_file(path)
        if symbol and not symbol.isdigit():
            for _, span in code.find_symbol(symbol, [path])[:1]:
                add_symbol(path, span)
    for name in refs.symbols:
        found = code.find_symbol(name, file_paths)
        targets = {(p, s.qualname) for p, s in found}
        if len(targets) == 1:
            path, span = found[0]
            add_symbol(path, span)
    symbol_files = {a.path for a in anchors.values()}
    for path in file_paths:
        # A file whose symbols are anchored is checked for deletion and renames only; its other
        # parts changing says nothing about the memory.
        source = code.read(path)
        fp = (
            fingerprint(source)
            if source is not None
            and path not in symbol_files
            and len(source) <= MAX_FINGERPRINT_BYTES
            else None
        )
        anchors.setdefault(path, Anchor(path, None, fp))
    ordered = sorted(anchors.values(), key=lambda a: (a.path, a.symbol or ""))
    return ordered[:max_anchors]


def fingerprint_of(code: Code, anchor: Anchor) -> str | None:
    """The anchor's fingerprint against the code as it is now (None: it cannot be found)."""
    source = code.read(anchor.path)
    if source is None:
        return None
    if anchor.symbol is None:
        return fingerprint(source) if len(source) <= MAX_FINGERPRINT_BYTES else None
    spans = [s for s in code.spans(anchor.path) if s.qualname == anchor.symbol]
    return fingerprint(span_text(source, spans[0])) if spans else None
