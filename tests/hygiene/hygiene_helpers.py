"""Helpers for the hygiene tests: a small project's files and git plumbing.

Test modules import these by this module's name; importing from `conftest` would pick whichever
folder's conftest was imported first.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
