"""Fixtures for hygiene: a small project under git, and helpers to change it like a developer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hygiene_helpers import MAILER, RETRY, commit, git

from kenning.workspace import Workspace


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
