"""The files-touched suite end to end on a tiny git history with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenning.bench import history


def test_select_commits_keeps_real_code_changes_oldest_first(history_repo: Path) -> None:
    git_dir = history.resolve_git_dir(history_repo)
    cases, skipped = history.select_commits(git_dir, 10)
    assert [c.subject for c in cases] == [
        "Retry SMTP email delivery when the relay times out",
        "Round invoice totals to whole cents",
    ]
    assert cases[0].gold == ("app/mailer.py",)
    assert skipped["message too short or a release/merge"] == 1
    assert skipped["no changed file with a gold extension at the parent"] == 1
    assert skipped["root commit"] == 1
    assert [c.subject for c in history.select_commits(git_dir, 1)[0]] == [
        "Round invoice totals to whole cents"
    ]


def test_clean_message_drops_trailers() -> None:
    message = "Fix the parser\n\nLonger text.\n\nSigned-off-by: A <a@b>\nCo-authored-by: B <b@c>"
    assert history.clean_message(message) == "Fix the parser\n\nLonger text."


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(history.GitError, match="not a git repository"):
        history.resolve_git_dir(tmp_path)


def test_run_finds_the_touched_files_and_leaves_the_source_alone(
    history_repo: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in (history_repo / ".git").iterdir())
    result = history.run(history_repo, tmp_path / "work", commits=10, embed=False)
    assert result["suite"] == "history"
    assert result["commits"] == 2
    assert result["repository"] == "history-repo"
    assert set(result["systems"]) == set(history.SYSTEMS)
    for name in ("bm25", "kenning-search", "kenning-brief"):
        groups = result["systems"][name]["groups"]
        assert groups["all"]["n"] == 2 and set(groups) == {"all", "1 file"}
        assert groups["all"]["recall"]["1"] == 1.0, (name, result["cases"])
    assert result["cases"][0]["ranked"]["bm25"][0] == "app/mailer.py"
    assert result["systems"]["kenning-brief"]["tokens"]["max"] <= 2000
    assert sorted(p.name for p in (history_repo / ".git").iterdir()) == before
    checkout = tmp_path / "work" / "checkout"
    assert (checkout / "app" / "billing.py").read_text().count("CENTS") == 0  # at the parent
