"""Staleness: after an index run, flag the memories whose code moved on.

A memory's anchors are checked against the index and the disk:

- **recorded anchors** (front-matter `anchors:`, each with a fingerprint): the file or symbol is
  gone (deleted), its file was renamed (git rename detection since the commit the memory was
  recorded at, or a file with the same name and content elsewhere), the symbol moved to another
  file or was renamed in place (same fingerprint under another name), or its code was rewritten
  beyond a threshold (the fingerprints' estimated changed fraction);
- **paths named in the text** of any memory (hand-written ones too): flagged only when git says
  the path was deleted or renamed after the memory was written, so a path that never existed in
  this repo (another service's file, an example) is never called stale;
- **scope globs**, and directory globs in the text: flagged when they match no file any more.

The verdicts go to the index's `memory_flags` table (never into the user's files): the brief
ranks flagged memories down and labels them, `kenning review` walks through them. Anchor keys a
user told review to ignore (`anchors_ignored:`) are skipped. Planning (`judge`) is pure over a
`CodeState` snapshot; `refresh` loads the snapshot, asks git, and writes the flags.
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from kenning.hygiene import git
from kenning.hygiene.anchors import (
    Anchor,
    Code,
    changed_fraction,
    find_refs,
    fingerprint,
    fingerprint_of,
    ignored_anchors,
    read_anchors,
    similarity,
    span_text,
)
from kenning.memory import Memory

# A symbol rewritten by more than this (estimated changed fraction of its token 3-shingles) is
# stale; a whole-file anchor tolerates more, since files grow around what a memory says.
SYMBOL_CHANGE = 0.4
FILE_CHANGE = 0.65
# Content this similar under another name or path is the same code, moved or renamed.
SAME_CODE = 0.8


@dataclass(frozen=True)
class AnchorRow:
    """One anchor of one memory, as the index stores it."""

    memory_id: str
    path: str
    symbol: str | None
    fp: str | None
    origin: str  # recorded | text | scope | glob
    base: str | None = None  # the commit the memory was recorded at, when known
    created: float | None = None

    @property
    def key(self) -> str:
        return f"{self.path}::{self.symbol}" if self.symbol else self.path


@dataclass(frozen=True)
class Finding:
    """Why one memory looks stale: one anchor that no longer holds."""

    memory_id: str
    anchor: str
    cause: str  # deleted | renamed | moved | changed | scope | glob
    reason: str
    target: str | None = None
    change: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"anchor": self.anchor, "cause": self.cause, "reason": self.reason}
        if self.target:
            data["target"] = self.target
        if self.change is not None:
            data["change"] = round(self.change, 3)
        return data


# ---- writing anchors at index time ---------------------------------------------------------


def anchor_rows(memory: Memory) -> list[AnchorRow]:
    """The anchors the index keeps for `memory`: recorded ones, paths and globs of its text, scope."""
    if memory.kind in ("person", "preference") and not memory.extra.get("anchors"):
        return []
    provenance = memory.extra.get("provenance")
    base = provenance.get("commit") if isinstance(provenance, dict) else None
    created = memory.created.timestamp()
    ignored = ignored_anchors(memory.extra)
    rows: dict[tuple[str, str | None, str], AnchorRow] = {}
    for anchor in read_anchors(memory.extra):
        if anchor.key not in ignored and anchor.path not in ignored:
            rows[(anchor.path, anchor.symbol, "recorded")] = AnchorRow(
                memory.id, anchor.path, anchor.symbol, anchor.fp, "recorded", base, created
            )
    recorded = {(r.path, r.symbol) for r in rows.values()}
    refs = find_refs(f"{memory.title}\n{memory.body}")
    for path, _ in refs.paths:
        if (path, None) not in recorded and path not in ignored:
            rows.setdefault(
                (path, None, "text"), AnchorRow(memory.id, path, None, None, "text", base, created)
            )
    for glob in refs.globs:
        if "/" in glob.strip("/") and glob not in ignored:
            rows.setdefault(
                (glob, None, "glob"), AnchorRow(memory.id, glob, None, None, "glob", base, created)
            )
    for glob in memory.scope:
        if glob not in ignored:
            rows.setdefault(
                (glob, None, "scope"),
                AnchorRow(memory.id, glob, None, None, "scope", base, created),
            )
    return list(rows.values())


def write_anchors(
    db: sqlite3.Connection, doc_id: int, memory: Memory, rows: Sequence[AnchorRow] | None = None
) -> None:
    """Store `memory`'s anchors and its anchor graph edges (call inside the index transaction).
    `rows`: its `anchor_rows`, when already read (by an index run's worker)."""
    if not memory.active:
        return
    rows = anchor_rows(memory) if rows is None else rows
    db.executemany(
        "INSERT INTO anchors (memory_id, doc_id, path, symbol, fp, origin, base, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.memory_id, doc_id, r.path, r.symbol, r.fp, r.origin, r.base, r.created) for r in rows],
    )
    node = f"mem:{memory.id}"
    db.executemany(
        "INSERT INTO edges (src, dst, kind, weight, doc_id) VALUES (?, ?, 'anchor', 1.0, ?)",
        [(node, Anchor(r.path, r.symbol).node, doc_id) for r in rows if r.origin == "recorded"],
    )


# ---- judging ---------------------------------------------------------------------------------


class CodeState(Protocol):
    """What the code looks like now, as much as judging anchors needs."""

    def resolve(self, path: str, exact: bool = False) -> str | None:
        """The indexed file `path` names: exactly, or (unless `exact`) the one path ending so."""
        ...

    def symbols_in(self, path: str) -> set[str]:
        """Qualified names defined in `path`."""
        ...

    def paths_defining(self, qualname: str) -> list[str]:
        """Files that define `qualname`."""
        ...

    def files_named(self, name: str) -> list[str]:
        """Indexed files with this file name, in any folder."""
        ...

    def fp_now(self, path: str, symbol: str | None) -> str | None:
        """The fingerprint of the file or symbol as it is now."""
        ...

    def symbol_fps(self, path: str) -> dict[str, str]:
        """The fingerprint of every definition in `path`."""
        ...

    def moves(self, row: AnchorRow) -> git.Move | None:
        """What git says happened to a path since the memory was recorded."""
        ...

    def glob_matches(self, glob: str) -> bool:
        """True when some file matches `glob`."""
        ...


def judge(
    row: AnchorRow,
    code: CodeState,
    *,
    symbol_change: float = SYMBOL_CHANGE,
    file_change: float = FILE_CHANGE,
) -> Finding | None:
    """The finding for one anchor, or None when it still holds (or cannot be judged)."""
    if row.origin in ("scope", "glob"):
        if code.glob_matches(row.path):
            return None
        what = "scope" if row.origin == "scope" else "path"
        return Finding(
            row.memory_id, row.path, row.origin, f"{what} `{row.path}` matches no file any more"
        )
    # A recorded anchor is a full path taken from the code: it holds only where it was. A path
    # written in prose may be partial ("money.py", "billing/money.py").
    path = code.resolve(row.path, exact=row.origin == "recorded")
    if row.origin == "text":
        if path is not None:
            return None
        move = code.moves(row)
        if move is None:
            return None  # never known to exist here: not ours to judge
        return _moved_file(row, move, code)
    if path is None:
        move = code.moves(row) or _same_content_elsewhere(row, code)
        if move is None:
            move = git.Move(row.path, None)
        return _moved_file(row, move, code)
    if row.symbol is None:
        return _changed(row, path, code.fp_now(path, None), file_change)
    if row.symbol in code.symbols_in(path):
        return _changed(row, path, code.fp_now(path, row.symbol), symbol_change)
    return _missing_symbol(row, path, code)


def _moved_file(row: AnchorRow, move: git.Move, code: CodeState) -> Finding:
    if move.new is None:
        if row.symbol:
            elsewhere = _symbol_elsewhere(row, code, exclude=row.path)
            if elsewhere is not None:
                return elsewhere
        return Finding(row.memory_id, row.key, "deleted", f"`{row.path}` was deleted")
    if row.symbol and row.symbol not in code.symbols_in(move.new):
        elsewhere = _symbol_elsewhere(row, code, exclude=row.path)
        if elsewhere is not None:
            return elsewhere
        return Finding(
            row.memory_id,
            row.key,
            "deleted",
            f"`{row.path}` became `{move.new}`, which has no `{row.symbol}`",
        )
    target = f"{move.new}::{row.symbol}" if row.symbol else move.new
    return Finding(
        row.memory_id, row.key, "renamed", f"`{row.path}` was renamed to `{move.new}`", target
    )


def _changed(row: AnchorRow, path: str, now: str | None, threshold: float) -> Finding | None:
    if row.fp is None or now is None or now == row.fp:
        return None
    change = changed_fraction(row.fp, now)
    if change < threshold:
        return None
    what = f"`{row.symbol}` in `{path}`" if row.symbol else f"`{path}`"
    return Finding(
        row.memory_id,
        row.key,
        "changed",
        f"{what} changed since this was recorded (about {change:.0%} rewritten)",
        None,
        change,
    )


def _missing_symbol(row: AnchorRow, path: str, code: CodeState) -> Finding:
    assert row.symbol is not None
    elsewhere = _symbol_elsewhere(row, code, exclude=path)
    if elsewhere is not None:
        return elsewhere
    if row.fp is not None:
        best = max(
            ((similarity(row.fp, fp), q) for q, fp in code.symbol_fps(path).items()),
            default=(0.0, ""),
        )
        if best[0] >= SAME_CODE:
            return Finding(
                row.memory_id,
                row.key,
                "renamed",
                f"`{row.symbol}` in `{path}` was renamed to `{best[1]}`",
                f"{path}::{best[1]}",
            )
    return Finding(
        row.memory_id, row.key, "deleted", f"`{row.symbol}` is no longer defined in `{path}`"
    )


def _symbol_elsewhere(row: AnchorRow, code: CodeState, exclude: str) -> Finding | None:
    assert row.symbol is not None
    others = [p for p in code.paths_defining(row.symbol) if p != exclude]
    if not others:
        return None
    if row.fp is not None and len(others) > 1:
        others.sort(key=lambda p: -similarity(row.fp or "", code.fp_now(p, row.symbol) or ""))
    target = others[0]
    return Finding(
        row.memory_id,
        row.key,
        "moved",
        f"`{row.symbol}` moved from `{row.path}` to `{target}`",
        f"{target}::{row.symbol}",
    )


def _same_content_elsewhere(row: AnchorRow, code: CodeState) -> git.Move | None:
    """A file moved without git (or not yet staged): same name, same content, another folder."""
    if row.symbol is not None or row.fp is None:
        return None
    for candidate in code.files_named(PurePosixPath(row.path).name):
        now = code.fp_now(candidate, None)
        if now is not None and similarity(row.fp, now) >= SAME_CODE:
            return git.Move(row.path, candidate)
    return None


# ---- the pass --------------------------------------------------------------------------------


@dataclass
class StaleStats:
    """What one staleness pass found."""

    anchors: int = 0
    stale_memories: int = 0
    findings: int = 0
    seconds: float = 0.0


def load_rows(db: sqlite3.Connection) -> list[AnchorRow]:
    """Every anchor of every active memory in the index."""
    return [
        AnchorRow(*row)
        for row in db.execute(
            "SELECT memory_id, path, symbol, fp, origin, base, created FROM anchors "
            "ORDER BY memory_id, rowid"
        )
    ]


class _Snapshot:
    """The `CodeState` of an index: queried lazily, files read only for anchors that need it."""

    def __init__(self, db: sqlite3.Connection, root: Path) -> None:
        self.db = db
        self.root = root
        self.code = Code(root, db)
        self.doc_hash: dict[str, str] = dict(
            db.execute("SELECT path, hash FROM documents WHERE source = 'repo'").fetchall()
        )
        self._all_files: list[str] | None = None
        self._joined: _Listing | None = None
        self._symbols: dict[str, set[str]] = {}
        self._globs: dict[str, bool] = {}
        self._loaded: dict[tuple[str, str], tuple[str, str | None]] = {
            (p, s): (h, fp)
            for p, s, h, fp in db.execute("SELECT path, symbol, doc_hash, fp FROM anchor_state")
        }
        self._fresh: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._moves: dict[str, dict[str, git.Move]] = {}
        self._bases: dict[float, str | None] = {}
        self._known_commits: dict[str, bool] = {}
        self.is_repo = git.is_repo(root)

    @property
    def all_files(self) -> list[str]:
        """Indexed and skipped files, sorted (skipped ones still exist: globs may match them)."""
        if self._all_files is None:
            skipped = [p for (p,) in self.db.execute("SELECT path FROM skipped")]
            self._all_files = sorted({*self.doc_hash, *skipped})
        return self._all_files

    def resolve(self, path: str, exact: bool = False) -> str | None:
        if path in self.doc_hash:
            return path
        if exact:
            return None
        tail = "/" + path
        found = [f for f in self.files_named(PurePosixPath(path).name) if f.endswith(tail)]
        return found[0] if len(found) == 1 else None

    def symbols_in(self, path: str) -> set[str]:
        if path not in self._symbols:
            self._symbols[path] = {
                q
                for (q,) in self.db.execute("SELECT qualname FROM symbols WHERE path = ?", (path,))
            }
        return self._symbols[path]

    def paths_defining(self, qualname: str) -> list[str]:
        name = qualname.rsplit(".", 1)[-1]
        return sorted(
            {
                p
                for (p,) in self.db.execute(
                    "SELECT path FROM symbols WHERE name = ? AND qualname = ?", (name, qualname)
                )
            }
        )

    def files_named(self, name: str) -> list[str]:
        if not name:
            return []
        return [p for p in self.doc_hash if p == name or p.endswith("/" + name)]

    def fp_now(self, path: str, symbol: str | None) -> str | None:
        key = (path, symbol or "")
        digest = self.doc_hash.get(path, "")
        if key in self._fresh:
            return self._fresh[key][1]
        cached = self._loaded.get(key)
        if cached is not None and digest and cached[0] == digest:
            self._fresh[key] = cached
            return cached[1]
        fp = fingerprint_of(self.code, Anchor(path, symbol))
        self._fresh[key] = (digest, fp)
        return fp

    def symbol_fps(self, path: str) -> dict[str, str]:
        key = (path, "*")  # every definition of the file, cached like single anchors
        digest = self.doc_hash.get(path, "")
        cached = self._fresh.get(key) or self._loaded.get(key)
        if cached is not None and digest and cached[0] == digest and cached[1]:
            self._fresh[key] = cached
            return dict(json.loads(cached[1]))
        source = self.code.read(path)
        if source is None:
            return {}
        fps = {s.qualname: fingerprint(span_text(source, s)) for s in self.code.spans(path)}
        self._fresh[key] = (digest, json.dumps(fps))
        return fps

    def _base_of(self, row: AnchorRow) -> str | None:
        if row.base:
            if row.base not in self._known_commits:
                self._known_commits[row.base] = git.has_commit(self.root, row.base)
            if self._known_commits[row.base]:
                return row.base
        if row.created is None:
            return None
        if row.created not in self._bases:
            self._bases[row.created] = git.commit_at(
                self.root, datetime.fromtimestamp(row.created, UTC)
            )
        return self._bases[row.created]

    def moves(self, row: AnchorRow) -> git.Move | None:
        if not self.is_repo:
            return None
        base = self._base_of(row)
        if base is None:
            return None
        if base not in self._moves:
            self._moves[base] = _cached_moves(self.root, base)
        table = self._moves[base]
        move = table.get(row.path)
        if move is None and "/" not in row.path:  # a bare file name: a unique path suffix
            found = [m for p, m in table.items() if p.endswith("/" + row.path)]
            move = found[0] if len(found) == 1 else None
        if move is not None and move.new is not None and move.new not in self.doc_hash:
            # Renamed, then deleted or renamed again outside git's view: say what is true now.
            resolved = move.new if (self.root / move.new).exists() else None
            move = git.Move(move.old, resolved, move.similarity)
        return move

    def glob_matches(self, glob: str) -> bool:
        if not self._globs:
            # The answers hold while the set of files does (a warm process re-runs this pass
            # after every one-file change): start from the last run's when it is the same.
            global _GLOB_ANSWERS
            files_key = hash(tuple(self.all_files))
            if _GLOB_ANSWERS[0] != files_key:
                _GLOB_ANSWERS = (files_key, {})
            self._globs = _GLOB_ANSWERS[1]
        if glob not in self._globs:
            self._globs[glob] = _any_match(glob, self.all_files, self._listing())
        return self._globs[glob]

    def _listing(self) -> _Listing:
        if self._joined is None:
            self._joined = _Listing(self.all_files)
        return self._joined

    def save_cache(self) -> None:
        changed = [
            (p, s, h, fp)
            for (p, s), (h, fp) in self._fresh.items()
            if h and self._loaded.get((p, s)) != (h, fp)
        ]
        self.db.executemany(
            "INSERT OR REPLACE INTO anchor_state (path, symbol, doc_hash, fp) VALUES (?, ?, ?, ?)",
            changed,
        )


_MOVES_CACHE: dict[tuple[str, str, str, int], dict[str, git.Move]] = {}


def _cached_moves(root: Path, base: str) -> dict[str, git.Move]:
    """`git.moves_since`, remembered while HEAD and the git index stay as they are.

    A warm process (the MCP server) re-runs the pass after every change; rename detection over
    a large diff is the expensive part and its answer only changes with HEAD or `git add`.
    """
    head = git.head(root) or ""
    index = root / ".git" / "index"
    try:
        stamp = index.stat().st_mtime_ns
    except OSError:
        stamp = 0
    key = (str(root), base, head, stamp)
    if key not in _MOVES_CACHE:
        if len(_MOVES_CACHE) > 64:
            _MOVES_CACHE.clear()
        _MOVES_CACHE[key] = git.moves_since(root, base)
    return _MOVES_CACHE[key]


class _Listing:
    """The sorted paths as one newline-joined text, with where each path starts: a glob's regex
    scans it in C instead of being called once per path (at 10k files and ~600 globs that was
    2.7 million calls, two seconds of every index run)."""

    def __init__(self, paths: list[str]) -> None:
        self.text = "\n".join(paths)
        self.starts: list[int] = []
        offset = 0
        for path in paths:
            self.starts.append(offset)
            offset += len(path) + 1

    def line_at(self, pos: int) -> str:
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return self.text[start : end if end >= 0 else len(self.text)]


_GLOB_REGEXES: dict[str, list[re.Pattern[str]]] = {}
# (fingerprint of the sorted file list, glob -> whether any file matches), see `glob_matches`.
_GLOB_ANSWERS: tuple[int, dict[str, bool]] = (0, {})


def _line_regexes(glob: str) -> list[re.Pattern[str]]:
    """The glob's gitignore regexes, anchored at line starts of a `_Listing`."""
    if glob not in _GLOB_REGEXES:
        from kenning.engine.brief import scope_spec

        if len(_GLOB_REGEXES) > 4096:
            _GLOB_REGEXES.clear()
        _GLOB_REGEXES[glob] = [
            re.compile(pattern.regex.pattern.replace("[^/]", "[^/\n]"), re.MULTILINE)
            for pattern in scope_spec(glob).patterns
            if pattern.include and getattr(pattern, "regex", None) is not None
        ]
    return _GLOB_REGEXES[glob]


def _any_match(glob: str, paths: list[str], listing: _Listing | None = None) -> bool:
    """True when a gitignore-style `glob` matches one of the sorted `paths`."""
    from kenning.engine.brief import scope_matches

    clean = glob.strip().removeprefix("./").lstrip("/")
    if not clean or clean.startswith("!"):
        return False
    literal = re.split(r"[*?\[]", clean, maxsplit=1)[0]
    # A glob with a slash before its end is anchored at the root: only paths under its literal
    # folder can match, and they sit together in the sorted list.
    anchored = "/" in clean.rstrip("/")
    prefix = literal.rsplit("/", 1)[0] + "/" if anchored and "/" in literal else ""
    first = bisect.bisect_left(paths, prefix)
    last = first
    if prefix:
        last = bisect.bisect_left(paths, prefix[:-1] + chr(ord("/") + 1), lo=first)
    else:
        last = len(paths)
    if first >= last:
        return False
    listing = listing or _Listing(paths)
    begin = listing.starts[first]
    end = listing.starts[last] - 1 if last < len(paths) else len(listing.text)
    for regex in _line_regexes(glob.strip().removeprefix("./")):
        # The regex finds candidate lines fast; each is confirmed with the exact matcher.
        for found in regex.finditer(listing.text, begin, end):
            if scope_matches(glob, listing.line_at(found.start())):
                return True
    return False


def refresh(
    db: sqlite3.Connection,
    root: Path,
    *,
    symbol_change: float = SYMBOL_CHANGE,
    file_change: float = FILE_CHANGE,
    now: float | None = None,
) -> StaleStats:
    """Recompute every memory's stale flags from its anchors; returns what was found."""
    started = time.perf_counter()
    stats = StaleStats()
    rows = load_rows(db)
    stats.anchors = len(rows)
    has_code = db.execute("SELECT 1 FROM documents WHERE source = 'repo' LIMIT 1").fetchone()
    findings: list[Finding] = []
    snapshot: _Snapshot | None = None
    if rows and has_code:
        snapshot = _Snapshot(db, root)
        for row in rows:
            finding = judge(row, snapshot, symbol_change=symbol_change, file_change=file_change)
            if finding is not None:
                findings.append(finding)
    write_flags(db, findings, now=now)
    if snapshot is not None:
        with db:
            snapshot.save_cache()
    stats.findings = len(findings)
    stats.stale_memories = len({f.memory_id for f in findings})
    stats.seconds = time.perf_counter() - started
    return stats


def write_flags(
    db: sqlite3.Connection, findings: Iterable[Finding], now: float | None = None
) -> None:
    """Replace the `stale` flags with `findings`, keeping when each was first seen."""
    moment = time.time() if now is None else now
    since = {
        (m, a, c): s
        for m, a, c, s in db.execute(
            "SELECT memory_id, anchor, cause, since FROM memory_flags WHERE flag = 'stale'"
        )
    }
    with db:
        db.execute("DELETE FROM memory_flags WHERE flag = 'stale'")
        db.executemany(
            "INSERT OR REPLACE INTO memory_flags "
            "(memory_id, flag, anchor, cause, reason, target, detail, since) "
            "VALUES (?, 'stale', ?, ?, ?, ?, ?, ?)",
            [
                (
                    f.memory_id,
                    f.anchor,
                    f.cause,
                    f.reason,
                    f.target,
                    json.dumps(f.to_dict()),
                    since.get((f.memory_id, f.anchor, f.cause), moment),
                )
                for f in findings
            ],
        )


def stale_findings(
    db: sqlite3.Connection, memory_ids: Sequence[str] | None = None
) -> dict[str, list[Finding]]:
    """The stale findings per memory id (all memories, or only `memory_ids`)."""
    sql = "SELECT memory_id, detail FROM memory_flags WHERE flag = 'stale'"
    params: tuple[str, ...] = ()
    if memory_ids is not None:
        if not memory_ids:
            return {}
        sql += f" AND memory_id IN ({','.join('?' * len(memory_ids))})"
        params = tuple(memory_ids)
    out: dict[str, list[Finding]] = defaultdict(list)
    for memory_id, detail in db.execute(sql + " ORDER BY memory_id, since", params):
        data = json.loads(detail)
        out[memory_id].append(
            Finding(
                memory_id,
                data["anchor"],
                data["cause"],
                data["reason"],
                data.get("target"),
                data.get("change"),
            )
        )
    return dict(out)
