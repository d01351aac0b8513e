"""`kenning mcp --http`: the SDK client over real HTTP on 127.0.0.1, and the guard in front."""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcphelp import HttpServer, exercise_every_tool, start_http_server, stop

from kenning.errors import ConfigError
from kenning.mcp.security import check_bind, is_loopback, load_or_create_token
from kenning.memory import MemoryStore

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw-http", "version": "0"},
    },
}


def post(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], dict[str, Any] | None]:
    """POST `body`; (status, headers, the JSON-RPC object in the reply when there is one)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw, head = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, raw, head = exc.code, exc.read(), dict(exc.headers)
    text = raw.decode()
    if text.startswith(("event:", "data:")) or "\ndata:" in text:
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    return status, {k.lower(): v for k, v in head.items()}, json.loads(text) if text else None


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_sdk_client_over_http_calls_every_tool(
    http_server: HttpServer, project: Path, mode: str
) -> None:
    async def main() -> dict[str, Any]:
        async with create_mcp_http_client(headers=http_server.auth) as http:
            transport = streamable_http_client(http_server.url, http_client=http)
            async with Client(
                transport,
                mode=mode,
                client_info=types.Implementation(name="pytest-http", version="1.0"),
                read_timeout_seconds=120,
            ) as c:
                return await exercise_every_tool(c, project)

    ids = anyio.run(main)
    store = MemoryStore(project / ".kenning" / "memories", None)
    assert store.get(ids["decision"]).source == "pytest-http"
    assert store.get(ids["fact"]).status == "retired"


def test_http_refuses_without_token_bad_origin_bad_host_and_bad_bodies(
    http_server: HttpServer,
) -> None:
    body = json.dumps(INIT).encode()
    status, head, error = post(http_server.url, body, {})
    assert status == 401 and error is not None
    assert error["error"]["code"] == -32001 and "bearer token" in error["error"]["message"]
    assert head["www-authenticate"].startswith("Bearer")

    status, _, error = post(http_server.url, body, {"Authorization": "Bearer not-the-token"})
    assert status == 401
    status, _, error = post(f"{http_server.url}?access_token=wrong", body, {})
    assert status == 401
    status, _, answer = post(f"{http_server.url}?access_token={http_server.token}", body, {})
    assert status == 200 and answer is not None and "result" in answer

    evil = {**http_server.auth, "Origin": "http://evil.example"}
    status, _, error = post(http_server.url, body, evil)
    assert status == 403 and error is not None and "Origin" in error["error"]["message"]

    rebound = {**http_server.auth, "Host": "evil.example:80"}
    status, _, error = post(http_server.url, body, rebound)
    assert status == 403 and error is not None and "Host" in error["error"]["message"]

    status, _, error = post(http_server.url, b'{"jsonrpc": "2.0", "id": 1, "meth', http_server.auth)
    assert status == 400 and error is not None and error["error"]["code"] == -32700

    huge = json.dumps({**INIT, "params": {**INIT["params"], "pad": "x" * 1_200_000}}).encode()
    status, _, error = post(http_server.url, huge, http_server.auth)
    assert status == 413 and error is not None
    assert error["error"]["code"] == -32600 and "body over" in error["error"]["message"]

    local = {**http_server.auth, "Origin": "http://localhost:6274"}
    status, _, answer = post(http_server.url, body, local)
    assert status == 200 and answer is not None
    assert answer["result"]["serverInfo"]["name"] == "kenning"


def test_token_is_created_0600_printed_once_and_reused(
    project: Path, kenning_home: Path, tmp_path: Path
) -> None:
    first = start_http_server(project, kenning_home, tmp_path / "first.log")
    stop(first.process)
    token_file = kenning_home / "mcp-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert first.token in first.stderr_path.read_text()
    second = start_http_server(project, kenning_home, tmp_path / "second.log")
    stop(second.process)
    assert second.token == first.token
    assert first.token not in second.stderr_path.read_text()


def test_token_file_rights_are_taken_back(tmp_path: Path) -> None:
    path = tmp_path / "mcp-token"
    token, created = load_or_create_token(path)
    assert created and len(token) >= 32
    path.chmod(0o644)
    again, created = load_or_create_token(path)
    assert again == token and not created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")
    with pytest.raises(ConfigError, match="delete the file"):
        load_or_create_token(path)


def test_non_loopback_bind_needs_an_explicit_host() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    check_bind("127.0.0.1", host_given=False)
    check_bind("0.0.0.0", host_given=True)
    with pytest.raises(ConfigError, match="--host"):
        check_bind("0.0.0.0", host_given=False)


@pytest.mark.slow
def test_mcp_bench_runs_and_writes_its_figures(tmp_path: Path) -> None:
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[2] / "bench" / "mcp_bench.py"
    out = tmp_path / "mcp.json"
    done = subprocess.run(
        [
            sys.executable,
            str(bench),
            "--no-vectors",
            "--launches",
            "1",
            "--calls",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["launch"]["early_handshake"]["initialize_ms"]["n"] == 1
    for transport in ("stdio", "http"):
        assert result[transport]["default"]["round_trip_ms"]["n"] == 3
        assert result[transport]["default"]["peak_rss_mb"] > 0
    assert "get_context over http" in done.stdout
