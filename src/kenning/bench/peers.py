"""Peers run side by side with kenning on the same data: basic-memory and aider's repo map.

A peer is driven out of process, in its own venv, over JSON lines: `BasicMemory` starts
`bench/peers/basic_memory.py` under basic-memory's Python, `AiderRepoMap` starts
`bench/peers/aider_repomap.py` under aider's. Neither is ever a kenning dependency;
`sh bench/peers/setup_basic_memory.sh` and `sh bench/peers/setup_aider.sh` install them into a
cache folder (or point `BASIC_MEMORY_VENV` / `AIDER_VENV` at an existing venv).

basic-memory answers both protocols (LoCoMo turns as notes, repository files as documents).
aider's repo map ranks repository files only, so it is a files-touched peer and nothing else.
Other local peers were checked and left out: mem0 needs an LLM API key or a hub-downloaded
embedder, so it cannot run offline.
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
AIDER_DRIVER = REPO_ROOT / "bench" / "peers" / "aider_repomap.py"


class PeerUnavailable(KenningError):
    """A peer is not installed (the message says how to install it)."""


def _venv(variable: str, folder: str) -> Path:
    env = os.environ.get(variable)
    if env:
        return Path(env).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "kenning-bench" / folder


def basic_memory_venv() -> Path:
    """basic-memory's venv: `BASIC_MEMORY_VENV`, else the bench cache folder."""
    return _venv("BASIC_MEMORY_VENV", "basic-memory")


def aider_venv() -> Path:
    """aider's venv: `AIDER_VENV`, else the bench cache folder."""
    return _venv("AIDER_VENV", "aider")


def _installed_python(label: str, venv: Path, driver: Path, setup: str, variable: str) -> Path:
    """The Python of a peer's venv, with its driver script present.

    Raises:
        PeerUnavailable: either is missing (the message says how to install the peer).
    """
    python = venv / "bin" / "python"
    if not python.exists() or not driver.is_file():
        raise PeerUnavailable(
            f"{label} is not installed in {venv}: run `sh bench/peers/{setup}` from a kenning "
            f"checkout (or set {variable})"
        )
    return python


class _Driver:
    """A peer's driver script under the peer's own Python, spoken to in JSON lines."""

    def __init__(
        self, label: str, python: Path, script: Path, env: dict[str, str], log: Path
    ) -> None:
        self.label = label
        self._log = log.open("w")
        self._proc = subprocess.Popen(
            [str(python), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )

    def call(self, **request: Any) -> dict[str, Any]:
        """Send one request, return its answer.

        Raises:
            PeerUnavailable: the driver has exited (its log says why).
            KenningError: the peer answered with an error.
        """
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise PeerUnavailable(f"{self.label}'s driver exited; see {self._log.name}")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise KenningError(f"{self.label}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self.call(op="quit")
            except (KenningError, OSError, ValueError):
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()
        self._log.close()


class BasicMemory:
    """basic-memory 0.24.1 over its own tool functions, text (FTS) search only."""

    name = "basic-memory"
    search_mode = "text (FTS); its semantic mode cannot load offline here"

    def __init__(self, workdir: Path, venv: Path | None = None) -> None:
        venv = venv or basic_memory_venv()
        python = _installed_python(
            "basic-memory", venv, DRIVER, "setup_basic_memory.sh", "BASIC_MEMORY_VENV"
        )
        workdir.mkdir(parents=True, exist_ok=True)
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        self._driver = _Driver(
            "basic-memory",
            python,
            DRIVER,
            {
                "HOME": str(home),
                "BASIC_MEMORY_BENCH_ROOT": str(workdir / "projects"),
                "BASIC_MEMORY_LOG_LEVEL": "WARNING",
                "HF_HUB_OFFLINE": "1",
            },
            workdir / "basic-memory.log",
        )
        self._call = self._driver.call
        self._projects: set[str] = set()
        self._files: dict[str, str] = {}
        self.ingest_seconds = 0.0
        self.ingested = 0
        self.errors: list[str] = []
        self._title_of: dict[str, str] = {}

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
        self._driver.close()


class AiderRepoMap:
    """aider 0.86.2's repo map ranking a repository's files for a message; files-touched only.

    Ranks the way aider's Coder does for a chat message with no files in the chat (see the
    driver's docstring for what is shimmed): tree-sitter tags, the message's file and
    identifier mentions, PageRank, the default 1,024-token map. Tokens are kenning's count of
    the map text aider would send; aider's own (cl100k_base) count is in `stats()`.
    """

    name = "aider-repomap"
    search_mode = "tree-sitter tags + PageRank (aider 0.86.2 RepoMap, no files in the chat)"

    def __init__(self, workdir: Path, venv: Path | None = None) -> None:
        venv = venv or aider_venv()
        python = _installed_python("aider", venv, AIDER_DRIVER, "setup_aider.sh", "AIDER_VENV")
        workdir.mkdir(parents=True, exist_ok=True)
        self._driver = _Driver(
            "aider-repomap",
            python,
            AIDER_DRIVER,
            {
                "AIDER_BENCH_CACHE": str(workdir / "tags"),
                "AIDER_ANALYTICS": "false",
                "AIDER_CHECK_UPDATE": "false",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "HF_HUB_OFFLINE": "1",
                "PYTHONHASHSEED": "0",  # aider lists untagged files in set order: keep it stable
            },
            workdir / "aider-repomap.log",
        )
        self._call = self._driver.call
        self.sync_seconds: list[float] = []
        self.rewritten = 0
        self.aider_tokens: list[int] = []
        self.empty_maps = 0

    def sync_files(self, root: Path, paths: Sequence[str]) -> None:
        answer = self._call(op="sync", root=str(root.resolve()), files=list(paths))
        self.sync_seconds.append(float(answer.get("seconds", 0.0)))
        self.rewritten += int(answer.get("rewritten", 0))

    def rank_files(self, query: str, k: int) -> tuple[list[str], int]:
        answer = self._call(op="rank", query=query, k=k)
        text = str(answer.get("map") or "")
        self.aider_tokens.append(int(answer.get("map_tokens") or 0))
        self.empty_maps += not text
        return [str(p) for p in answer.get("paths", [])], count_tokens(text)

    def stats(self) -> dict[str, Any]:
        later = self.sync_seconds[1:]
        return {
            "search_mode": self.search_mode,
            "map_budget": 1024,
            "map_tokens_cl100k_mean": round(sum(self.aider_tokens) / len(self.aider_tokens), 1)
            if self.aider_tokens
            else None,
            "empty_maps": self.empty_maps,
            "tagging_first_s": round(self.sync_seconds[0], 2) if self.sync_seconds else None,
            "tagging_incremental_mean_s": round(sum(later) / len(later), 3) if later else None,
            "files_retagged_after_checkout": self.rewritten,
        }

    def close(self) -> None:
        self._driver.close()
