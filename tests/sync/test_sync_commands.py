"""The sync layer's CLI commands through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kenning.cli import cli


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_sync_export_import_resolve_from_the_command_line(
    tmp_path: Path, bare_remote: Path, kenning_home: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    run("-C", str(project), "init")
    run("-C", str(project), "remember", "Prefer tabs", "--kind", "preference", "--personal")
    run("-C", str(project), "remember", "Money is integer cents", "--kind", "rule")
    out = run("sync", "--remote", str(bare_remote))
    assert "pushed" in out and str(bare_remote) in out
    report = json.loads(run("sync", "--json"))
    assert report["committed"] == 0 and report["remote"] == str(bare_remote)
    archive = tmp_path / "m.jsonl.gz"
    assert "Exported 2 memories" in run("-C", str(project), "export", str(archive))
    other = tmp_path / "other"
    other.mkdir()
    assert "2 unchanged" in run("-C", str(project), "import", str(archive))
    data = json.loads(run("-C", str(other), "import", str(archive), "--project-only", "--json"))
    assert len(data["added"]) == 1 and len(data["skipped"]) == 1
    assert "No open conflicts." in run("-C", str(project), "resolve", "--list")


def test_an_unreachable_remote_is_a_clear_error(tmp_path: Path) -> None:
    out = run("sync", "--remote", str(tmp_path / "missing.git"), code=1)
    assert "cannot reach the sync remote" in out and "committed locally" in out


def test_serve_needs_team_and_a_database() -> None:
    assert "add --team" in run("serve", code=2)
    assert "--db" in run("serve", "--team", code=2)


def test_serve_issues_a_project_token(pg_url: str) -> None:
    out = run(
        "serve",
        "--team",
        "--db",
        pg_url,
        "--no-vectors",
        "--issue-token",
        "ana",
        "--project",
        "git@github.com:acme/app.git",
    )
    assert "for project github.com/acme/app" in out
    token = out.strip().splitlines()[-1]
    assert token.startswith("knt_")
    assert "Revoked." in run("serve", "--team", "--db", pg_url, "--revoke-token", token)
