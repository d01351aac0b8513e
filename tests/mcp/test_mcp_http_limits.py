"""`kenning mcp --http` under slow and greedy clients: bounded in time, connections and work.

A real server on 127.0.0.1 (a child process, tight limits), raw sockets that trickle or flood,
and a normal authenticated client that must keep getting answers meanwhile. The bounds asserted
are generous: they say a connection *was* cut off, not how fast.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcphelp import HttpServer, start_http_server, stop

from kenning.cli import cli
from kenning.errors import ConfigError
from kenning.mcp.security import DEFAULT_MAX_BODY, HttpLimits

CLIENT_TIMEOUT = 2.0  # --client-timeout of the server under test
CUT_OFF_WITHIN = 20.0  # what "cut off" means here: well past the limit, far from "never"
MAX_IN_FLIGHT = 2
MAX_CONNECTIONS = 12
HEAVY = "add retries to the webhook sender " * 500  # a brief of a few hundred ms


@pytest.fixture
def limited(project: Path, kenning_home: Path, tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(
        project,
        kenning_home,
        tmp_path / "limited.log",
        "--client-timeout",
        str(CLIENT_TIMEOUT),
        "--max-in-flight",
        str(MAX_IN_FLIGHT),
        "--max-connections",
        str(MAX_CONNECTIONS),
    )
    try:
        yield server
    finally:
        stop(server.process)


def address(server: HttpServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


class RawSession:
    """A minimal MCP client over http.client: one initialized session, one connection each."""

    def __init__(self, server: HttpServer) -> None:
        self.host, self.port = address(server)
        self.headers = {
            **server.auth,
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        status, head, _ = self.post(
            None,
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw-limits", "version": "0"},
                },
            },
        )
        assert status == 200
        self.headers["mcp-session-id"] = head["mcp-session-id"]
        self.headers["mcp-protocol-version"] = "2025-06-18"
        status, _, _ = self.post(None, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert status == 202

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)

    def post(
        self, conn: http.client.HTTPConnection | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        """POST on `conn`, or on a connection of its own (None), closed afterwards."""
        if conn is None:
            with contextlib.closing(self.connect()) as own:
                return self.post(own, body)
        conn.request("POST", "/mcp", json.dumps(body), self.headers)
        response = conn.getresponse()
        raw = response.read().decode()
        head = {k.lower(): v for k, v in response.getheaders()}
        if "data:" in raw:
            raw = next(line[5:] for line in raw.splitlines() if line.startswith("data:"))
        try:
            return response.status, head, json.loads(raw) if raw.strip() else None
        except ValueError:
            return response.status, head, raw

    def call(
        self, conn: http.client.HTTPConnection | None, n: int, tool: str, arguments: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        request = {"name": tool, "arguments": arguments}
        return self.post(
            conn, {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": request}
        )


def closed_by_server(sock: socket.socket, payload: bytes, gap: float) -> tuple[float, bytes, int]:
    """Send `payload` a byte every `gap` s until the server closes the connection.

    Returns (seconds until closed, what the server sent, bytes we got to send).
    """
    started = time.monotonic()
    sent = 0
    sock.settimeout(gap)
    received = b""
    while time.monotonic() - started < 2 * CUT_OFF_WITHIN:
        try:
            if sent < len(payload):
                sock.send(payload[sent : sent + 1])
                sent += 1
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:  # reset or broken pipe: closed
            break
        if not chunk:
            break
        received += chunk
    return time.monotonic() - started, received, sent


def sdk_calls(server: HttpServer, rounds: int) -> list[str]:
    """get_context and search through the SDK client, `rounds` times; the answers' first lines."""

    async def main() -> list[str]:
        out: list[str] = []
        async with create_mcp_http_client(headers=server.auth) as http:
            transport = streamable_http_client(server.url, http_client=http)
            async with Client(transport, read_timeout_seconds=120) as client:
                for _ in range(rounds):
                    for tool, args in (
                        ("get_context", {"request": "add retries to the webhook sender"}),
                        ("search", {"query": "ledger"}),
                    ):
                        result = await client.call_tool(tool, args)
                        assert not result.is_error, result.content
                        out.append(getattr(result.content[0], "text", "").splitlines()[0])
        return out

    return anyio.run(main)


