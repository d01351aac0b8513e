"""Files touched: does the context for a commit's message hold the files that commit changed?

Given a git directory (bare or not), the suite picks recent commits that are a real change to
code (no merges, at most `max_files` files, at least one changed file with a gold extension that
already existed at the parent, a message that says something) and, oldest first, checks out each
commit's parent into one working copy (a `git clone --shared` beside the benchmark: the source
repository is never written to), indexes it (incrementally after the first: only the files
between two parents change, and the copy's own history ends at the parent, so co-change edges
never see the future), and asks each system with the commit message as the request:

- `kenning-brief`: the files of the packet's code items, in packet order (budget 2,000 tokens);
- `kenning-search`: the files of kenning's fused code search hits, in order;
- `bm25`: the plain baseline of `metrics` over whole files (the same files kenning indexed).

Gold: the changed files with a gold extension that exist at the parent (modified or deleted;
a file the commit adds cannot be retrieved from the parent). Every system ranks the same
universe, the indexed files with a gold extension: a changelog that mentions every word is not
an answer to "which Python files does this change touch". Scores: recall@1/3/5/10 and hit@k,
packet tokens, latency; grouped by how many gold files a commit has.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kenning.bench.metrics import BM25, RecallTable, words
from kenning.errors import KenningError
from kenning.tokens import count_tokens

KS = (1, 3, 5, 10)
SYSTEMS = ("bm25", "kenning-search", "kenning-brief")
Progress = Callable[[str, int, int], None]
_TRAILER = re.compile(r"^[A-Za-z-]+-by: |^Co-authored-by:|^Change-Id:|^\(cherry picked", re.I)
_NOISE = re.compile(r"^(release|bump|version|prepare|v?\d+\.\d+)\b|^merge ", re.I)
_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(KenningError):
    """A git command the benchmark needs failed."""


@dataclass(frozen=True)
class Case:
    sha: str
    parent: str
    message: str
    gold: tuple[str, ...]
    changed: int

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0][:120]


def git(git_dir: Path | None, *args: str, cwd: Path | None = None) -> str:
    """stdout of a git command on `git_dir` (or in `cwd`).

    Raises:
        GitError: with git's own message.
    """
    cmd = ["git", *(["--git-dir", str(git_dir)] if git_dir else []), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=_ENV, errors="replace")
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args[:3])} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def resolve_git_dir(path: Path) -> Path:
    """The git directory of a work tree or a bare repository.

    Raises:
        GitError: when `path` is neither.
    """
    path = path.expanduser().resolve()
    if (path / ".git").exists():
        return Path(git(None, "rev-parse", "--absolute-git-dir", cwd=path).strip())
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        return path
    raise GitError(f"{path} is not a git repository (pass a work tree or a bare .git dir)")


def clean_message(message: str, limit: int = 2000) -> str:
    """The commit message without trailers (Signed-off-by, Co-authored-by, ...)."""
    lines = [line for line in message.strip().splitlines() if not _TRAILER.match(line.strip())]
    return "\n".join(lines).strip()[:limit]


def select_commits(
    git_dir: Path,
    n: int,
    *,
    rev: str = "HEAD",
    max_files: int = 20,
    exts: Sequence[str] = (".py",),
    min_words: int = 3,
    scan: int = 3000,
) -> tuple[list[Case], Counter[str]]:
    """The `n` most recent qualifying commits, oldest first, and why the others were skipped."""
    log = git(
        git_dir,
        "log",
        rev,
        "--no-merges",
        f"-n{scan}",
        "--no-renames",
        "--name-status",
        "--format=%x00%H%x01%P%x01%B%x02",
    )
    skipped: Counter[str] = Counter()
    cases: list[Case] = []
    for record in log.split("\x00")[1:]:
        head, _, files_part = record.partition("\x02")
        sha, parents, body = (head.split("\x01") + ["", "", ""])[:3]
        parent = parents.split()[0] if parents.split() else ""
        if not parent:
            skipped["root commit"] += 1
            continue
        changes = [line.split("\t") for line in files_part.strip().splitlines() if "\t" in line]
        if len(changes) > max_files:
            skipped[f"more than {max_files} files"] += 1
            continue
        gold = sorted(
            {
                parts[-1]
                for parts in changes
                if parts[0][:1] in ("M", "D") and parts[-1].endswith(tuple(exts))
            }
        )
        if not gold:
            skipped["no changed file with a gold extension at the parent"] += 1
            continue
        message = clean_message(body)
        if len(words(message)) < min_words or _NOISE.match(message):
            skipped["message too short or a release/merge"] += 1
            continue
        cases.append(Case(sha, parent, message, tuple(gold), len(changes)))
        if len(cases) >= n:
            break
    cases.reverse()
    return cases, skipped


class WorkingCopy:
    """One checkout that moves from parent to parent (git touches only the files that differ)."""

    def __init__(self, git_dir: Path, path: Path) -> None:
        self.path = path
        git(None, "clone", "--quiet", "--shared", "--no-checkout", str(git_dir), str(path))
        (path / ".kenning").mkdir(exist_ok=True)
        (path / ".kenning" / ".gitignore").write_text("index/\n")
        exclude = path / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text(".kenning/\n")

    def checkout(self, sha: str) -> None:
        git(None, "checkout", "--quiet", "--force", "--detach", sha, cwd=self.path)
        git(None, "clean", "-qfdx", "-e", ".kenning", cwd=self.path)


class Peer(Protocol):
    """A peer ranking repository files for a request."""

    name: str

    def sync_files(self, root: Path, paths: Sequence[str]) -> None: ...

    def rank_files(self, query: str, k: int) -> tuple[list[str], int]:
        """(paths best first, tokens returned)."""
        ...


class _FileBM25:
    """BM25 over whole files, token counts cached by path and size/mtime."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[tuple[int, int], Counter[str]]] = {}

    def build(self, root: Path, paths: Sequence[str]) -> tuple[BM25, list[str]]:
        counts: list[Counter[str]] = []
        kept: list[str] = []
        for path in paths:
            full = root / path
            try:
                info = full.stat()
            except OSError:
                continue
            key = (info.st_size, info.st_mtime_ns)
            cached = self.cache.get(path)
            if cached is None or cached[0] != key:
                text = full.read_text(errors="replace")
                cached = (key, Counter(words(f"{path}\n{text}")))
                self.cache[path] = cached
            counts.append(cached[1])
            kept.append(path)
        return BM25(counts), kept


