"""Each file's recent commit messages are stored (`file_history`, m012) from the same git log
that gives the co-change edges; bounded per file; absent, not an error, without git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kenning.index import githistory
from kenning.index.githistory import Commit, cochange_pairs, file_histories, parse_log
from kenning.workspace import Workspace


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "retry.py").write_text("def backoff(n: int) -> list[float]:\n    return []\n")
    (root / "app" / "mailer.py").write_text("def send(to: str) -> None:\n    pass\n")
    _git(root, "init", "-q")
    _commit(root, "first version")
    (root / "app" / "retry.py").write_text(
        "def backoff(n: int) -> list[float]:\n    return [1.0]\n"
    )
    _commit(root, "Jittered backoff for the flaky RetryPolicy\n\nSigned-off-by: Someone <s@x.io>")
    return root


def _history(ws: Workspace) -> dict[str, str]:
    return dict(ws.db.execute("SELECT path, body FROM file_history").fetchall())


def test_each_file_keeps_the_messages_of_the_commits_that_changed_it(tmp_path: Path) -> None:
    ws = Workspace.open(_repo(tmp_path))
    ws.index(embed=False)
    history = _history(ws)
    assert "Jittered backoff" in history["app/retry.py"]
    assert "Jittered" not in history["app/mailer.py"]
    assert "Signed-off-by" not in history["app/retry.py"]  # trailers name people, not changes
    # Mixed-case names are split as in code chunks: "retry policy" finds `RetryPolicy`.
    found = ws.db.execute(
        "SELECT path FROM file_history WHERE file_history MATCH 'policy'"
    ).fetchall()
    assert found == [("app/retry.py",)]


def test_a_new_commit_refreshes_the_history(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    ws = Workspace.open(root)
    ws.index(embed=False)
    (root / "app" / "mailer.py").write_text("def send(to: str) -> None:\n    print(to)\n")
    _commit(root, "Log every outbound envelope")
    ws.index(embed=False)
    assert "outbound envelope" in _history(ws)["app/mailer.py"]


def test_a_project_without_git_has_no_history_and_indexes_fine(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.py").write_text("def total_price() -> int:\n    return 1\n")
    ws = Workspace.open(tmp_path / "plain")
    assert ws.index(embed=False).files_indexed == 1
    assert _history(ws) == {}
    assert [h.path for h in ws.search("total price", kind="code")] == ["a.py"]


def test_an_index_from_before_m012_gets_the_table_and_fills_it(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    ws = Workspace.open(root)
    ws.index(embed=False)
    # What an index written before m012 looks like: no table, the co-change head recorded.
    with ws.db:
        ws.db.execute("DROP TABLE file_history")
        ws.db.execute("DELETE FROM _kenning_migrations WHERE name >= 'm012'")  # m012 and later
    assert ws.db.execute("SELECT value FROM meta WHERE key = 'cochange_head'").fetchone()
    ws.close()
    again = Workspace.open(root)
    stats = again.index(embed=False)
    assert not stats.rebuilt and stats.files_indexed == 0  # migrated, not rebuilt
    assert "Jittered backoff" in _history(again)["app/retry.py"]


def test_parse_log_reads_messages_and_files() -> None:
    text = (
        "\x00Fix retry\n\nLonger body.\nCo-authored-by: X <x@y.z>\n\x01\n\napp/retry.py\n"
        "tests/test_retry.py\n\x00Merge branch 'x'\n\x01\n\x00Docs only\n\x01\n\nREADME.md\n"
    )
    assert parse_log(text) == [
        Commit("Fix retry\n\nLonger body.", ("app/retry.py", "tests/test_retry.py")),
        Commit("Merge branch 'x'", ()),
        Commit("Docs only", ("README.md",)),
    ]
    assert cochange_pairs(parse_log(text)) == {("app/retry.py", "tests/test_retry.py"): 1}


def test_histories_are_bounded_and_skip_sweeping_commits() -> None:
    many = [Commit(f"change number {n} " + "word " * 100, ("a.py",)) for n in range(50)]
    sweep = Commit("Reformat everything", tuple(f"f{n}.py" for n in range(40)) + ("a.py",))
    histories = file_histories([sweep, *many], keep={"a.py"}, per_file=20, max_chars=2000)
    text = histories["a.py"]
    assert len(text) <= 2000 and text.count("\n") < 20
    assert text.startswith("change number 0 ")  # newest first
    assert "Reformat" not in text and set(histories) == {"a.py"}
    assert len(text.split("\n")[0]) <= githistory.MESSAGE_CHARS
