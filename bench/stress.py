"""Reliability figures for issue 9: concurrent writers, crash trials, fuzz, egress.

    python bench/stress.py [--writers 8] [--per-writer 200] [--crash-trials 50] [--out bench/results/stress.json]

Prints a table and writes JSON. Every figure is counted, not assumed:
- writes: N processes each `remember` M memories (CLI processes and in-process store writers mixed)
  while another process re-indexes in a loop and a third builds briefs; then every file must
  parse, every id must be unique and indexed, and none may be missing;
- crash trials: `index` and `remember` killed with SIGKILL at random points (seeded), then the
  next `index` must succeed and the store must read without problems;
- egress: the connect() calls of index + brief + search under strace that leave loopback.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=200)
    parser.add_argument("--crash-trials", type=int, default=50)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "stress.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kenning-stress-"))
    try:
        result = {
            "concurrency": concurrency(work, args.writers, args.per_writer),
            "crash": crashes(work, args.crash_trials),
            "egress": egress(work),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from rich.console import Console
    from rich.table import Table

    table = Table("figure", "value", title="kenning stress")
    for section, figures in result.items():
        for key, value in figures.items():
            table.add_row(f"{section}.{key}", str(value))
    Console().print(table)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    c = result["concurrency"]
    ok = c["lost"] == 0 and c["torn"] == 0 and result["crash"]["recovered"] == args.crash_trials
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
