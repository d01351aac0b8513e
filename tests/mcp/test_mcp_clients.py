"""Real MCP clients from npm against kenning: the MCP Inspector CLI on both transports, and
Claude Code, Gemini CLI and Codex reading what `kenning connect` wrote (HOME in a temp dir).

The clients are installed once into .cache/npm-clients/ (see conftest.py); the first run pays the
download (about a minute), later runs only the checks. Skipped, with the reason, without npm.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcphelp import TOOLS, HttpServer, NpmClients, kenning_command

from kenning.cli import cli
from kenning.memory import MemoryStore

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def inspector(clients: NpmClients, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run `mcp-inspector --cli ARGS`; its JSON answer (0.15 exits 0 on a tool error too)."""
    done = subprocess.run(
        [str(clients.bin("mcp-inspector")), "--cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env or dict(os.environ),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def connect(project: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["-C", str(project), "connect", *args])
    assert result.exit_code == 0, result.output


def run_client(argv: list[str], cwd: Path, **env: str) -> str:
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )
    return done.stdout + done.stderr


def test_inspector_cli_over_stdio(npm_clients: NpmClients, project: Path) -> None:
    server = [*kenning_command(), "-C", str(project), "mcp", "--no-vectors"]
    listed = inspector(npm_clients, *server, "--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} == TOOLS
    called = inspector(
        npm_clients,
        *server,
        "--method",
        "tools/call",
        "--tool-name",
        "get_context",
        "--tool-arg",
        "request=add retries to the webhook sender",
    )
    assert called["isError"] is False
    assert called["content"][0]["text"].startswith("# Context for: add retries")
    assert called["structuredContent"]["intent"] == "implement"
    rules = inspector(
        npm_clients, *server, "--method", "resources/read", "--uri", "kenning://rules"
    )
    assert "psp-calls-need-idempotency-key-a5d0" in rules["contents"][0]["text"]
    bad = inspector(
        npm_clients,
        *server,
        "--method",
        "tools/call",
        "--tool-name",
        "get",
        "--tool-arg",
        "id=nope",
    )
    assert bad["isError"] is True and "no memory with id" in bad["content"][0]["text"]


def test_inspector_cli_over_http(
    npm_clients: NpmClients, http_server: HttpServer, project: Path
) -> None:
    # Inspector 0.15 cannot send headers: the token goes in the URL (RFC 6750 query form).
    url = f"{http_server.url}?access_token={http_server.token}"
    auth = ["--transport", "http"]
    listed = inspector(npm_clients, url, *auth, "--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} == TOOLS
    stored = inspector(
        npm_clients,
        url,
        *auth,
        "--method",
        "tools/call",
        "--tool-name",
        "remember",
        "--tool-arg",
        "text=Settlement runs start at 02:00 UTC",
        "--tool-arg",
        "kind=fact",
    )
    assert stored["isError"] is False, stored
    memory_id = stored["structuredContent"]["id"]
    memory = MemoryStore(project / ".kenning" / "memories", None).get(memory_id)
    assert memory.text == "Settlement runs start at 02:00 UTC"
    assert memory.source == stored["structuredContent"]["source"] != "mcp"  # the client's name
    refused = subprocess.run(
        [
            str(npm_clients.bin("mcp-inspector")),
            "--cli",
            http_server.url,
            "--transport",
            "http",
            "--method",
            "tools/list",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert refused.returncode != 0 or '"tools"' not in refused.stdout


def test_claude_code_lists_kenning_as_connected(
    npm_clients: NpmClients, project: Path, client_home: Path
) -> None:
    claude = str(npm_clients.bin("claude"))
    connect(project, "claude-code", "--scope", "local")
    out = run_client([claude, "mcp", "list"], cwd=project)
    assert re.search(r"kenning: .*kenning -C .* mcp - ✔ Connected", out), out

    # Project scope: .mcp.json, approved the way the interactive prompt would record it.
    (client_home / ".claude.json").unlink()
    connect(project, "claude-code", "--scope", "project")
    state = {
        "projects": {
            str(project): {"hasTrustDialogAccepted": True, "enabledMcpjsonServers": ["kenning"]}
        }
    }
    (client_home / ".claude.json").write_text(json.dumps(state))
    out = run_client([claude, "mcp", "list"], cwd=project)
    assert re.search(r"kenning: .* - ✔ Connected", out), out


def test_gemini_cli_lists_kenning_as_connected(
    npm_clients: NpmClients, project: Path, client_home: Path
) -> None:
    connect(project, "gemini")
    out = run_client(
        [str(npm_clients.bin("gemini")), "mcp", "list"],
        cwd=project,
        GEMINI_CLI_TRUST_WORKSPACE="true",
    )
    assert re.search(r"✓ kenning: .* - Connected", out), out


def codex_mcp_status(codex: Path) -> dict[str, dict[str, Any]]:
    """`codex app-server`'s mcpServerStatus/list: Codex starts each server and lists its tools
    (the logic of ../shared/tools/codex_mcp_status.py)."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"clientInfo": {"name": "kenning-tests", "version": "0"}},
        },
        {"jsonrpc": "2.0", "method": "initialized"},
        {"jsonrpc": "2.0", "id": 1, "method": "mcpServerStatus/list", "params": {}},
    ]
    with subprocess.Popen(
        [str(codex), "app-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        process.stdin.flush()
        try:
            for line in process.stdout:
                reply = json.loads(line)
                if reply.get("id") == 1:
                    assert "result" in reply, reply
                    return {s["name"]: s for s in reply["result"]["data"]}
        finally:
            process.terminate()
    raise AssertionError("codex app-server ended without answering mcpServerStatus/list")


def test_codex_starts_kenning_and_sees_its_tools(
    npm_clients: NpmClients, project: Path, client_home: Path
) -> None:
    connect(project, "codex")
    listed = run_client([str(npm_clients.bin("codex")), "mcp", "list"], cwd=project)
    assert "kenning" in listed, listed
    status = codex_mcp_status(npm_clients.bin("codex"))
    assert not status["kenning"].get("toolsError"), status["kenning"]
    assert set(status["kenning"]["tools"]) == TOOLS


def test_clients_reach_the_http_server_with_the_token(
    npm_clients: NpmClients, http_server: HttpServer, project: Path, client_home: Path
) -> None:
    connect(project, "claude-code", "--scope", "local", "--url", http_server.url)
    out = run_client([str(npm_clients.bin("claude")), "mcp", "list"], cwd=project)
    assert re.search(r"kenning: http://127\.0\.0\.1:\d+/mcp \(HTTP\) - ✔ Connected", out), out
    connect(project, "codex", "--url", http_server.url)
    status = codex_mcp_status(npm_clients.bin("codex"))
    assert set(status["kenning"]["tools"]) == TOOLS, status["kenning"]
