"""`kenning connect`: each client's file, merged without clobbering, backed up, listed."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenning.cli import cli
from kenning.mcp.connect import (
    CLIENTS,
    SCOPES,
    ConnectError,
    apply,
    configured,
    launch_command,
    merge_toml,
    plan,
)


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


EXPECTED = {
    ("claude-code", "project"): (".mcp.json", ("mcpServers",)),
    ("claude-code", "user"): ("~/.claude.json", ("mcpServers",)),
    ("codex", "user"): ("~/.codex/config.toml", ("mcp_servers",)),
    ("gemini", "project"): (".gemini/settings.json", ("mcpServers",)),
    ("gemini", "user"): ("~/.gemini/settings.json", ("mcpServers",)),
    ("cursor", "project"): (".cursor/mcp.json", ("mcpServers",)),
    ("cursor", "user"): ("~/.cursor/mcp.json", ("mcpServers",)),
    ("vscode", "project"): (".vscode/mcp.json", ("servers",)),
    ("vscode", "user"): ("~/.config/Code/User/mcp.json", ("servers",)),
}


def where(path: str, project: Path, home: Path) -> Path:
    return home / path[2:] if path.startswith("~/") else project / path


@pytest.mark.parametrize(("client", "scope"), sorted(EXPECTED))
def test_each_client_gets_its_documented_file_and_shape(
    client: str, scope: str, tiny: Path, client_home: Path
) -> None:
    relative, keys = EXPECTED[(client, scope)]
    path = where(relative, tiny, client_home)
    out = run("-C", str(tiny), "connect", client, "--scope", scope)
    assert f"Added kenning in {path}" in out
    text = path.read_text()
    data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    for key in keys:
        data = data[key]
    entry = data["kenning"]
    command, args = launch_command(tiny)
    assert entry["command"] == command and Path(command).is_absolute()
    assert entry["args"][-3:] == ["-C", str(tiny), "mcp"]
    if client in ("claude-code", "vscode"):
        assert entry["type"] == "stdio"
    if client in ("gemini", "codex"):
        assert set(entry) == {"command", "args"}


def test_claude_local_scope_is_keyed_by_the_project(tiny: Path, client_home: Path) -> None:
    run("-C", str(tiny), "connect", "claude-code", "--scope", "local")
    data = json.loads((client_home / ".claude.json").read_text())
    assert data["projects"][str(tiny)]["mcpServers"]["kenning"]["args"][-1] == "mcp"
    assert stat.S_IMODE((client_home / ".claude.json").stat().st_mode) == 0o600


def test_merge_keeps_other_servers_and_keys_and_backs_up(
    tiny: Path, client_home: Path, kenning_home: Path
) -> None:
    settings = tiny / ".gemini" / "settings.json"
    settings.parent.mkdir()
    original = {
        "theme": "dark",
        "mcpServers": {"other": {"command": "other-server", "args": ["--x"]}},
    }
    settings.write_text(json.dumps(original))
    out = run("-C", str(tiny), "connect", "gemini")
    merged = json.loads(settings.read_text())
    assert merged["theme"] == "dark"
    assert merged["mcpServers"]["other"] == original["mcpServers"]["other"]
    assert "kenning" in merged["mcpServers"]
    backups = list((kenning_home / "backups" / "connect").iterdir())
    assert len(backups) == 1 and json.loads(backups[0].read_text()) == original
    assert str(backups[0]) in out
    again = run("-C", str(tiny), "connect", "gemini")
    assert "already configured" in again
    assert len(list((kenning_home / "backups" / "connect").iterdir())) == 1


def test_codex_toml_merge_keeps_comments_and_other_tables(tiny: Path, client_home: Path) -> None:
    config = client_home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        '# my settings\nmodel = "o3"\n\n[mcp_servers.other]\ncommand = "x"\n'
        'args = ["y"]\n\n[mcp_servers.other.env]\nTOKEN = "1"\n\n'
        '[mcp_servers.kenning]\ncommand = "/old/kenning"\nargs = ["mcp"]\n\n'
        '[mcp_servers.kenning.env]\nOLD = "1"\n\n[profiles.fast]\nmodel = "mini"\n'
    )
    run("-C", str(tiny), "connect", "codex")
    text = config.read_text()
    assert text.startswith("# my settings\n")
    data = tomllib.loads(text)
    assert data["model"] == "o3" and data["profiles"] == {"fast": {"model": "mini"}}
    assert data["mcp_servers"]["other"] == {"command": "x", "args": ["y"], "env": {"TOKEN": "1"}}
    assert data["mcp_servers"]["kenning"]["args"][-3:] == ["-C", str(tiny), "mcp"]
    assert "env" not in data["mcp_servers"]["kenning"]  # the old table went as a whole
    assert "/old/kenning" not in text


def test_a_file_kenning_cannot_merge_safely_is_left_alone(tiny: Path, client_home: Path) -> None:
    vscode = tiny / ".vscode" / "mcp.json"
    vscode.parent.mkdir()
    vscode.write_text('{\n  // my servers\n  "servers": {}\n}\n')
    result = CliRunner().invoke(cli, ["-C", str(tiny), "connect", "vscode"])
    assert result.exit_code != 0
    assert "not plain JSON" in result.output and '"servers"' in result.output
    assert "// my servers" in vscode.read_text()
    broken = plan("codex", tiny)
    with pytest.raises(ConnectError, match="add this table by hand"):
        merge_toml("[mcp_servers]\nkenning = { command = 'x' }\n", broken)


def test_bad_client_scope_and_name_are_refused(tiny: Path, client_home: Path) -> None:
    with pytest.raises(ConnectError, match="choose from"):
        plan("emacs", tiny)
    with pytest.raises(ConnectError, match="--scope user"):
        plan("codex", tiny, scope="project")
    with pytest.raises(ConnectError, match="server name"):
        plan("cursor", tiny, name="my server")
    assert plan("claude", tiny).client == "claude-code"


def test_print_writes_nothing_and_list_shows_what_is_configured(
    tiny: Path, client_home: Path
) -> None:
    printed = run("-C", str(tiny), "connect", "cursor", "--print")
    assert printed.startswith(f"# {tiny / '.cursor' / 'mcp.json'}")
    assert json.loads(printed.split("\n", 1)[1])["mcpServers"]["kenning"]["args"][-1] == "mcp"
    assert not (tiny / ".cursor").exists()
    run("-C", str(tiny), "connect", "cursor")
    run("-C", str(tiny), "connect", "codex")
    listing = run("-C", str(tiny), "connect", "--list")
    lines = {tuple(line.split()[:2]): line for line in listing.splitlines()[1:]}
    assert "this project" in lines[("cursor", "project")]
    assert "this project" in lines[("codex", "user")]
    assert lines[("gemini", "project")].split()[2] == "-"
    rows = configured(tiny)
    assert {(r.client, r.scope) for r in rows} == {(c, s) for c in CLIENTS for s in SCOPES[c]}


def test_apply_is_atomic_and_keeps_the_file_mode(tiny: Path, client_home: Path) -> None:
    target = tiny / ".mcp.json"
    target.write_text('{"mcpServers": {}}')
    target.chmod(0o640)
    apply(plan("claude-code", tiny))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert not [p for p in tiny.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("client", CLIENTS)
def test_url_entries_carry_the_bearer_token(
    client: str, tiny: Path, client_home: Path, kenning_home: Path
) -> None:
    scope = "user" if client == "codex" else "project"
    spec = plan(client, tiny, scope=scope)
    url = "http://127.0.0.1:8765/mcp"
    run("-C", str(tiny), "connect", client, "--url", url)
    token = (kenning_home / "mcp-token").read_text().strip()
    text = spec.path.read_text()
    data = tomllib.loads(text) if spec.is_toml else json.loads(text)
    for key in spec.keys:
        data = data[key]
    entry = data["kenning"]
    assert entry["url"] == url and "command" not in entry
    headers = entry["http_headers" if client == "codex" else "headers"]
    assert headers == {"Authorization": f"Bearer {token}"}
    with pytest.raises(ConnectError, match="not a server URL"):
        plan(client, tiny, scope=scope, http=("ftp://x", token))