def test_slow_clients_are_cut_off_while_a_normal_client_is_answered(
    limited: HttpServer,
) -> None:
    host, port = address(limited)
    token = limited.token
    head_only = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 400 + b"\r\n\r\n"
    )  # at 0.1 s a byte it would take 40 s
    body_head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        "Content-Length: 400\r\n\r\n"
    ).encode()
    outcomes: dict[str, tuple[float, bytes, int]] = {}

    def silent() -> None:
        with socket.create_connection((host, port)) as sock:
            outcomes["silent"] = closed_by_server(sock, b"", 0.1)

    def slow_head() -> None:
        with socket.create_connection((host, port)) as sock:
            outcomes["head"] = closed_by_server(sock, head_only, 0.1)

    def slow_body() -> None:
        with socket.create_connection((host, port)) as sock:
            sock.sendall(body_head)
            outcomes["body"] = closed_by_server(sock, b"{" + b" " * 399, 0.1)

    threads = [threading.Thread(target=f) for f in (silent, slow_head, slow_body)]
    for thread in threads:
        thread.start()
    answers = sdk_calls(limited, rounds=3)  # while the three trickle
    for thread in threads:
        thread.join(timeout=3 * CUT_OFF_WITHIN)
    assert len(answers) == 6 and answers[0].startswith("# Context for")

    seconds, received, _ = outcomes["silent"]
    assert seconds < CUT_OFF_WITHIN and received == b""
    seconds, received, sent = outcomes["head"]
    assert seconds < CUT_OFF_WITHIN and sent < len(head_only) and received == b""
    seconds, received, sent = outcomes["body"]
    assert seconds < CUT_OFF_WITHIN and sent < 400
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408")
    error = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert "not received within" in error["error"]["message"]
    assert limited.process.poll() is None


def test_a_flood_gets_503s_and_the_server_stays_healthy(limited: HttpServer) -> None:
    session = RawSession(limited)
    gate = threading.Barrier(8)
    replies: list[tuple[int, dict[str, str], Any]] = []

    def caller(n: int) -> None:
        with contextlib.closing(session.connect()) as conn:
            conn.connect()
            gate.wait()
            replies.append(session.call(conn, 100 + n, "get_context", {"request": HEAVY}))

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(status for status, _, _ in replies)
    assert len(statuses) == 8 and set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
    for status, head, body in replies:
        if status == 503:
            assert head["retry-after"] == "1"
            assert body["error"]["code"] == -32000 and "server busy" in body["error"]["message"]
            assert body["id"] >= 100  # the refusal answers the request it refuses
        else:
            assert "result" in body and not body["result"]["isError"]

    # More open connections than max_connections: a request on one more gets uvicorn's 503,
    # and connections far past it are dropped at once.
    host, port = address(limited)
    idle = [socket.create_connection((host, port)) for _ in range(MAX_CONNECTIONS)]
    try:
        refused = session.call(None, 200, "search", {"query": "ledger"})
        assert refused[0] == 503
        extra = [socket.create_connection((host, port)) for _ in range(2 * MAX_CONNECTIONS)]
        try:
            dropped = 0
            for sock in extra[-4:]:
                sock.settimeout(CUT_OFF_WITHIN)
                try:
                    dropped += sock.recv(100) == b""
                except ConnectionResetError:
                    dropped += 1
            assert dropped == 4
        finally:
            for sock in extra:
                sock.close()
    finally:
        for sock in idle:
            sock.close()

    # Healthy afterwards: a normal client is answered, the server's threads stayed bounded.
    deadline = time.monotonic() + CUT_OFF_WITHIN
    while True:
        status, _, body = session.call(None, 300, "search", {"query": "ledger"})
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the closed sockets leave the server's set on its next loop turns
    assert status == 200 and not body["result"]["isError"]
    assert sdk_calls(limited, rounds=1)[0].startswith("# Context for")
    threads_now = int(
        Path(f"/proc/{limited.process.pid}/status").read_text().split("Threads:")[1].split()[0]
    )
    assert threads_now <= 48  # anyio's worker pool (40) plus the server's own, never per request


