"""Peers side by side: aider's repo map on the tiny history, and clear errors without the venvs.

The peers run in their own venvs, which CI does not install: the tests that drive a real peer
run when its venv is there (`sh bench/peers/setup_aider.sh`) and are skipped otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenning.bench import history
from kenning.bench.peers import AiderRepoMap, BasicMemory, PeerUnavailable, aider_venv
from kenning.cli import cli

AIDER_INSTALLED = (aider_venv() / "bin" / "python").exists()
needs_aider = pytest.mark.skipif(
    not AIDER_INSTALLED, reason="aider's venv is not installed: sh bench/peers/setup_aider.sh"
)


def test_a_missing_aider_venv_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(PeerUnavailable, match=r"setup_aider\.sh.*AIDER_VENV"):
        AiderRepoMap(tmp_path / "work", venv=tmp_path / "no-venv")


def test_a_missing_basic_memory_venv_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(PeerUnavailable, match=r"setup_basic_memory\.sh"):
        BasicMemory(tmp_path / "work", venv=tmp_path / "no-venv")


def test_history_with_a_missing_peer_is_a_clean_cli_error(
    history_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIDER_VENV", str(tmp_path / "no-venv"))
    result = CliRunner().invoke(
        cli,
        ["bench", "history", "--repo", str(history_repo), "--no-embed", "--peer", "aider-repomap"],
    )
    assert result.exit_code != 0
    assert "aider is not installed" in result.output and "Traceback" not in result.output


def test_locomo_skips_the_files_only_peer_with_a_message(
    locomo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIDER_VENV", str(tmp_path / "no-venv"))  # never started: skipped first
    result = CliRunner().invoke(
        cli,
        ["bench", "locomo", "--locomo", str(locomo_file), "--no-embed", "--peer", "aider-repomap"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "skipping the peer aider-repomap" in result.stderr
    assert "run it with the history suite" in result.stderr


@pytest.fixture
def aider(tmp_path: Path) -> Iterator[AiderRepoMap]:
    peer = AiderRepoMap(tmp_path / "aider")
    yield peer
    peer.close()


@needs_aider
def test_aider_ranks_the_file_a_message_names_first(
    history_repo: Path, aider: AiderRepoMap
) -> None:
    files = ["app/__init__.py", "app/billing.py", "app/mailer.py", "app/search.py"]
    aider.sync_files(history_repo, files)
    paths, tokens = aider.rank_files("Retry delivery in app/mailer.py when the relay times out", 3)
    assert paths[0] == "app/mailer.py" and len(paths) == 3
    assert 0 < tokens <= 1300  # aider's 1,024-token map, counted by kenning's estimate
    # A path component named as a word (aider's identifier match) also puts a file first.
    assert aider.rank_files("Round the billing totals to cents", 1)[0] == ["app/billing.py"]


@needs_aider
def test_aider_retags_a_file_rewritten_within_one_mtime_tick(
    tmp_path: Path, aider: AiderRepoMap
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("def frobnicate_widget():\n    return 1\n")
    (root / "b.py").write_text("def other_helper():\n    return 2\n")
    (root / "c.py").write_text(
        "from a import frobnicate_widget\nfrom b import other_helper\n\n"
        "frobnicate_widget()\nother_helper()\n"
    )
    files = ["a.py", "b.py", "c.py"]
    aider.sync_files(root, files)
    assert aider.rank_files("call frobnicate_widget twice", 2)[0][0] == "a.py"
    # Swap the definitions and give both files their old mtimes back: aider's own cache is
    # keyed by mtime alone, so only the peer's sync can tell that they changed.
    stamps = {name: os.stat(root / name).st_mtime_ns for name in ("a.py", "b.py")}
    (root / "a.py").write_text("def other_helper():\n    return 2\n")
    (root / "b.py").write_text("def frobnicate_widget():\n    return 1\n")
    for name, ns in stamps.items():
        os.utime(root / name, ns=(ns, ns))
    aider.sync_files(root, files)
    assert aider.rank_files("call frobnicate_widget twice", 2)[0][0] == "b.py"
    assert aider.stats()["files_retagged_after_checkout"] == 2


@needs_aider
def test_history_runs_aider_side_by_side(history_repo: Path, tmp_path: Path) -> None:
    peer = AiderRepoMap(tmp_path / "aider")
    try:
        result = history.run(history_repo, tmp_path / "work", commits=10, embed=False, peers=[peer])
    finally:
        peer.close()
    row = result["systems"]["aider-repomap"]
    assert row["groups"]["all"]["n"] == 2
    assert 0 < row["tokens"]["max"] <= 1300
    ranked = result["cases"][0]["ranked"]["aider-repomap"]
    assert sorted(ranked) == ["app/__init__.py", "app/billing.py", "app/mailer.py", "app/search.py"]
    stats = result["peers"]["aider-repomap"]
    assert stats["map_budget"] == 1024 and stats["empty_maps"] == 0
    assert not any(p.name.startswith(".aider") for p in (tmp_path / "work" / "checkout").iterdir())
