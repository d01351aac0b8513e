"""A minimal MCP client over stdio for benchmarks: `kenning mcp` as a child process spoken to
line by line with JSON-RPC, so the figures are the server's and the transport's, not a client
library's."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROTOCOL = "2025-06-18"
INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "kenning-bench", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def kenning_command() -> list[str]:
    script = Path(sys.executable).parent / "kenning"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kenning"]


def get_context(n: int, request: str) -> dict[str, Any]:
    """A tools/call of get_context with id `n`."""
    return {
        "jsonrpc": "2.0",
        "id": n,
        "method": "tools/call",
        "params": {"name": "get_context", "arguments": {"request": request}},
    }


def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, from /proc (zeros where there is none)."""
    fields: dict[str, float] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


class StdioServer:
    """`kenning mcp` as a child process spoken to line by line."""

    def __init__(self, project: Path, env: dict[str, str], *args: str) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [*kenning_command(), "-C", str(project), "mcp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def answer(self, request_id: int) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the server closed stdout")
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == request_id:
                return message

    def handshake(self) -> None:
        self.send(INIT)
        self.answer(0)
        self.send(INITIALIZED)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
