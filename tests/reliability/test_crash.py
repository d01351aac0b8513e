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


def _children(pid: int) -> list[int]:
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat_file.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped (a dead worker holds no lock)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_killing_the_indexer_takes_its_workers_along(tmp_path: Path, kenning_home: Path) -> None:
    """A large run prepares files in forked workers, which hold a copy of the write lock: an
    orphaned worker kept it, and the next `kenning index` waited ten minutes."""
    import pytest

    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find the workers")
    root = tmp_path / "big"
    for n in range(900):
        folder = root / f"pkg{n % 9}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def handler_{n}_{m}(value):\n    return value + {m}\n\n" for m in range(40)
        )
        (folder / f"mod_{n}.py").write_text(body)
    env = {**os.environ, "KENNING_HOME": str(kenning_home)}
    proc = kenning("-C", str(root), "index", "--no-vectors", env=env)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while not workers and proc.poll() is None and time.monotonic() < deadline:
        workers = _children(proc.pid)
        time.sleep(0.01)
    # 900 files of 40 definitions take seconds to prepare: no worker seen means the run did
    # not prepare in parallel at all.
    assert workers, f"no worker process seen (exit {proc.poll()}): {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    gone_by = time.monotonic() + 15
    while any(_running(w) for w in workers) and time.monotonic() < gone_by:
        time.sleep(0.05)
    alive = [w for w in workers if _running(w)]
    assert not alive, f"workers outlived the indexer: {alive}"
    done = subprocess.run(
        [sys.executable, "-m", "kenning", "-C", str(root), "index", "--json", "--no-vectors"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # an orphan holding the lock made this wait 600 s, then fail
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files_seen"] == 900
