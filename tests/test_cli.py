"""The CLI contract other issues and users depend on, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kenning.cli import cli

CORE_COMMANDS = [
    "brief",
    "doctor",
    "forget",
    "index",
    "init",
    "memories",
    "remember",
    "search",
    "show",
]


def run(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_help_with_an_example() -> None:
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert set(CORE_COMMANDS) <= set(names)
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, name
        assert "Example:" in command.help, f"{name} --help has no Example:"


def test_init_remember_show_forget_round_trip(tmp_path: Path) -> None:
    assert "Initialised" in run("-C", str(tmp_path), "init")
    assert (tmp_path / ".kenning" / ".gitignore").read_text().strip().endswith("index/")
    memory_id = run(
        "-C",
        str(tmp_path),
        "remember",
        "Never call the PSP without a timeout",
        "--kind",
        "rule",
        "--scope",
        "src/payments/**",
        "--tag",
        "payments",
    ).strip()
    assert (tmp_path / ".kenning" / "memories" / "rule" / f"{memory_id}.md").exists()
    shown = run("-C", str(tmp_path), "show", memory_id)
    assert "scope: src/payments/**" in shown
    listed = json.loads(run("-C", str(tmp_path), "memories", "--json"))
    assert [m["id"] for m in listed] == [memory_id]
    assert f"Retired {memory_id}" in run("-C", str(tmp_path), "forget", memory_id)
    assert json.loads(run("-C", str(tmp_path), "memories", "--json")) == []


def test_remember_reads_stdin_with_dash(tmp_path: Path) -> None:
    memory_id = run(
        "-C", str(tmp_path), "remember", "-", "--kind", "note", input="From stdin\n\nbody"
    ).strip()
    assert (
        json.loads(run("-C", str(tmp_path), "show", memory_id, "--json"))["title"] == "From stdin"
    )


def test_brief_json_on_a_project_nobody_indexed(tiny: Path) -> None:
    data = json.loads(
        run("-C", str(tiny), "brief", "retry email with backoff", "--json", "--budget", "800")
    )
    assert data["budget"] == 800 and data["tokens"] <= 800
    assert any(
        i["ref"].startswith("app/retry.py") or i["ref"].startswith("app/mailer.py")
        for i in data["items"]
    )
    assert (tiny / ".kenning" / "index").is_dir()


def test_search_and_index_json(tiny: Path) -> None:
    stats = json.loads(run("-C", str(tiny), "index", "--json", "--no-vectors"))
    assert stats["files_indexed"] == 4
    hits = json.loads(run("-C", str(tiny), "search", "backoff", "--kind", "code", "--json"))
    assert hits and hits[0]["ref"].startswith("app/retry.py")


@pytest.mark.parametrize("folder", ["empty", "no-git-no-code"])
def test_every_command_works_on_an_empty_project(tmp_path: Path, folder: str) -> None:
    root = tmp_path / folder
    root.mkdir()
    assert "Nothing in this project" in run("-C", str(root), "brief", "add a feature")
    assert "No matches" in run("-C", str(root), "search", "anything")
    assert "No memories yet" in run("-C", str(root), "memories")
    assert "index and store agree" in run("-C", str(root), "doctor")


def test_errors_are_one_clean_line_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "show", "no-such-id"])
    assert result.exit_code == 1
    assert "no memory with id 'no-such-id'" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "remember", "x", "--kind", "wish"])
    assert result.exit_code == 1 and "not one of" in result.output


def test_doctor_reports_unreadable_memories(tmp_path: Path) -> None:
    folder = tmp_path / ".kenning" / "memories" / "rule"
    folder.mkdir(parents=True)
    (folder / "bad.md").write_text("---\ntitle: [oops\n---\n")
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "doctor"])
    assert result.exit_code == 1 and "unreadable" in result.output and "bad.md" in result.output


def test_remember_anchors_to_a_file_and_refuses_a_near_duplicate(tiny: Path) -> None:
    run("-C", str(tiny), "index", "--no-vectors")
    first = run(
        "-C",
        str(tiny),
        "remember",
        "Emails retry three times with exponential backoff",
        "--kind",
        "decision",
        "--file",
        "app/retry.py::backoff",
    ).strip()
    text = (tiny / ".kenning" / "memories" / "decision" / f"{first}.md").read_text()
    assert "app/retry.py" in text
    again = CliRunner().invoke(
        cli,
        [
            "-C",
            str(tiny),
            "remember",
            "Emails are retried three times with exponential backoff",
            "--kind",
            "decision",
        ],
    )
    assert again.exit_code == 1 and first in again.output
    kept = run(
        "-C",
        str(tiny),
        "remember",
        "Emails are retried three times with exponential backoff",
        "--kind",
        "decision",
        "--on-duplicate",
        "keep",
    ).strip()
    assert kept != first


def test_doctor_fix_removes_leftover_temp_files_and_reindexes(tiny: Path) -> None:
    import os
    import time

    run("-C", str(tiny), "index", "--no-vectors")
    folder = tiny / ".kenning" / "memories" / "note"
    folder.mkdir(parents=True)
    leftover = folder / ".half-written.md.1234.99.tmp"
    leftover.write_text("---\nkind: note\n")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    (folder / "hand-written.md").write_text("# Hand-written note\n\nAdded in an editor.\n")
    out = run("-C", str(tiny), "doctor", "--fix")
    assert "removed the leftover temp file" in out and "re-indexed 0 files and 1 memories" in out
    assert not leftover.exists() and (folder / "hand-written.md").exists()
    assert "index and store agree" in out


def test_brief_checks_a_diff_from_stdin_against_the_rules(sample: Path) -> None:
    diff = (
        "--- a/src/tidewater/billing/invoices.py\n+++ b/src/tidewater/billing/invoices.py\n"
        "@@ -1,2 +1,2 @@\n-    total_cents: int\n+    total: float = round(subtotal * 1.2, 2)\n"
    )
    data = json.loads(
        run(
            "-C",
            str(sample),
            "brief",
            "tidy the invoice total",
            "--diff",
            "-",
            "--json",
            input=diff,
        )
    )
    assert "money-is-integer-cents-b41a" in [c["ref"] for c in data["conflicts"]]
