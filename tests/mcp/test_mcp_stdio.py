"""The official SDK client against `kenning mcp` over real stdio (a child process)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from mcphelp import TOOLS, exercise_every_tool, kenning_command, server_env

from kenning.mcp.handshake import PROTOCOL_VERSIONS, initialize_result
from kenning.memory import MemoryStore


def stdio(project: Path, **env: str) -> StdioServerParameters:
    command, *args = kenning_command()
    return StdioServerParameters(
        command=command,
        args=[*args, "-C", str(project), "mcp", "--no-vectors"],
        env=server_env(**env),
    )


def client(project: Path, mode: str = "auto", name: str = "pytest-client") -> Client:
    return Client(
        stdio(project),
        mode=mode,
        client_info=types.Implementation(name=name, version="1.0"),
        read_timeout_seconds=120,
    )


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_sdk_client_over_stdio_calls_every_tool(project: Path, mode: str) -> None:
    async def main() -> dict[str, Any]:
        async with client(project, mode, name="pytest-client") as c:
            return await exercise_every_tool(c, project)

    ids = anyio.run(main)
    store = MemoryStore(project / ".kenning" / "memories", None)
    fact = store.get(ids["fact"])
    assert fact.status == "retired" and fact.source == "pytest-client"
    decision = store.get(ids["decision"])
    assert decision.kind == "decision" and decision.active and decision.source == "pytest-client"


def raw_initialize(project: Path, version: str, fast: bool) -> tuple[dict[str, Any], float]:
    """Send one `initialize` over stdio by hand; (the result, seconds until it came back)."""
    command = [*kenning_command(), "-C", str(project), "mcp", "--no-vectors"]
    env = server_env(KENNING_MCP_FAST_HANDSHAKE="1" if fast else "0")
    request = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    started = time.perf_counter()
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write((json.dumps(request) + "\n").encode())
        process.stdin.flush()
        line = process.stdout.readline()
        elapsed = time.perf_counter() - started
        process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        process.stdin.write(b'{"jsonrpc":"2.0","id":8,"method":"tools/list"}\n')
        process.stdin.flush()
        listed = json.loads(process.stdout.readline())
        rest, err = process.communicate(timeout=60)
    answer = json.loads(line)
    assert answer["id"] == 7, answer
    assert {t["name"] for t in listed["result"]["tools"]} == TOOLS
    assert b"differs from the early one" not in err, err.decode()
    assert rest == b""  # exactly one answer to initialize reached the client
    return answer["result"], elapsed


def test_early_initialize_answer_is_what_the_sdk_answers(project: Path) -> None:
    assert PROTOCOL_VERSIONS == tuple(HANDSHAKE_PROTOCOL_VERSIONS)
    for version in (PROTOCOL_VERSIONS[0], PROTOCOL_VERSIONS[-1]):
        sdk, _ = raw_initialize(project, version, fast=False)
        assert sdk == initialize_result(version)
        early, _ = raw_initialize(project, version, fast=True)
        assert early == sdk
    # An unknown version is left to the SDK, which answers with its newest.
    sdk_newest, _ = raw_initialize(project, "2099-01-01", fast=True)
    assert sdk_newest == initialize_result("2099-01-01")
