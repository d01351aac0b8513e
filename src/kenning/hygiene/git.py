"""The few git questions hygiene asks: the commit now, the commit at a date, where paths went.

Every call is a short `git` subprocess with a timeout, no prompts and no optional locks (so it
never contends with the user's own git commands); any failure answers None, and callers treat
"no git" as "no history to consult", never as an error.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


def run(root: Path, *args: str, timeout: float = 30.0) -> str | None:
    """stdout of `git -C root ARGS`, or None when git is missing, fails or times out."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def is_repo(root: Path) -> bool:
    """True when `root` is inside a git work tree."""
    return (root / ".git").exists() or run(root, "rev-parse", "--git-dir") is not None


def head(root: Path) -> str | None:
    """The full hash of HEAD (None outside git or before the first commit)."""
    out = run(root, "rev-parse", "--verify", "-q", "HEAD")
    return out.strip() or None if out else None


def commit_at(root: Path, when: datetime) -> str | None:
    """The last commit on HEAD made at or before `when`."""
    out = run(root, "rev-list", "-1", f"--before={int(when.timestamp())}", "HEAD")
    return out.strip() or None if out else None


def has_commit(root: Path, commit: str) -> bool:
    return run(root, "cat-file", "-e", f"{commit}^{{commit}}") is not None


@dataclass(frozen=True)
class Move:
    """What happened to a path between a base commit and now: renamed to `new`, or deleted."""

    old: str
    new: str | None
    similarity: int = 100

    @property
    def deleted(self) -> bool:
        return self.new is None


def moves_since(root: Path, base: str) -> dict[str, Move]:
    """Paths renamed or deleted between `base` and the staged tree (HEAD plus `git add`/`git mv`).

    Rename detection is git's own (`-M`, 50% similar content), so chains of renames collapse to
    the path's final name.
    """
    out = run(
        root,
        "diff",
        "--cached",
        "-M",
        "--name-status",
        "-z",
        "--diff-filter=DR",
        base,
        timeout=60.0,
    )
    if out is None:
        return {}
    moves: dict[str, Move] = {}
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        status = fields[i]
        if not status:
            i += 1
            continue
        if status.startswith("R") and i + 2 < len(fields):
            score = int(status[1:] or 100)
            moves[fields[i + 1]] = Move(fields[i + 1], fields[i + 2], score)
            i += 3
        elif status.startswith("D") and i + 1 < len(fields):
            moves[fields[i + 1]] = Move(fields[i + 1], None)
            i += 2
        else:
            i += 1
    return moves


def existed_at(root: Path, commit: str, paths: list[str]) -> set[str]:
    """Which of `paths` were files in `commit`."""
    if not paths:
        return set()
    out = run(root, "ls-tree", "-r", "--name-only", "-z", commit, "--", *paths)
    return {p for p in (out or "").split("\0") if p}


def user_name(root: Path) -> str | None:
    """`git config user.name`, when set."""
    out = run(root, "config", "user.name", timeout=5.0)
    return out.strip() or None if out else None
