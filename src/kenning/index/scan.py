"""Walk a project and decide which files the index reads, and why the others are skipped.

Honours `.gitignore` files at every level, `.kenningignore`, and the project's `index.exclude`
globs; never follows symlinked folders (no loops) and skips symlinks that point outside the
project or nowhere. Skips binary, huge and generated files and counts each reason, so `index`
and `doctor` can say what was left out.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from kenning.secrets import is_secret_file

ALWAYS_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".kenning",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".idea",
        ".gradle",
        "dist",
        "build",
        "target",
        ".next",
        ".nuxt",
        "coverage",
        "htmlcov",
        ".eggs",
        "site-packages",
        "bower_components",
        ".terraform",
        ".cache",
    }
)
GENERATED_NAMES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "uv.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
        "Pipfile.lock",
    }
)
GENERATED_SUFFIXES = (".min.js", ".min.css", ".map", ".pb.go", "_pb2.py", ".snap")
BINARY_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".webp",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".tar",
        ".jar",
        ".war",
        ".class",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".o",
        ".a",
        ".pyc",
        ".pyo",
        ".whl",
        ".onnx",
        ".gguf",
        ".bin",
        ".pt",
        ".safetensors",
        ".sqlite",
        ".sqlite3",
        ".db",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".wav",
        ".mov",
        ".avi",
        ".parquet",
        ".npy",
        ".npz",
        ".pkl",
        ".psd",
        ".svgz",
    }
)
DEFAULT_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class FileEntry:
    """One file the index may read: its project-relative path (POSIX) and stat."""

    path: str
    size: int
    mtime: float


@dataclass
class ScanResult:
    files: list[FileEntry] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_paths: dict[str, str] = field(default_factory=dict)

    def skip(self, path: str, reason: str) -> None:
        self.skipped[reason] += 1
        if len(self.skipped_paths) < 5000:
            self.skipped_paths[path] = reason


# The files whose patterns say what a scan leaves out, in the order they are read.
IGNORE_FILES = (".gitignore", ".kenningignore")


def _load_spec(folder: Path, names: Sequence[str]) -> pathspec.PathSpec[Any] | None:
    lines: list[str] = []
    for name in names:
        ignore = folder / name
        if ignore.is_file():
            try:
                lines += ignore.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
    if not lines:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def is_binary_prefix(head: bytes) -> bool:
    """True when the first bytes of a file look binary (a NUL, or mostly non-text)."""
    if b"\x00" in head:
        return True
    if not head:
        return False
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start >= len(head) - 4:
            return False
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > 0.1


def scan(
    root: Path,
    *,
    exclude: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ScanResult:
    """List the indexable files under `root` and count what was skipped and why."""
    result = ScanResult()
    extra = pathspec.GitIgnoreSpec.from_lines(list(exclude)) if exclude else None
    root = root.resolve()
    # Each entry: (folder, the same relative to root, specs applying to paths under it).
    stack: list[tuple[str, str, list[tuple[str, pathspec.PathSpec[Any]]]]] = [(str(root), "", [])]
    while stack:
        folder, rel_folder, specs = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            result.skip(rel_folder or ".", "unreadable folder")
            continue
        # Ignore files are read only where the listing shows one (a stat of two names in each
        # of 2,800 folders was a tenth of a no-op run at 10k files).
        present = [e.name for e in entries if e.name in IGNORE_FILES]
        own = _load_spec(Path(folder), present) if present else None
        active = specs + [(rel_folder, own)] if own else specs
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            if not _utf8(entry.name):
                # Trigger: a name that is not UTF-8 (os gives it back with surrogate escapes).
                # Why: SQLite and the packets store paths as UTF-8 text; such a path cannot be.
                # Outcome: skipped and counted under a shown (lossy) name, folder and all.
                result.skip(_shown(rel), "file name not UTF-8")
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                result.skip(rel, "unreadable")
                continue
            if is_dir:
                if entry.name in ALWAYS_SKIP_DIRS or _ignored(rel + "/", active, extra):
                    continue
                stack.append((entry.path, rel, active))
                continue
            if _ignored(rel, active, extra):
                continue
            file_entry = _check_file(root, entry.path, entry.name, rel, is_link, max_bytes, result)
            if file_entry is not None:
                result.files.append(file_entry)
    result.files.sort(key=lambda f: f.path)
    return result


def scan_paths(
    root: Path,
    paths: Iterable[str],
    *,
    exclude: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[ScanResult, set[str]]:
    """`scan` for a few known paths (a file watcher's events): (the indexable files among
    them, the paths that are not indexable now: gone, ignored or skipped).

    Each path gets the same verdict a full scan would give it: every folder on its way is
    checked against the ignore files above it, the always-skipped folders and symlinks.
    """
    result = ScanResult()
    extra = pathspec.GitIgnoreSpec.from_lines(list(exclude)) if exclude else None
    root = root.resolve()
    specs: dict[str, pathspec.PathSpec[Any] | None] = {}
    not_indexable: set[str] = set()
    for rel in sorted(set(paths)):
        parts = rel.split("/")
        if not rel or not _utf8(rel) or any(p in ("", ".", "..") for p in parts):
            not_indexable.add(rel)
            continue
        active: list[tuple[str, pathspec.PathSpec[Any]]] = []
        reachable = True
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in specs:
                specs[folder] = _load_spec(root / folder, IGNORE_FILES)
            spec = specs[folder]
            if spec is not None:
                active = [*active, (folder, spec)]
            if depth == len(parts) - 1:
                break
            sub = "/".join(parts[: depth + 1])
            if (
                parts[depth] in ALWAYS_SKIP_DIRS
                or _ignored(sub + "/", active, extra)
                or not _real_folder(root / sub)
            ):
                reachable = False
                break
        full = root / rel
        if not reachable or _ignored(rel, active, extra):
            not_indexable.add(rel)
            continue
        try:
            is_link = full.is_symlink()
            if not is_link and full.is_dir():
                not_indexable.add(rel)  # a folder: the caller scans it in full
                continue
        except OSError:
            not_indexable.add(rel)
            continue
        if not os.path.lexists(full):
            not_indexable.add(rel)
            continue
        entry = _check_file(root, str(full), parts[-1], rel, is_link, max_bytes, result)
        if entry is None:
            not_indexable.add(rel)
        else:
            result.files.append(entry)
    return result, not_indexable


def _real_folder(path: Path) -> bool:
    """A folder a full scan walks into: one that exists and is not a symlink."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def read_regular(path: Path, limit: int) -> bytes | None:
    """Up to `limit` + 1 bytes of `path`, or None when it is no longer a regular file.

    Opened without blocking and checked once open: a file replaced by a FIFO between the scan
    and the read must not hang the index, and one that grew past the limit is not read whole.

    Raises:
        OSError: the file vanished or cannot be read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fh.read(limit + 1)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """A non-UTF-8 path as printable text (undecodable bytes become U+FFFD)."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _ignored(
    rel: str, specs: list[tuple[str, pathspec.PathSpec[Any]]], extra: pathspec.PathSpec[Any] | None
) -> bool:
    if extra is not None and extra.match_file(rel):
        return True
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub):
            return True
    return False


