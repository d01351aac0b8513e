"""Crash safety: kill -9 at random points of `index` and `remember`; nothing is lost or torn, and
the next command repairs the index by itself. (bench/stress.py runs the long version.)"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kenning.memory import MemoryStore
from kenning.workspace import Workspace


def kenning(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kenning", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_after(proc: subprocess.Popen[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


def test_killed_index_runs_are_repaired_by_the_next_run(sample: Path, kenning_home: Path) -> None:
    env = {**os.environ, "KENNING_HOME": str(kenning_home)}
    rng = random.Random(7)
    for _ in range(8):
        kill_after(
            kenning("-C", str(sample), "index", "--no-vectors", env=env), rng.uniform(0.05, 0.9)
        )
    done = subprocess.run(
        [sys.executable, "-m", "kenning", "-C", str(sample), "index", "--json", "--no-vectors"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["problems"] == []
    ws = Workspace.open(sample)
    killed = [h.ref for h in ws.search("webhook retry backoff", k=8)]
    ws.index(rebuild=True, embed=False)
    rebuilt = [h.ref for h in ws.search("webhook retry backoff", k=8)]
    assert rebuilt == killed, (
        killed,
        rebuilt,
        [(h.ref, h.score, h.ranks) for h in ws.search("webhook retry backoff", k=8)],
    )


def test_killed_remember_never_leaves_a_torn_memory(tmp_path: Path, kenning_home: Path) -> None:
    env = {**os.environ, "KENNING_HOME": str(kenning_home)}
    rng = random.Random(11)
    landed = 0
    for n in range(10):
        proc = kenning(
            "-C",
            str(tmp_path),
            "remember",
            f"Decision number {n}: keep it simple",
            "--kind",
            "decision",
            env=env,
        )
        kill_after(proc, rng.uniform(0.0, 0.6))
        landed += proc.returncode == 0
    store = MemoryStore(tmp_path / ".kenning" / "memories", kenning_home / "memories")
    memories = store.all()
    assert store.problems == []
    assert len(memories) >= landed
    assert all(m.title.startswith("Decision number") for m in memories)


def test_a_run_killed_before_its_link_passes_is_finished_by_the_next(sample: Path) -> None:
    """The state a kill leaves after the file writes committed but before imports and mentions
    were linked: the next run (which sees no changed file) must still make those edges."""
    import sqlite3

    ws = Workspace.open(sample)
    ws.index(embed=False)
    db_path = sample / ".kenning" / "index" / "kenning.sqlite3"
    db = sqlite3.connect(db_path)
    edges = db.execute("SELECT src, dst, kind FROM edges ORDER BY 1, 2, 3").fetchall()
    assert any(kind == "import" for _, _, kind in edges)
    with db:  # what the killed run had done: its flag set, its derived edges not yet made
        db.execute("UPDATE meta SET value = '1' WHERE key = 'derived_pending'")
        db.execute("DELETE FROM edges WHERE kind IN ('import', 'mention')")
    db.close()
    again = Workspace.open(sample).index(embed=False)
    assert again.files_indexed == 0  # nothing changed on disk...
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT src, dst, kind FROM edges ORDER BY 1, 2, 3").fetchall() == edges
    assert db.execute("SELECT value FROM meta WHERE key = 'derived_pending'").fetchone() == ("0",)
    db.close()
