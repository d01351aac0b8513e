"""What recent git history says about each file: co-change pairs and past commit messages.

One `git log --name-only` of the recent commits feeds both. Files changed in the same
commit become `cochange` edges; each file's own recent commit messages become its row in the
`file_history` FTS table, which the file ranking searches with the request (a request that reads
like the messages of earlier changes to a file is evidence for that file: "fix the flaky retry
again" → the files whose commits talked about retry).

Bounded: at most `PER_FILE` messages per file (newest first) and `MAX_CHARS` characters of text;
commits that touch more than `MAX_FILES` files (reformats, renames, releases) are left out of
both, since they say nothing about any one of their files.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from kenning.index.terms import expand

# `git log --format` for `parse_log`: NUL, the raw message, then \x01 before the file names.
LOG_FORMAT = "%x00%B%x01"
MAX_FILES = 30
PER_FILE = 20
MAX_CHARS = 2000
# One message's share of a file's text: its subject and the start of its body.
MESSAGE_CHARS = 300
# Trailers and boilerplate lines that name people or tools, not what changed.
_TRAILER = re.compile(r"^[A-Za-z-]+-by:|^Co-authored-by:|^Change-Id:|^\(cherry picked", re.I)


@dataclass(frozen=True)
class Commit:
    """One commit of the log: its message (trailers removed) and the files it changed."""

    message: str
    files: tuple[str, ...]


def parse_log(text: str) -> list[Commit]:
    """Commits of a `git log --name-only --format=LOG_FORMAT` output, newest first."""
    out: list[Commit] = []
    for record in text.split("\x00")[1:]:
        message, _, names = record.partition("\x01")
        files = tuple(sorted({f for f in names.split("\n") if f.strip()}))
        lines = [line for line in message.strip().splitlines() if not _TRAILER.match(line.strip())]
        out.append(Commit("\n".join(lines).strip(), files))
    return out


def cochange_pairs(
    commits: Sequence[Commit], max_files: int = MAX_FILES
) -> Counter[tuple[str, str]]:
    """How often each pair of files (sorted) changed in the same commit."""
    pairs: Counter[tuple[str, str]] = Counter()
    for commit in commits:
        files = commit.files
        if 2 <= len(files) <= max_files:
            for i, a in enumerate(files):
                for b in files[i + 1 :]:
                    pairs[(a, b)] += 1
    return pairs


def file_histories(
    commits: Sequence[Commit],
    keep: Collection[str] | None = None,
    *,
    per_file: int = PER_FILE,
    max_chars: int = MAX_CHARS,
    max_files: int = MAX_FILES,
    message_chars: int = MESSAGE_CHARS,
) -> dict[str, str]:
    """Per file (only those in `keep`, when given): its newest commit messages, one a line,
    cut at `max_chars`. A message is its subject and the start of its body (`message_chars`)."""
    texts: dict[str, list[str]] = defaultdict(list)
    used: dict[str, int] = defaultdict(int)
    for commit in commits:
        if not commit.message or len(commit.files) > max_files:
            continue
        line = " ".join(commit.message.split())[:message_chars]
        for path in commit.files:
            if keep is not None and path not in keep:
                continue
            if len(texts[path]) >= per_file or used[path] >= max_chars:
                continue
            texts[path].append(line[: max_chars - used[path]])
            used[path] += len(line) + 1
    return {path: "\n".join(lines) for path, lines in texts.items() if lines}


def write_histories(db: sqlite3.Connection, histories: dict[str, str]) -> None:
    """Replace the `file_history` rows (the caller holds the transaction). The body is the
    messages plus the split parts of their mixed-case names, as code chunks are indexed."""
    db.execute("DELETE FROM file_history")
    db.executemany(
        "INSERT INTO file_history (path, body) VALUES (?, ?)",
        [(path, f"{text}\n{expand(text)}") for path, text in sorted(histories.items())],
    )