def _check_file(
    root: Path,
    path: str,
    name: str,
    rel: str,
    is_link: bool,
    max_bytes: int,
    result: ScanResult,
) -> FileEntry | None:
    lower = name.lower()
    if is_link:
        try:
            target = Path(path).resolve(strict=True)
        except (OSError, RuntimeError):
            result.skip(rel, "broken symlink")
            return None
        if not target.is_relative_to(root):
            result.skip(rel, "symlink outside the project")
            return None
        if target.is_dir():  # never followed: no loops, no file indexed twice
            result.skip(rel, "symlinked folder")
            return None
    try:
        info = os.stat(path)
    except OSError:
        result.skip(rel, "unreadable")
        return None
    if not stat.S_ISREG(info.st_mode):
        result.skip(rel, "not a regular file")
        return None
    if is_secret_file(rel):
        result.skip(rel, "secret file (never read)")
        return None
    dot = lower.rfind(".")
    # As os.path.splitext, cheaper: no suffix unless a non-dot comes before the last dot.
    suffix = lower[dot:] if dot > 0 and lower[:dot].strip(".") else ""
    if suffix in BINARY_SUFFIXES:
        result.skip(rel, "binary")
        return None
    if name in GENERATED_NAMES or lower.endswith(GENERATED_SUFFIXES):
        result.skip(rel, "generated")
        return None
    if info.st_size > max_bytes:
        result.skip(rel, "too large")
        return None
    return FileEntry(rel, info.st_size, info.st_mtime)
