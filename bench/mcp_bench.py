"""Figures for issue 5: the MCP server's start-up, get_context round trips, and memory.

    python bench/mcp_bench.py [--project examples/tidewater] [--launches 7] [--calls 60]
                              [--no-vectors] [--out bench/results/mcp.json]

On a temp copy of the project (indexed first, with vectors unless --no-vectors):

- launch → initialize answered, and launch → tools/list answered ("ready"): `kenning mcp` is
  started, sends nothing until the client's `initialize` arrives (sent at once), and each time is
  measured from the spawn. With the early handshake (the default) and without it
  (KENNING_MCP_FAST_HANDSHAKE=0), `--launches` times each.
- get_context round trips over stdio and over streamable HTTP (with the bearer token, one
  keep-alive connection): `--calls` requests from the project's demo requests after 3 warm-up
  calls; p50/p99 with the index re-check every 2 s (the default) and before every request
  (`--fresh-after 0`), whose difference is the cost of the re-check; the server's own figure for
  the re-check (`fresh_check_ms` in the structured result) is reported too.
- server RSS (VmRSS now and VmHWM peak, from /proc) after the runs.

The clients are minimal JSON-RPC writers (no SDK), so the figures are the server's and the
transport's, not a client library's. The machine's load average is recorded with the results.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kenning.bench.mcp_client import INIT, INITIALIZED, PROTOCOL, StdioServer, rss_mb
from kenning.bench.mcp_client import get_context as call
from kenning.bench.mcp_client import kenning_command as kenning

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(pct(values, 0.5), 2),
        "p99": round(pct(values, 0.99), 2),
        "mean": round(statistics.fmean(values), 2),
        "max": round(max(values), 2),
    }


# ---- stdio -----------------------------------------------------------------------------------


def launch_times(
    project: Path, env: dict[str, str], flags: list[str], launches: int, request: str
) -> dict[str, Any]:
    """Per launch: initialize answered, tools/list answered, and (early handshake only) the
    first get_context sent right after tools/list and after a 3 s pause (the warm-up's work)."""
    out: dict[str, Any] = {}
    for label, fast in (("early_handshake", "1"), ("sdk_handshake", "0")):
        init_ms: list[float] = []
        ready_ms: list[float] = []
        first_ms: list[float] = []
        for n in range(launches):
            server = StdioServer(project, {**env, "KENNING_MCP_FAST_HANDSHAKE": fast}, *flags)
            server.send(INIT)
            server.answer(0)
            init_ms.append((time.perf_counter() - server.started) * 1000)
            server.send(INITIALIZED)
            server.send({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            server.answer(1)
            ready_ms.append((time.perf_counter() - server.started) * 1000)
            if fast == "1" and n < 2:
                # n == 0: at once, racing the warm-up; n == 1: after a pause, warmed.
                time.sleep(3.0 * n)
                started = time.perf_counter()
                server.send(call(2, request))
                server.answer(2)
                first_ms.append((time.perf_counter() - started) * 1000)
            server.close()
        out[label] = {"initialize_ms": summary(init_ms), "tools_list_ms": summary(ready_ms)}
        if first_ms:
            out[label]["first_get_context_ms"] = {
                "at_once": round(first_ms[0], 1),
                "after_3s": round(first_ms[-1], 1),
            }
    return out


def stdio_round_trips(
    project: Path, env: dict[str, str], flags: list[str], requests: list[str], calls: int
) -> dict[str, Any]:
    server = StdioServer(project, env, *flags)
    server.send(INIT)
    server.answer(0)
    server.send(INITIALIZED)
    times: list[float] = []
    checks: list[float] = []
    briefs: list[float] = []
    for n in range(calls + 3):
        started = time.perf_counter()
        server.send(call(n + 10, requests[n % len(requests)]))
        reply = server.answer(n + 10)
        elapsed = (time.perf_counter() - started) * 1000
        result = reply["result"]
        assert not result.get("isError"), result
        if n >= 3:
            times.append(elapsed)
            checks.append(float(result["structuredContent"].get("fresh_check_ms", 0.0)))
            briefs.append(float(result["structuredContent"].get("elapsed_ms", 0.0)))
    memory = rss_mb(server.process.pid)
    server.close()
    return {
        "round_trip_ms": summary(times),
        "brief_ms": summary(briefs),
        "fresh_check_ms": summary(checks),
        **memory,
    }


# ---- HTTP ------------------------------------------------------------------------------------


class HttpSession:
    """One MCP session over one keep-alive HTTP connection."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.path = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        # http.client sends headers and body in two writes; without TCP_NODELAY the body waits
        # for the server's delayed ACK (40 ms). Real clients (undici, httpx) set it too.
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }

    def post(self, message: dict[str, Any]) -> dict[str, Any] | None:
        self.conn.request("POST", self.path, json.dumps(message), self.headers)
        response = self.conn.getresponse()
        body = response.read().decode()
        if response.status >= 400:
            raise RuntimeError(f"HTTP {response.status}: {body[:300]}")
        session = response.getheader("mcp-session-id")
        if session:
            self.headers["mcp-session-id"] = session
            self.headers["mcp-protocol-version"] = PROTOCOL
        data = [line[5:] for line in body.splitlines() if line.startswith("data:")]
        text = data[-1] if data else body
        return json.loads(text) if text.strip() else None

    def close(self) -> None:
        self.conn.close()


def http_round_trips(
    project: Path,
    env: dict[str, str],
    home: Path,
    flags: list[str],
    requests: list[str],
    calls: int,
) -> dict[str, Any]:
    home.mkdir(parents=True, exist_ok=True)
    log = home / f"http-{len(list(home.glob('http-*.log')))}.log"
    with log.open("wb") as err:
        process = subprocess.Popen(
            [*kenning(), "-C", str(project), "mcp", "--http", "--port", "0", *flags],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    try:
        url = ""
        for _ in range(1200):
            found = re.search(r"over MCP at (http://\S+/mcp)", log.read_text(errors="replace"))
            if found:
                url = found.group(1)
                break
            time.sleep(0.05)
        if not url:
            raise RuntimeError(f"the HTTP server did not start: {log.read_text()}")
        token = (home / "mcp-token").read_text().strip()
        session = HttpSession(url, token)
        session.post(INIT)
        session.post(INITIALIZED)
        times: list[float] = []
        checks: list[float] = []
        briefs: list[float] = []
        for n in range(calls + 3):
            started = time.perf_counter()
            reply = session.post(call(n + 10, requests[n % len(requests)]))
            elapsed = (time.perf_counter() - started) * 1000
            assert reply is not None and not reply["result"].get("isError"), reply
            if n >= 3:
                times.append(elapsed)
                content = reply["result"]["structuredContent"]
                checks.append(float(content.get("fresh_check_ms", 0)))
                briefs.append(float(content.get("elapsed_ms", 0)))
        session.close()
        memory = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {
        "round_trip_ms": summary(times),
        "brief_ms": summary(briefs),
        "fresh_check_ms": summary(checks),
        **memory,
    }


# ---- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT / "examples" / "tidewater")
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--no-vectors", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "mcp.json")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="kenning-mcp-bench-"))
    try:
        project = work / args.project.name
        shutil.copytree(args.project, project, ignore=shutil.ignore_patterns("index"))
        home = work / "kenning-home"
        env = {**os.environ, "KENNING_HOME": str(home), "HF_HUB_OFFLINE": "1"}
        demo = project / ".kenning" / "demo-requests.txt"
        requests = [r for r in demo.read_text().splitlines() if r.strip()] if demo.exists() else []
        requests = requests or ["add retries to the webhook sender"]
        load_start = [round(x, 2) for x in os.getloadavg()]
        started = time.perf_counter()
        index_args = ["index", "--json"] + (["--no-vectors"] if args.no_vectors else [])
        subprocess.run(
            [*kenning(), "-C", str(project), *index_args],
            env=env,
            check=True,
            capture_output=True,
        )
        index_s = time.perf_counter() - started
        flags = ["--no-vectors"] if args.no_vectors else []
        result: dict[str, Any] = {
            "project": args.project.name,
            "vectors": not args.no_vectors,
            "index_seconds": round(index_s, 1),
            "launch": launch_times(project, env, flags, args.launches, requests[0]),
        }
        for fresh in ("2", "0"):
            key = "default" if fresh == "2" else "recheck_every_request"
            result.setdefault("stdio", {})[key] = stdio_round_trips(
                project, env, [*flags, "--fresh-after", fresh], requests, args.calls
            )
            result.setdefault("http", {})[key] = http_round_trips(
                project, env, home, [*flags, "--fresh-after", fresh], requests, args.calls
            )
        result["machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_start": load_start,
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        }
        result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\nwritten to {args.out}")
    return 0


def table(result: dict[str, Any]) -> str:
    launch = result["launch"]
    rows = [
        (
            "launch → initialize answered (early handshake)",
            launch["early_handshake"]["initialize_ms"],
        ),
        (
            "launch → tools/list answered (early handshake)",
            launch["early_handshake"]["tools_list_ms"],
        ),
        ("launch → initialize answered (SDK handshake)", launch["sdk_handshake"]["initialize_ms"]),
    ]
    for transport in ("stdio", "http"):
        for key, label in (
            ("default", "re-check every 2 s"),
            ("recheck_every_request", "re-check each call"),
        ):
            rows.append(
                (f"get_context over {transport} ({label})", result[transport][key]["round_trip_ms"])
            )
    rows.extend(
        (f"  of which the brief itself ({t})", result[t]["default"]["brief_ms"])
        for t in ("stdio", "http")
    )
    rows.append(
        (
            "index re-check inside the server",
            result["stdio"]["recheck_every_request"]["fresh_check_ms"],
        )
    )
    lines = [f"{'measure (ms)':<52} {'p50':>8} {'p99':>8} {'n':>4}", "-" * 75]
    lines += [f"{name:<52} {s['p50']:>8.1f} {s['p99']:>8.1f} {s['n']:>4}" for name, s in rows]
    lines.append("-" * 75)
    for transport in ("stdio", "http"):
        mem = result[transport]["default"]
        lines.append(
            f"server RSS over {transport}: {mem['rss_mb']:.0f} MB now, {mem['peak_rss_mb']:.0f} MB peak"
        )
    first = launch.get("early_handshake", {}).get("first_get_context_ms")
    if first:
        lines.append(
            f"first get_context after launch: {first['at_once']:.0f} ms at once, "
            f"{first['after_3s']:.0f} ms after 3 s (the warm-up's work)"
        )
    machine = result["machine"]
    lines.append(
        f"vectors: {result['vectors']} · index built in {result['index_seconds']} s · "
        f"{machine['cpus']} CPUs · load average {machine['load_average_start']} → "
        f"{machine['load_average_end']}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
