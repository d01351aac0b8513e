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
pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed (apt-get install strace)")

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
        [STRACE or "strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace),
         sys.executable, "-m", "kenning", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=600, check=True,
    )
    return trace


def test_the_trace_parser_catches_a_real_outbound_connect(tmp_path: Path) -> None:
    trace = tmp_path / "probe.strace"
    code = ("import socket; s = socket.socket(); s.settimeout(0.2)\n"
            "try: s.connect(('192.0.2.1', 9))\nexcept OSError: pass")
    subprocess.run([STRACE or "strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace),
                    sys.executable, "-c", code], check=True, timeout=60)
    assert egress(trace), "a connect() to 192.0.2.1 must be flagged"


def test_index_brief_search_remember_stay_on_the_machine(sample: Path, tmp_path: Path) -> None:
    traces = [
        run_traced(tmp_path, "index", ["-C", str(sample), "index"]),
        run_traced(tmp_path, "brief", ["-C", str(sample), "brief", "add retries to the webhook sender", "--json"]),
        run_traced(tmp_path, "search", ["-C", str(sample), "search", "ledger entries", "--json"]),
        run_traced(tmp_path, "remember", ["-C", str(sample), "remember", "Deploys freeze on Fridays", "--kind", "rule"]),
    ]
    for trace in traces:
        assert trace.exists()
        assert egress(trace) == [], f"{trace.name} reached off the machine"
