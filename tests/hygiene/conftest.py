"""Fixtures for hygiene: a small project under git, and helpers to change it like a developer."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning.workspace import Workspace

MAILER = '''"""Outbound email."""

from app.retry import backoff


class Mailer:
    def send_email(self, to: str) -> None:
        """Send one email, retrying with backoff."""
        for delay in backoff(3):
            if self.try_send(to, delay):
                return
        raise RuntimeError(f"could not reach {to}")

    def try_send(self, to: str, delay: float) -> bool:
        return bool(to) and delay >= 0
'''

RETRY = '''def backoff(attempts: int) -> list[float]:
    """Exponential backoff delays in seconds."""
    return [2.0**n for n in range(attempts)]


def jitter(delays: list[float]) -> list[float]:
    return [d * 1.1 for d in delays]
'''


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def commit(root: Path, message: str = "change", later: int = 0) -> str:
    """Commit everything; `later` dates the commit that many seconds after the last one."""
    git(root, "add", "-A")
    env = {}
    if later:
        last = int(git(root, "log", "-1", "--format=%ct").strip())
        env = {
            "GIT_COMMITTER_DATE": f"@{last + later} +0000",
            "GIT_AUTHOR_DATE": f"@{last + later} +0000",
        }
    subprocess.run(
        ["git", "-C", str(root), "commit", "-q", "-m", message],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A two-module Python project in git, with one commit."""
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "mailer.py").write_text(MAILER)
    (root / "app" / "retry.py").write_text(RETRY)
    (root / "README.md").write_text("# Proj\n\nSends email.\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "commit.gpgsign", "false")
    commit(root, "first")
    return root


@pytest.fixture
def ws(repo: Path) -> Iterator[Workspace]:
    """A workspace over `repo`, initialised and indexed without vectors."""
    workspace = Workspace.open(repo)
    workspace.store.hooks.embed = None  # type: ignore[union-attr]  # lexical dedupe: fast
    workspace.project.init()
    commit(repo, "kenning init")
    workspace.index(embed=False)
    yield workspace
    workspace.close()
