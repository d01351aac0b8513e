"""Which memories point at code that is no longer there, and why we think so.

A memory is flagged stale when one of these no longer resolves against the index (and the disk):

- a `scope` glob (rules, decisions) that matches no indexed file;
- a file path in its title, text or `files`/`paths`/`anchors` front-matter (`src/auth/session.py`,
  `money.py`, `tidewater/money.py:42`), matched exactly or as a path suffix of an indexed file;
- a symbol written as a call, alone in backticks (`` `send_email()` ``, `` `Mailer.send(to)` ``),
  whose name no parsed symbol has.

The checks are deliberately conservative: URLs are ignored, bare words are never treated as
symbols, Python builtins are skipped, and symbol checks run only when the index parsed some code.
Issue 11 (code-anchored memories) will record anchors at write time; when that lands, its
verdict should replace this heuristic.
"""

from __future__ import annotations

import builtins
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kenning.engine.brief import scope_matches
from kenning.memory import Memory

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_CODE_EXT = (
    "py|pyi|ts|tsx|js|jsx|mjs|cjs|go|rs|java|kt|rb|php|cs|c|h|cc|cpp|hpp|swift|scala|sql|sh|"
    "toml|yaml|yml|json|md|mdc|ini|cfg|html|css|scss|vue|svelte|proto|tf"
)
_PATH = re.compile(
    r"(?<![\w/.@-])"
    r"((?:\.{0,2}[\w-][\w.-]*/)+[\w.-]*\.[A-Za-z][A-Za-z0-9]{0,5}"  # with folders, any extension
    rf"|[\w-][\w.-]*\.(?:{_CODE_EXT}))"  # a bare file name, code extensions only
    r"(?::\d+(?:-\d+)?)?(?![\w/])"
)
# The whole backticked span is one call: `send(to)` yes, `fix(api): subject` (a commit type) no.
_CALL = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\([^`()]*\)`")
# Placeholders in examples (`NNNN_name.sql`, `<module>.py`, globs) are not references.
_PLACEHOLDER = re.compile(r"([A-Z])\1{2,}|[<>*?\[\]{}]")
_SKIP_CALLS = frozenset(dir(builtins)) | {"super", "self", "cls"}
_ANCHOR_FIELDS = ("files", "paths", "anchors")


@dataclass(frozen=True)
class CodeIndex:
    """What code the index knows: file paths (and every path suffix), symbol names."""

    root: Path
    files: frozenset[str]
    suffixes: frozenset[str]
    symbols: frozenset[str]

    @classmethod
    def load(cls, db: sqlite3.Connection, root: Path) -> CodeIndex:
        files = [p for (p,) in db.execute("SELECT path FROM documents WHERE source = 'repo'")]
        files += [p for (p,) in db.execute("SELECT path FROM skipped")]
        suffixes: set[str] = set()
        for path in files:
            parts = path.split("/")
            suffixes.update("/".join(parts[i:]) for i in range(len(parts)))
        symbols: set[str] = set()
        for name, qualname in db.execute("SELECT name, qualname FROM symbols"):
            symbols.add(name)
            symbols.add(qualname.rsplit(".", 1)[-1])
        return cls(root, frozenset(files), frozenset(suffixes), frozenset(symbols))

    def has_path(self, ref: str) -> bool:
        ref = ref.strip().removeprefix("./")
        if ref in self.suffixes:
            return True
        # A path the index does not hold may still be on disk (ignored, generated, a folder).
        try:
            return (self.root / ref).exists()
        except (OSError, ValueError):
            return False


def path_refs(text: str) -> list[str]:
    """File paths named in `text` (line suffixes dropped), in order, without repeats."""
    text = _URL.sub(" ", text)
    found: dict[str, None] = {}
    for match in _PATH.finditer(text):
        ref = match.group(1).rstrip(".")
        if ref.startswith("../") or "@" in ref or _PLACEHOLDER.search(ref):
            continue
        found[ref] = None
    return list(found)


def call_refs(text: str) -> list[str]:
    """Names of symbols written as calls in backticks (`` `name(` ``), last dotted part only."""
    found: dict[str, None] = {}
    for match in _CALL.finditer(text):
        name = match.group(1).rsplit(".", 1)[-1]
        if name not in _SKIP_CALLS:
            found[name] = None
    return list(found)


def _anchors(memory: Memory) -> Iterable[str]:
    for name in _ANCHOR_FIELDS:
        value = memory.extra.get(name)
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (str(v) for v in value)


def stale_reasons(memory: Memory, code: CodeIndex) -> list[str]:
    """Why `memory` looks stale: one line per reference that no longer resolves (empty: fine)."""
    if not code.files:
        return []  # nothing indexed: nothing to judge against
    reasons = [
        f"scope `{glob}` matches no file in the project"
        for glob in memory.scope
        if not any(scope_matches(glob, path) for path in code.files)
    ]
    text = f"{memory.title}\n{memory.body}"
    # Anchors are `path`, `path::Symbol`, `path:LINE` or `path#fingerprint` (kenning.hygiene).
    anchored = (a.split("#")[0].split("::")[0].split(":")[0] for a in _anchors(memory))
    refs = list(dict.fromkeys([*anchored, *path_refs(text)]))
    reasons += [f"`{ref}` no longer exists" for ref in refs if not code.has_path(ref)]
    if code.symbols:
        reasons += [
            f"no symbol named `{name}` in the code"
            for name in call_refs(text)
            if name not in code.symbols
        ]
    return reasons