def test_limits_come_from_settings_then_flags() -> None:
    assert HttpLimits.from_settings({}) == HttpLimits()
    limits = HttpLimits.from_settings(
        {"max_body_kb": 64, "max_in_flight": 4, "header_timeout": 2.5},
        max_in_flight=8,
        body_timeout=None,
    )
    assert limits.max_body == 64 * 1024 and limits.max_in_flight == 8
    assert limits.header_timeout == 2.5 and limits.body_timeout == HttpLimits().body_timeout
    assert HttpLimits().max_body == DEFAULT_MAX_BODY
    with pytest.raises(ConfigError, match=r"mcp\.http\.max_in_flight must be a positive"):
        HttpLimits.from_settings({"max_in_flight": 0})
    with pytest.raises(ConfigError, match="is not a setting"):
        HttpLimits.from_settings({"max_inflight": 3})
    with pytest.raises(ConfigError, match="positive number"):
        HttpLimits.from_settings({"body_timeout": "soon"})


def test_bad_http_settings_stop_the_server_with_a_clear_message(project: Path) -> None:
    config = project / ".kenning" / "config.toml"
    config.write_text("[mcp.http]\nheader_timeout = -1\n")
    result = CliRunner().invoke(cli, ["-C", str(project), "mcp", "--http", "--port", "0"])
    assert result.exit_code == 1
    assert "mcp.http.header_timeout must be a positive number" in result.output
    result = CliRunner().invoke(cli, ["-C", str(project), "mcp", "--max-in-flight", "3"])
    assert result.exit_code == 2 and "only apply with --http" in result.output


def test_doctor_reports_and_repairs_the_http_token(project: Path, kenning_home: Path) -> None:
    token = kenning_home / "mcp-token"
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor"])
    assert "mcp http token: none yet" in result.output

    token.parent.mkdir(parents=True, exist_ok=True)
    token.write_text("short\n")
    token.chmod(0o644)
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor"])
    assert result.exit_code == 1 and "empty or short" in result.output
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor", "--fix"])
    assert result.exit_code == 0, result.output
    assert "fixed: the empty or short MCP token" in result.output
    assert len(token.read_text().strip()) >= 32 and token.stat().st_mode & 0o077 == 0

    token.chmod(0o644)
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor", "--json"])
    report = json.loads(result.output)
    assert not report["ok"] and any("readable by others" in line for line in report["lines"])
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor", "--fix"])
    assert "0600" in result.output and token.stat().st_mode & 0o077 == 0
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor"])
    assert result.exit_code == 0 and "present, readable only by you" in result.output

    (project / ".kenning" / "config.toml").write_text("[mcp.http]\nmax_in_flight = 0\n")
    result = CliRunner().invoke(cli, ["-C", str(project), "doctor"])
    assert result.exit_code == 1
    assert "mcp http settings: mcp.http.max_in_flight must be a positive" in result.output


def test_a_request_past_its_deadline_is_cut_off_and_the_server_serves_on(
    project: Path, kenning_home: Path, tmp_path: Path
) -> None:
    (project / ".kenning" / "config.toml").write_text("[mcp.http]\nrequest_timeout = 0.2\n")
    server = start_http_server(project, kenning_home, tmp_path / "deadline.log")
    try:
        session = RawSession(server)
        slow = "add retries to the webhook sender and keep the ledger in cents " * 300
        try:
            status, _, body = session.call(None, 1, "get_context", {"request": slow})
        except (http.client.IncompleteRead, http.client.RemoteDisconnected):
            status, body = 0, None  # the answer had started: the connection was closed
        assert status in (0, 504), (status, str(body)[:300])
        if status == 504:
            assert "not answered within 0.2 s" in body["error"]["message"]
        status, _, body = session.post(None, {"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert status == 200 and body["result"] == {}
        assert server.process.poll() is None
        assert "Traceback" not in server.stderr_path.read_text(errors="replace")
    finally:
        stop(server.process)
