"""Peers run side by side with kenning on the same data: basic-memory for now.

A peer is driven out of process, in its own venv: `BasicMemory` starts
`bench/peers/basic_memory.py` under basic-memory's Python and speaks JSON lines to it. The peer
is never a kenning dependency; `sh bench/peers/setup_basic_memory.sh` installs it into a cache
folder (or point `BASIC_MEMORY_VENV` at an existing venv). Other local peers were checked and
left out: mem0 needs an LLM API key or a hub-downloaded embedder, so it cannot run offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kenning.errors import KenningError
from kenning.tokens import count_tokens

REPO_ROOT = Path(__file__).resolve().parents[3]
DRIVER = REPO_ROOT / "bench" / "peers" / "basic_memory.py"


class PeerUnavailable(KenningError):
    """A peer is not installed (the message says how to install it)."""


def basic_memory_venv() -> Path:
    env = os.environ.get("BASIC_MEMORY_VENV")
    if env:
        return Path(env).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "kenning-bench" / "basic-memory"


class BasicMemory:
    """basic-memory 0.24.1 over its own tool functions, text (FTS) search only."""

    name = "basic-memory"
    search_mode = "text (FTS); its semantic mode cannot load offline here"

    def __init__(self, workdir: Path, venv: Path | None = None) -> None:
        venv = venv or basic_memory_venv()
        python = venv / "bin" / "python"
        if not python.exists() or not DRIVER.is_file():
            raise PeerUnavailable(
                f"basic-memory is not installed in {venv}: run "
                "`sh bench/peers/setup_basic_memory.sh` from a kenning checkout "
                "(or set BASIC_MEMORY_VENV)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        self._log = (workdir / "basic-memory.log").open("w")
        env = {
            **os.environ,
            "HOME": str(home),
            "BASIC_MEMORY_BENCH_ROOT": str(workdir / "projects"),
            "BASIC_MEMORY_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self._proc = subprocess.Popen(
            [str(python), str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        self._projects: set[str] = set()
        self._files: dict[str, str] = {}
        self.ingest_seconds = 0.0
        self.ingested = 0
        self.errors: list[str] = []
        self._title_of: dict[str, str] = {}

    def _call(self, **request: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise PeerUnavailable(f"basic-memory's driver exited; see {self._log.name}")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise KenningError(f"basic-memory: {answer.get('error')}")
        return answer

    def _project(self, key: str) -> str:
        name = "".join(c if c.isalnum() else "-" for c in key.lower()).strip("-") or "bench"
        if name not in self._projects:
            self._call(op="project", name=name)
            self._projects.add(name)
        return name

    def _write(self, project: str, notes: list[dict[str, str]], overwrite: bool = False) -> None:
        for start in range(0, len(notes), 100):
            part = notes[start : start + 100]
            answer = self._call(op="write", project=project, notes=part, overwrite=overwrite)
            self.ingest_seconds += float(answer.get("seconds", 0.0))
            errors = answer.get("errors") or []
            self.ingested += len(part) - len(errors)
            self.errors += errors

    def _search(self, project: str, query: str, k: int) -> list[dict[str, str]]:
        results: list[dict[str, str]] = self._call(
            op="search", project=project, query=query, k=k
        ).get("results", [])
        return results

    # ---- the LoCoMo peer protocol ----------------------------------------------------------

    def load_turns(self, key: str, turns: Sequence[Any]) -> None:
        project = self._project(key)
        self._write(
            project,
            [{"title": t.dia_id, "content": t.line, "directory": "turns"} for t in turns],
        )

    def search(self, key: str, query: str, k: int) -> tuple[list[str], int]:
        results = self._search(self._project(key), query, k)
        return (
            [str(r["title"]) for r in results],
            sum(count_tokens(r.get("content", "")) for r in results),
        )

    # ---- the files-touched peer protocol ---------------------------------------------------

    def sync_files(self, root: Path, paths: Sequence[str]) -> None:
        project = self._project("repository")
        changed: list[dict[str, str]] = []
        seen: dict[str, str] = {}
        for path in paths:
            try:
                text = (root / path).read_text(errors="replace")
            except OSError:
                continue
            digest = hashlib.sha1(text.encode()).hexdigest()
            seen[path] = digest
            if self._files.get(path) != digest:
                # basic-memory derives a note's file name from its title and folds "_utils.py"
                # and "utils.py" together; a short hash of the path keeps every title distinct.
                title = f"{path} {hashlib.sha1(path.encode()).hexdigest()[:6]}"
                self._title_of[title] = path
                changed.append({"title": title, "content": text, "directory": "files"})
        if changed:
            self._write(project, changed, overwrite=True)
        gone = sorted(set(self._files) - set(seen))
        if gone:
            titles = {p: t for t, p in self._title_of.items()}
            self._call(op="delete", project=project, identifiers=[titles.get(p, p) for p in gone])
        self._files = seen

    def rank_files(self, query: str, k: int) -> tuple[list[str], int]:
        results = self._search(self._project("repository"), query, k)
        return (
            list(
                dict.fromkeys(self._title_of.get(str(r["title"]), str(r["title"])) for r in results)
            ),
            sum(count_tokens(r.get("content", "")) for r in results),
        )

    def stats(self) -> dict[str, Any]:
        return {
            "search_mode": self.search_mode,
            "notes_ingested": self.ingested,
            "notes_refused": len(self.errors),
            "first_refusals": self.errors[:3],
            "ingest_ms_per_note": round(1000 * self.ingest_seconds / self.ingested, 1)
            if self.ingested
            else None,
        }

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._call(op="quit")
            except (KenningError, OSError, ValueError):
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._log.close()
