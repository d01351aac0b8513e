"""Project identity: clones and worktrees of one repository are one project."""

from __future__ import annotations

from pathlib import Path

import pytest
from synchelp import git

from kenning.sync.identity import normalize_remote, project_identity


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:Acme/Tidewater.git", "github.com/acme/tidewater"),
        ("https://github.com/acme/tidewater", "github.com/acme/tidewater"),
        ("https://github.com/acme/tidewater.git/", "github.com/acme/tidewater"),
        ("ssh://git@github.com:22/acme/tidewater.git", "github.com/acme/tidewater"),
        ("https://user:secret@gitlab.example.org:443/Team/App", "gitlab.example.org/Team/App"),
        ("ssh://git@git.example.org:2222/team/app.git", "git.example.org:2222/team/app"),
        ("file:///srv/git/app.git", "file:/srv/git/app"),
        ("/srv/git/app.git/", "file:/srv/git/app"),
    ],
)
def test_normalize_remote_maps_spellings_of_one_repository_to_one_key(
    url: str, expected: str
) -> None:
    assert normalize_remote(url) == expected


def test_normalize_remote_refuses_an_empty_url() -> None:
    with pytest.raises(ValueError):
        normalize_remote("  ")


def test_clones_over_ssh_and_https_share_identity(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, url in ((a, "git@github.com:Acme/App.git"), (b, "https://github.com/acme/app")):
        folder.mkdir()
        git(folder, "init", "-q")
        git(folder, "remote", "add", "origin", url)
    ia, ib = project_identity(a), project_identity(b)
    assert ia.key == ib.key == "github.com/acme/app"
    assert ia.kind == "remote" and ia.slug == ib.slug and ia.root != ib.root


def test_worktrees_without_a_remote_share_the_main_checkout_path(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q")
    (main / "f.txt").write_text("x")
    git(main, "add", "f.txt")
    git(main, "commit", "-q", "-m", "one")
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "feature")
    sub = tmp_path / "wt" / "deep"
    sub.mkdir()
    ia, ib = project_identity(main), project_identity(sub)
    assert ia.kind == ib.kind == "git-root"
    assert ia.key == ib.key == f"path:{main.resolve()}"
    assert ib.root == (tmp_path / "wt").resolve()


def test_a_folder_outside_git_is_identified_by_its_path(tmp_path: Path) -> None:
    ident = project_identity(tmp_path)
    assert ident.kind == "path" and ident.key == f"path:{tmp_path.resolve()}"