def _paths_in_order(paths: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(p for p in paths if p))


def run(
    target: Path,
    workdir: Path,
    *,
    commits: int = 50,
    max_files: int = 20,
    exts: Sequence[str] = (".py",),
    embed: bool = True,
    budget: int = 2000,
    peers: Sequence[Peer] = (),
    progress: Progress | None = None,
    keep_cases: int = 200,
) -> dict[str, Any]:
    """Run the suite on the repository at `target`; returns the JSON-ready result."""
    from kenning.engine.retrieve import CODE_KINDS
    from kenning.workspace import Workspace

    git_dir = resolve_git_dir(target)
    cases, skipped = select_commits(git_dir, commits, max_files=max_files, exts=exts)
    tables = {name: RecallTable(KS) for name in (*SYSTEMS, *(p.name for p in peers))}
    copy = WorkingCopy(git_dir, workdir / "checkout")
    bm25 = _FileBM25()
    suffixes = tuple(exts)
    index_seconds: list[float] = []
    examples: list[dict[str, Any]] = []
    ws: Workspace | None = None
    try:
        for n, case in enumerate(cases, 1):
            copy.checkout(case.parent)
            if ws is None:
                ws = Workspace.open(copy.path)
            started = time.perf_counter()
            ws.index(embed=embed)
            index_seconds.append(time.perf_counter() - started)
            group = _group(len(case.gold))
            files = [
                p
                for (p,) in ws.db.execute("SELECT path FROM documents WHERE source = 'repo'")
                if p.endswith(suffixes)
            ]
            ranked: dict[str, list[str]] = {}

            t = time.perf_counter()
            index, kept = bm25.build(copy.path, files)
            top = [kept[i] for i in index.top(words(case.message), 10)]
            ms = (time.perf_counter() - t) * 1000
            toks = sum(count_tokens((copy.path / p).read_text(errors="replace")) for p in top[:5])
            tables["bm25"].add(case.gold, top, group, toks, ms)
            ranked["bm25"] = top

            t = time.perf_counter()
            hits = ws.search(case.message, kind="code", k=50)
            ms = (time.perf_counter() - t) * 1000
            paths = _paths_in_order([h.path for h in hits if h.path.endswith(suffixes)])[:10]
            toks = sum(count_tokens(h.text) for h in hits[:10])
            tables["kenning-search"].add(case.gold, paths, group, toks, ms)
            ranked["kenning-search"] = paths

            packet = ws.brief(case.message, budget=budget, use_dense=embed)
            paths = _paths_in_order(
                [
                    path
                    for i in packet.items
                    if i.kind in CODE_KINDS and (path := i.ref.rsplit(":", 1)[0]).endswith(suffixes)
                ]
            )
            tables["kenning-brief"].add(case.gold, paths, group, packet.tokens, packet.elapsed_ms)
            ranked["kenning-brief"] = paths

            for peer in peers:
                peer.sync_files(copy.path, files)
                t = time.perf_counter()
                paths, toks = peer.rank_files(case.message, 10)
                paths = [p for p in paths if p.endswith(suffixes)]
                ms = (time.perf_counter() - t) * 1000
                tables[peer.name].add(case.gold, paths, group, toks, ms)
                ranked[peer.name] = paths
            if len(examples) < keep_cases:
                examples.append(
                    {
                        "sha": case.sha[:12],
                        "subject": case.subject,
                        "gold": list(case.gold),
                        "ranked": {k: v[:5] for k, v in ranked.items()},
                    }
                )
            if progress:
                progress("commits", n, len(cases))
    finally:
        if ws is not None:
            ws.close()
    return {
        "suite": "history",
        "repository": _repo_name(target, git_dir),
        "commits": len(cases),
        "filters": {"max_files": max_files, "gold_extensions": list(exts), "no_merges": True},
        "skipped": dict(skipped),
        "vectors": embed,
        "budget": budget,
        "index_seconds": {
            "first": round(index_seconds[0], 2) if index_seconds else 0.0,
            "incremental_mean": round(sum(index_seconds[1:]) / (len(index_seconds) - 1), 3)
            if len(index_seconds) > 1
            else 0.0,
        },
        "ks": list(KS),
        "systems": {name: table.summary() for name, table in tables.items()},
        "cases": examples,
        "peers": {p.name: p.stats() for p in peers if hasattr(p, "stats")},
    }


def _group(gold: int) -> str:
    return "1 file" if gold == 1 else ("2-3 files" if gold <= 3 else "4+ files")


def _repo_name(target: Path, git_dir: Path) -> str:
    try:
        url = git(git_dir, "config", "--get", "remote.origin.url").strip()
    except GitError:
        url = ""
    if url:
        return url.rstrip("/").removesuffix(".git").split("/")[-1]
    name = target.resolve().name
    return git_dir.parent.name if name in (".git", "repo") else name
