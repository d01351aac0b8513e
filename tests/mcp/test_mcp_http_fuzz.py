"""1,000 seeded malformed HTTP requests to a real `kenning mcp --http`: none may break it.

Random methods, paths, Host/Origin/token headers, session ids, content lengths that lie, chunked
bodies, truncated or deeply nested JSON, JSON-RPC with wrong types. Each request gets an HTTP
answer below 500 (or 503, busy) or a closed connection, the server logs no traceback, and a normal
client is still answered afterwards.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcphelp import HttpServer, start_http_server, stop

CASES = 1000
SEED = 20261126


@pytest.fixture
def fuzz_server(project: Path, kenning_home: Path, tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(
        project, kenning_home, tmp_path / "fuzz.log", "--client-timeout", "0.5"
    )
    try:
        yield server
    finally:
        stop(server.process)


def _session(server: HttpServer) -> str:
    host, port = _address(server)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "fuzz", "version": "0"},
            },
        }
        conn.request(
            "POST",
            "/mcp",
            json.dumps(body),
            {
                **server.auth,
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
            },
        )
        response = conn.getresponse()
        response.read()
        return response.getheader("mcp-session-id") or ""
    finally:
        conn.close()


def _address(server: HttpServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


ODD: list[Any] = [None, 0, -1, 2**70, 1.5, True, "", "x" * 3000, [], [1, "a"], {}, {"a": {"b": []}}]
METHODS = [
    "initialize",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "prompts/get",
    "ping",
    "notifications/initialized",
    "no/such/method",
    "",
]
TOOLS = ["get_context", "search", "remember", "get", "route", "nope"]


def _body(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.55:
        method = rng.choice(METHODS)
        params: Any = rng.choice(ODD)
        if method == "tools/call" and rng.random() < 0.7:
            params = {
                "name": rng.choice(TOOLS),
                "arguments": {rng.choice(["request", "query", "id", "x"]): rng.choice(ODD)},
            }
        message: dict[str, Any] = {
            "jsonrpc": rng.choice(["2.0", "2.0", "1.0", 2]),
            "method": method,
        }
        if rng.random() < 0.85:
            message["id"] = rng.choice([7, "abc", None, 1.5, [1], {"x": 1}, -(2**63)])
        if rng.random() < 0.8:
            message["params"] = params
        data = json.dumps([message, message] if rng.random() < 0.1 else message).encode()
        return data[: rng.randrange(1, len(data))] if rng.random() < 0.1 else data
    if roll < 0.65:
        depth = rng.choice([50, 500, 5000])
        return b"[" * depth + b"]" * depth
    if roll < 0.8:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
    if roll < 0.9:
        return b""
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "pad": "y" * 200_000}).encode()


def _request(rng: random.Random, server: HttpServer, session: str) -> tuple[str, bytes]:
    """(method, raw request bytes) for one case: half near-valid (one thing wrong), half wild."""
    host, port = _address(server)
    wild = rng.random() < 0.5

    def maybe(p: float) -> bool:
        return wild and rng.random() < p

    method = "POST"
    if maybe(0.4):
        method = rng.choice(["GET", "DELETE", "PUT", "OPTIONS", "HEAD", "BREW"])
    path = "/mcp"
    if maybe(0.3):
        path = rng.choice(
            [
                "/",
                "/mcp/",
                f"/mcp?access_token={server.token}",
                "/mcp?x=%ff%00",
                "/../../etc/passwd",
                "/" + "a" * 3000,
                "*",
            ]
        )
    headers: list[tuple[str, str]] = []
    if not maybe(0.1):
        host_value = f"127.0.0.1:{port}"
        if maybe(0.2):
            host_value = rng.choice(["evil.example", "", "[::1]:1", "localhost", "x" * 500])
        headers.append(("Host", host_value))
    if not maybe(0.3):
        headers.append(("Authorization", f"Bearer {server.token}"))
    elif rng.random() < 0.7:
        headers.append(
            ("Authorization", rng.choice(["Bearer", "Bearer wrong", "Basic eDp5", server.token]))
        )
    if maybe(0.15):
        headers.append(
            ("Origin", rng.choice(["http://localhost:1", "http://evil.example", "null"]))
        )
    if not maybe(0.1):
        content_type = "application/json"
        if maybe(0.2):
            content_type = rng.choice(["text/plain", "application/json; x=y", ""])
        headers.append(("Content-Type", content_type))
    if not maybe(0.1):
        accept = "application/json, text/event-stream"
        if maybe(0.2):
            accept = rng.choice(["*/*", "text/x", "application/json"])
        headers.append(("Accept", accept))
    if method == "POST" and not maybe(0.3):
        live = session if not maybe(0.5) else rng.choice(["0" * 32, "../x", ""])
        headers.append(("mcp-session-id", live))
    elif method == "DELETE":  # never the live session: a DELETE would end it for the rest
        headers.append(("mcp-session-id", rng.choice(["0" * 32, "../x", ""])))
    if not maybe(0.3):
        version = "2025-06-18" if not maybe(0.5) else rng.choice(["1999-01-01", "x"])
        headers.append(("mcp-protocol-version", version))
    if maybe(0.1):
        name = "".join(rng.choice("abcXYZ-_0") for _ in range(rng.randrange(1, 20)))
        headers.append((f"X-{name}", "".join(chr(rng.randrange(32, 256)) for _ in range(30))))
    body = _body(rng) if method != "GET" or rng.random() < 0.1 else b""
    framing = rng.random() if wild else 0.0
    if framing < 0.8:
        headers.append(("Content-Length", str(len(body))))
    elif framing < 0.88:
        headers.append(("Transfer-Encoding", "chunked"))
        body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
    elif framing < 0.95:
        headers.append(
            ("Content-Length", rng.choice(["-1", "abc", "1e3", "99999999999", str(len(body) + 5)]))
        )
    # else: no framing at all; the body, if any, reads as the next (bad) request
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return method, head.encode("latin-1") + b"\r\n" + body


def _send(address: tuple[str, int], method: str, raw: bytes) -> str:
    """Send one raw request; the outcome: a status code, "closed" or "stream"."""
    with socket.create_connection(address, timeout=30) as sock:
        try:
            sock.sendall(raw)
        except OSError:  # closed on us mid-send (a refusal before the body was read)
            pass
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
        except (http.client.HTTPException, OSError):
            return "closed"
        if (response.getheader("content-type") or "").startswith("text/event-stream") and (
            method == "GET"
        ):
            return "stream"  # a standing event stream: it is meant to stay open
        try:
            body = response.read()
        except (http.client.HTTPException, OSError):
            body = b""
        assert b"Traceback" not in body
        return str(response.status)


def test_malformed_http_requests_never_break_the_server(
    fuzz_server: HttpServer, fuzz_cases: Counter[str]
) -> None:
    rng = random.Random(SEED)
    session = _session(fuzz_server)
    cases = [_request(rng, fuzz_server, session) for _ in range(CASES)]
    address = _address(fuzz_server)
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda case: _send(address, *case), cases))
    fuzz_cases["cases"] += len(outcomes)
    fuzz_cases.update(f"HTTP {o}" if o.isdigit() else o for o in outcomes)
    bad = Counter(o for o in outcomes if o.isdigit() and int(o) >= 500 and o != "503")
    assert bad == Counter(), bad
    counts = Counter(outcomes)
    assert counts["200"] + counts["202"] >= 40, counts  # the fuzz reached the SDK's dispatch too

    assert fuzz_server.process.poll() is None

    async def normal_call() -> str:
        async with create_mcp_http_client(headers=fuzz_server.auth) as http:
            transport = streamable_http_client(fuzz_server.url, http_client=http)
            async with Client(transport, read_timeout_seconds=120) as client:
                result = await client.call_tool("search", {"query": "ledger"})
                assert not result.is_error
                return getattr(result.content[0], "text", "")

    assert anyio.run(normal_call)
    log = fuzz_server.stderr_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
