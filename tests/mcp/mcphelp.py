"""Helpers for the MCP tests: real servers in child processes, and real clients from npm.

Servers run as `kenning -C <project> mcp` (stdio) or `... mcp --http --port 0` (HTTP, its URL read
from the line it prints), always `--no-vectors` so no test waits on the embedding model. The npm
clients (MCP Inspector, Claude Code, Gemini CLI, Codex) are installed once into
`.cache/npm-clients/` at the repository root and reused by later runs; without node/npm those
tests skip and say why.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client

ROOT = Path(__file__).resolve().parents[2]
NPM_CACHE = ROOT / ".cache" / "npm-clients"
NPM_PACKAGES = {
    # package -> what it provides; versions are whatever npm picks for this node (see
    # ../shared/notes/mcp-clients.md: node 20 gets inspector 0.15.x and claude-code 2.1.x).
    "@modelcontextprotocol/inspector": "mcp-inspector",
    "@anthropic-ai/claude-code": "claude",
    "@google/gemini-cli": "gemini",
    "@openai/codex": "codex",
}


def kenning_command() -> list[str]:
    """The `kenning` console script of the interpreter running the tests."""
    script = Path(sys.executable).parent / "kenning"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "kenning"]


def server_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


@dataclass
class HttpServer:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def start_http_server(project: Path, home: Path, log: Path, *args: str) -> HttpServer:
    """`kenning mcp --http --port 0` for `project`; returns once its URL is printed."""
    with log.open("wb") as err:
        process = subprocess.Popen(
            [
                *kenning_command(),
                "-C",
                str(project),
                "mcp",
                "--http",
                "--port",
                "0",
                "--no-vectors",
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=server_env(KENNING_HOME=str(home)),
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"over MCP at (http://\S+/mcp)", text)
        if found:
            token = (home / "mcp-token").read_text().strip()
            return HttpServer(found.group(1), token, process, log)
        if process.poll() is not None:
            raise AssertionError(f"server exited early ({process.returncode}):\n{text}")
        time.sleep(0.05)
    stop(process)
    raise AssertionError(f"server did not start in 60 s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a server we started (its own process group), politely first."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# ---- npm clients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NpmClients:
    root: Path

    def bin(self, name: str) -> Path:
        return self.root / "node_modules" / ".bin" / name


def installed(root: Path) -> bool:
    stamp = root / "installed.json"
    if not stamp.exists():
        return False
    try:
        wanted = json.loads(stamp.read_text()).get("packages")
    except ValueError:
        return False
    bins = root / "node_modules" / ".bin"
    return wanted == sorted(NPM_PACKAGES) and all(
        (bins / b).exists() for b in NPM_PACKAGES.values()
    )


# ---- one pass over every tool, resource and prompt ----------------------------------------

TOOLS = {
    "get_context",
    "remember",
    "record_decision",
    "search",
    "get",
    "forget",
    "list_rules",
    "route",
    "capture",
}


def text_of(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def exercise_every_tool(c: Client, project: Path) -> dict[str, Any]:
    """Call each tool once; return what the checks need."""
    listed = await c.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == TOOLS
    for name in ("get_context", "search", "get", "list_rules", "route", "capture"):
        assert tools[name].annotations is not None
        assert tools[name].annotations.read_only_hint is True, name
        assert "\n    " not in (tools[name].description or ""), name
    assert tools["forget"].annotations is not None
    assert tools["forget"].annotations.destructive_hint is True
    assert "first for any coding task" in (tools["get_context"].description or "")

    context = await c.call_tool(
        "get_context",
        {
            "request": "add retries to the webhook sender",
            "files": ["src/tidewater/payments/webhooks.py"],
        },
    )
    assert not context.is_error, text_of(context)
    assert text_of(context).startswith("# Context for: add retries")
    assert context.structured_content and context.structured_content["items"]

    remembered = await c.call_tool(
        "remember",
        {
            "text": "Webhook payloads are signed with HMAC-SHA256",
            "kind": "fact",
            "tags": "webhooks",
        },
    )
    assert not remembered.is_error, text_of(remembered)
    assert remembered.structured_content is not None
    fact_id = remembered.structured_content["id"]

    decided = await c.call_tool(
        "record_decision",
        {
            "title": "Dead-lettered webhooks are replayed by hand",
            "decision": "Support replays dead-lettered webhooks from the admin page.",
            "reasons": ["merchants ask first"],
            "alternatives_rejected": ["automatic nightly replay"],
        },
    )
    assert not decided.is_error, text_of(decided)
    assert decided.structured_content is not None
    decision_id = decided.structured_content["id"]

    found = await c.call_tool("search", {"query": "HMAC signed webhook payloads", "kind": "fact"})
    assert not found.is_error
    assert found.structured_content is not None
    assert fact_id in [r["id"] for r in found.structured_content["results"]]

    got = await c.call_tool("get", {"id": decision_id})
    assert "We ruled out automatic nightly replay." in text_of(got)

    rules = await c.call_tool("list_rules", {"path": "src/tidewater/payments/webhooks.py"})
    assert "psp-calls-need-idempotency-key-a5d0" in text_of(rules)

    routed = await c.call_tool("route", {"request": "explain how settlement runs work"})
    assert routed.structured_content is not None
    assert routed.structured_content["intent"] == "explain"

    proposed = await c.call_tool(
        "capture",
        {"text": "user: We decided to keep invoices in Postgres.\nuser: Never log card numbers."},
    )
    assert not proposed.is_error, text_of(proposed)
    assert proposed.structured_content is not None
    assert {p["kind"] for p in proposed.structured_content["proposals"]} >= {"decision", "rule"}

    forgotten = await c.call_tool("forget", {"id": fact_id})
    assert not forgotten.is_error
    assert forgotten.structured_content == {
        **(forgotten.structured_content or {}),
        "status": "retired",
    }

    missing = await c.call_tool("get", {"id": "no-such-memory"})
    assert missing.is_error and "no memory with id" in text_of(missing)
    empty = await c.call_tool("get_context", {"request": "  "})
    assert empty.is_error and "request is empty" in text_of(empty)

    resource = await c.read_resource("kenning://memories/keep-ledger-in-postgres-3fa1")
    first = resource.contents[0]
    assert isinstance(first, types.TextResourceContents)
    assert first.text.startswith("# Keep the ledger in PostgreSQL")
    rules_doc = await c.read_resource("kenning://rules")
    assert isinstance(rules_doc.contents[0], types.TextResourceContents)
    assert "migrations-are-append-only-91ce" in rules_doc.contents[0].text

    prompts = await c.list_prompts()
    assert [p.name for p in prompts.prompts] == ["brief"]
    prompt = await c.get_prompt("brief", {"request": "fix the settlement run"})
    message = prompt.messages[0].content
    assert isinstance(message, types.TextContent) and "# Context for:" in message.text
    return {"fact": fact_id, "decision": decision_id}
