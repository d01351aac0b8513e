"""Reliability figures for issue 9: concurrent writers, crash trials, egress, HTTP load, fuzz.

    python bench/stress.py [--writers 8] [--per-writer 200] [--crash-trials 50]
                           [--http-seconds 5] [--only http,fuzz] [--out bench/results/stress.json]

Prints a table and writes JSON (with --only, the other sections already in the file are kept).
Every figure is counted, not assumed:
- writes: N processes each `remember` M memories (CLI processes and in-process store writers mixed)
  while another process re-indexes in a loop and a third builds briefs; then every file must
  parse, every id must be unique and indexed, and none may be missing;
- crash trials: `index` and `remember` killed with SIGKILL at random points (seeded), then the
  next `index` must succeed and the store must read without problems;
- egress: the connect() calls of index + brief + search under strace that leave loopback;
- http: a real `kenning mcp --http` on loopback, clients (one session and keep-alive connection
  each) alternating get_context and search with the bearer token, at 1, 2, 4 and 8 at once for a
  bounded time each; requests/s, p50 and p99 per step and the highest rate held at p99 <= 100 ms;
  then a flood past the server's limit on requests at once, which must get 503s, not errors;
- fuzz: the seeded fuzz tests (pytest), cases run and failures per surface.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "tidewater"


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kenning", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _writer(args: tuple[str, str, int, int]) -> tuple[int, int]:
    """One writer process: half its memories through the CLI, half through the library."""
    project, home, n, count = args
    os.environ["KENNING_HOME"] = home
    from kenning.workspace import Workspace

    ws = Workspace.open(project)
    attempted = landed = 0
    for i in range(count):
        text = f"Writer {n} memory {i}: keep batch {i % 7} of queue {n} idempotent"
        attempted += 1
        if i % 2:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "kenning",
                    "-C",
                    project,
                    "remember",
                    text,
                    "--kind",
                    "note",
                    "--on-duplicate",
                    "keep",
                ],
                capture_output=True,
                text=True,
                env={**os.environ},
            )
            landed += done.returncode == 0
        else:
            # The texts repeat a template on purpose: duplicates are kept, the point is concurrency.
            ws.store.add(text, "note", source=f"stress-{n}", on_duplicate="keep")
            landed += 1
    return attempted, landed


def concurrency(work: Path, writers: int, per_writer: int) -> dict[str, object]:
    project = work / "concurrent"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("index"))
    home = str(work / "home")
    env = {**os.environ, "KENNING_HOME": home}
    stop = time.monotonic() + 3600
    indexer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom kenning.workspace import Workspace\n"
            f"ws = Workspace.open({str(project)!r})\nn = 0\n"
            f"while time.monotonic() < {stop} and not __import__('os').path.exists({str(work / 'stop')!r}):\n"
            "    ws.index(embed=False); n += 1\nprint(n)",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    briefer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom kenning.workspace import Workspace\n"
            f"ws = Workspace.open({str(project)!r})\nn = 0\n"
            f"while not __import__('os').path.exists({str(work / 'stop')!r}):\n"
            "    ws.brief('add retries to the webhook sender', use_dense=False); n += 1\nprint(n)",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        results = pool.map(_writer, [(str(project), home, n, per_writer) for n in range(writers)])
    seconds = time.perf_counter() - started
    (work / "stop").touch()
    index_runs = int((indexer.communicate()[0] or "0").strip() or 0)
    briefs = int((briefer.communicate()[0] or "0").strip() or 0)
    os.environ["KENNING_HOME"] = home
    from kenning.memory import MemoryStore
    from kenning.workspace import Workspace

    store = MemoryStore(project / ".kenning" / "memories", Path(home) / "memories")
    notes = [m for m in store.all(kind="note") if m.title.startswith("Writer ")]
    ws = Workspace.open(project)
    ws.index(embed=False)
    indexed = {r[0] for r in ws.db.execute("SELECT ref FROM chunks WHERE kind = 'note'")}
    attempted = sum(a for a, _ in results)
    landed = sum(w for _, w in results)
    return {
        "writers": writers,
        "attempted": attempted,
        "landed": landed,
        "files": len(notes),
        "unique_ids": len({m.id for m in notes}),
        "indexed": len(indexed & {m.id for m in notes}),
        "lost": attempted - len(notes),
        "torn": len(store.problems),
        "seconds": round(seconds, 1),
        "index_runs_meanwhile": index_runs,
        "briefs_meanwhile": briefs,
    }


def crashes(work: Path, trials: int, seed: int = 1) -> dict[str, object]:
    rng = random.Random(seed)
    project = work / "crash"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("index"))
    env = {**os.environ, "KENNING_HOME": str(work / "crash-home")}
    recovered = 0
    killed = 0
    for trial in range(trials):
        if trial % 2:
            proc = _cli("-C", str(project), "index", "--no-vectors", env=env)
        else:
            proc = _cli(
                "-C",
                str(project),
                "remember",
                f"Crash trial {trial} decision",
                "--kind",
                "decision",
                env=env,
            )
        deadline = time.monotonic() + rng.uniform(0.05, 1.0)
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.communicate()
        check = subprocess.run(
            [
                sys.executable,
                "-m",
                "kenning",
                "-C",
                str(project),
                "index",
                "--json",
                "--no-vectors",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        ok = check.returncode == 0 and json.loads(check.stdout).get("problems") == []
        recovered += ok
    return {"trials": trials, "killed_mid_run": killed, "recovered": recovered}


def egress(work: Path) -> dict[str, object]:
    if shutil.which("strace") is None:
        return {"checked": False, "reason": "strace not installed"}
    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from test_egress import egress as parse  # the same parser the test suite uses

    project = work / "egress"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("index"))
    env = {**os.environ, "KENNING_HOME": str(work / "egress-home")}
    attempts = 0
    for name, args in (
        ("index", ["index"]),
        ("brief", ["brief", "add retries", "--json"]),
        ("search", ["search", "ledger"]),
    ):
        trace = work / f"{name}.strace"
        subprocess.run(
            [
                "strace",
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
                str(project),
                *args,
            ],
            env=env,
            capture_output=True,
            check=True,
        )
        attempts += len(parse(trace))
    return {"checked": True, "commands": 3, "egress_attempts": attempts}


# ---- HTTP load ---------------------------------------------------------------------------------

HTTP_STEPS = (1, 2, 4, 8)
P99_TARGET_MS = 100.0


class McpHttpClient:
    """One MCP session over one keep-alive connection: initialize, then tools/call."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        self.next_id = 0
        status, head, _ = self.post(
            {
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "stress", "version": "0"},
                },
            }
        )
        if status != 200:
            raise RuntimeError(f"initialize answered {status}")
        self.headers["mcp-session-id"] = head["mcp-session-id"]
        self.headers["mcp-protocol-version"] = "2025-06-18"
        self.post({"method": "notifications/initialized"}, request=False)

    def post(
        self, message: dict[str, Any], request: bool = True
    ) -> tuple[int, dict[str, str], Any]:
        body = {"jsonrpc": "2.0", **message}
        if request:
            self.next_id += 1
            body["id"] = self.next_id
        self.conn.request("POST", "/mcp", json.dumps(body), self.headers)
        response = self.conn.getresponse()
        raw = response.read().decode()
        head = {k.lower(): v for k, v in response.getheaders()}
        if "data:" in raw:
            raw = next(line[5:] for line in raw.splitlines() if line.startswith("data:"))
        try:
            return response.status, head, json.loads(raw) if raw.strip() else None
        except ValueError:
            return response.status, head, raw

    def call(self, tool: str, arguments: dict[str, Any]) -> tuple[int, bool]:
        """(HTTP status, whether the tool answered without error)."""
        status, _, body = self.post(
            {"method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        )
        ok = (
            status == 200
            and isinstance(body, dict)
            and "result" in body
            and not body["result"].get("isError", False)
        )
        return status, ok

    def close(self) -> None:
        self.conn.close()


def _request_texts() -> list[str]:
    """Varied requests (the intent set's, then the sample's demo ones), so no cache answers."""
    rows = (ROOT / "bench" / "data" / "intents.jsonl").read_text().splitlines()
    texts = [json.loads(row)["text"] for row in rows if row.strip()]
    demo = (SAMPLE / ".kenning" / "demo-requests.txt").read_text().splitlines()
    return texts + [t for t in demo if t.strip()]


def _calls(requests: list[str]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for text in requests:
        out.append(("get_context", {"request": text}))
        out.append(("search", {"query": " ".join(text.split()[:4])}))
    return out


def _load_step(
    address: tuple[str, int, str], clients: int, seconds: float, max_requests: int
) -> dict[str, Any]:
    """`clients` threads calling as fast as answers come back, for `seconds` or `max_requests`."""
    calls = _calls(_request_texts())
    sessions = [McpHttpClient(*address) for _ in range(clients)]
    for n, session in enumerate(sessions):  # warm: each session's first call is not timed
        session.call(*calls[n % len(calls)])
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failed = 0
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)
    stop = {"at": 0.0}

    def run(n: int, session: McpHttpClient) -> None:
        nonlocal failed
        gate.wait()
        i = n
        while time.perf_counter() < stop["at"]:
            with lock:
                if len(latencies) + failed >= max_requests:
                    return
            tool, arguments = calls[i % len(calls)]
            i += clients
            started = time.perf_counter()
            status, ok = session.call(tool, arguments)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if ok:
                    latencies.append(elapsed)
                else:
                    failed += 1

    threads = [
        threading.Thread(target=run, args=(n, session)) for n, session in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    stop["at"] = time.perf_counter() + seconds
    started = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for session in sessions:
        session.close()
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0

    return {
        "clients": clients,
        "requests": len(latencies) + failed,
        "failed": failed,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(ordered), 1) if ordered else 0.0,
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 1) if ordered else 0.0,
    }


def _flood(address: tuple[str, int, str], clients: int) -> dict[str, Any]:
    """`clients` sessions each sending one heavy get_context at the same moment."""
    sessions = [McpHttpClient(*address) for _ in range(clients)]
    heavy = "move the webhook retries onto a Celery task " * 300
    gate = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(session: McpHttpClient) -> None:
        gate.wait()
        status, _ = session.call("get_context", {"request": heavy})
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions:
        session.close()
    return {
        "clients": clients,
        "answered_200": statuses.count(200),
        "refused_503": statuses.count(503),
        "other": len(statuses) - statuses.count(200) - statuses.count(503),
    }


def http_load(work: Path, seconds: float, max_requests: int = 2000) -> dict[str, object]:
    project = work / "http"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("index"))
    home = work / "http-home"
    env = {**os.environ, "KENNING_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "kenning", "-C", str(project), "index", "--no-vectors"],
        env=env,
        check=True,
        capture_output=True,
    )
    log = work / "http-server.log"
    with log.open("wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "kenning", "-C", str(project), "mcp", "--http", "--port", "0"]
            + ["--no-vectors"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        found = None
        while found is None and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.1)
            found = re.search(r"http://127\.0\.0\.1:(\d+)/mcp", log.read_text())
        if found is None:
            raise RuntimeError(f"the HTTP server did not start:\n{log.read_text()[-2000:]}")
        token = (home / "mcp-token").read_text().strip()
        address = ("127.0.0.1", int(found.group(1)), token)
        load_before = os.getloadavg()[0]
        steps = [_load_step(address, n, seconds, max_requests) for n in HTTP_STEPS]
        held = [s for s in steps if s["p99_ms"] <= P99_TARGET_MS and s["failed"] == 0]
        best = max(held, key=lambda s: s["requests_per_s"]) if held else None
        flood = _flood(address, 32)
        after = _load_step(address, 1, 1.0, 20)
        return {
            "server": "kenning mcp --http --no-vectors on examples/tidewater (limits at their "
            "defaults: 16 requests at once, 64 connections)",
            "calls": f"get_context and search in turn, over {len(_request_texts())} requests",
            "steps": steps,
            "held_requests_per_s_at_p99_le_100ms": best["requests_per_s"] if best else 0.0,
            "held_at_clients": best["clients"] if best else 0,
            "flood": flood,
            "healthy_after_flood": after["failed"] == 0 and server.poll() is None,
            "server_tracebacks": log.read_text(errors="replace").count("Traceback"),
            # The machine is shared: the 1-minute load average says how quiet it was.
            "load_average_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "cpus": os.cpu_count(),
        }
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


# ---- fuzz ------------------------------------------------------------------------------------

FUZZ_TESTS = (
    "tests/reliability/test_fuzz_store.py",
    "tests/reliability/test_fuzz_mcp.py",
    "tests/reliability/test_fuzz_requests.py",
    "tests/mcp/test_mcp_http_fuzz.py",
)


def fuzz(work: Path) -> dict[str, object]:
    """Run the seeded fuzz tests; cases and failures per surface, as the tests counted them."""
    report = work / "fuzz.jsonl"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FUZZ_TESTS],
        cwd=ROOT,
        env={**os.environ, "KENNING_FUZZ_REPORT": str(report)},
        capture_output=True,
        text=True,
    )
    surfaces: dict[str, dict[str, int]] = {}
    if report.exists():
        for line in report.read_text().splitlines():
            row = json.loads(line)
            surfaces[row["surface"].removeprefix("test_")] = {
                "cases": row["cases"],
                "failures": row["failures"],
            }
    return {
        "surfaces": surfaces,
        "cases": sum(s["cases"] for s in surfaces.values()),
        "failures": sum(s["failures"] for s in surfaces.values()),
        "pytest_exit": done.returncode,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _step_line(step: dict[str, Any]) -> tuple[str, str]:
    return (
        f"http.{step['clients']} clients",
        f"{step['requests_per_s']} req/s, p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms, "
        f"{step['requests']} requests, {step['failed']} failed",
    )


def _rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for section, figures in result.items():
        for key, value in figures.items():
            if section == "http" and key == "steps":
                rows += [_step_line(step) for step in value]
            elif section == "fuzz" and key == "surfaces":
                rows += [
                    (f"fuzz.{name}", f"{counts['cases']} cases / {counts['failures']} failures")
                    for name, counts in value.items()
                ]
            else:
                rows.append((f"{section}.{key}", str(value)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=200)
    parser.add_argument("--crash-trials", type=int, default=50)
    parser.add_argument(
        "--http-seconds", type=float, default=5.0, help="Seconds per HTTP load step (4 steps)."
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"Comma-separated sections to run ({', '.join(SECTIONS)}); the rest are kept.",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "stress.json"))
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    work = Path(tempfile.mkdtemp(prefix="kenning-stress-"))
    runs = {
        "concurrency": lambda: concurrency(work, args.writers, args.per_writer),
        "crash": lambda: crashes(work, args.crash_trials),
        "egress": lambda: egress(work),
        "http": lambda: http_load(work, args.http_seconds),
        "fuzz": lambda: fuzz(work),
    }
    try:
        result = {name: runs[name]() for name in SECTIONS if name in chosen}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from rich.console import Console
    from rich.table import Table

    table = Table("figure", "value", title="kenning stress")
    for figure, value in _rows(result):
        table.add_row(figure, value)
    Console().print(table)
    out = Path(args.out)
    kept = json.loads(out.read_text()) if out.exists() else {}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**kept, **result}, indent=2) + "\n")
    ok = True
    if "concurrency" in result:
        c = result["concurrency"]
        ok = ok and c["lost"] == 0 and c["torn"] == 0
    if "crash" in result:
        ok = ok and result["crash"]["recovered"] == args.crash_trials
    if "http" in result:
        h = result["http"]
        ok = ok and bool(h["healthy_after_flood"]) and h["flood"]["other"] == 0
        ok = ok and h["server_tracebacks"] == 0
    if "fuzz" in result:
        ok = ok and result["fuzz"]["failures"] == 0 and result["fuzz"]["pytest_exit"] == 0
    return 0 if ok else 1


SECTIONS = ("concurrency", "crash", "egress", "http", "fuzz")


if __name__ == "__main__":
    sys.exit(main())
