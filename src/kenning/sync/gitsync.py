"""`kenning sync`: the personal memory store as a git repository, merged by memory, never lossy.

The personal store (`$KENNING_HOME/memories`) becomes a git repository on first use, on branch
`main`. One sync:

1. finishes an interrupted sync, if the journal says one was cut short (see below);
2. commits local changes (under the store lock, so no half-written memory is committed);
3. fetches the remote (any git URL: a path, a bare repo on a USB stick, ssh, https);
4. fast-forwards, or merges memory by memory (`kenning.sync.merge`): the merge commit is built
   with git plumbing in a private index, without touching the files;
5. moves `main` to the result and updates the files (journalled), then pushes; a push that
   lost a race with another machine goes back to 3.

Crash safety: the journal (`.git/kenning-sync.json`, written before `main` moves) records the
old and new commits. A sync killed after `main` moved finishes the file update on the next run:
a file still holding the old version gets the new one, a file the user changed meanwhile is kept
(and committed by that run). Killed before, nothing changed but unreferenced git objects. An
unreachable remote changes nothing but the local commit: the message says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning._fs import atomic_replace, file_lock
from kenning.sync.errors import RemoteUnreachable, SyncError
from kenning.sync.merge import ConflictPolicy, MergeResult, merge_trees

__all__ = ["GitStore", "SyncReport", "sync_personal"]

BRANCH = "main"
REMOTE = "origin"
JOURNAL = "kenning-sync.json"
GITIGNORE = "# kenning's lock and temp files\n.lock\n.*.tmp\n"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_MAX_ROUNDS = 5


@dataclass
class SyncReport:
    """What one sync did; the CLI renders it."""

    folder: Path
    remote: str | None = None
    committed: int = 0
    received: int = 0
    removed: int = 0
    merged: bool = False
    fast_forward: bool = False
    pushed: bool = False
    resumed: bool = False
    pairs: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["folder"] = str(self.folder)
        return data


class GitStore:
    """A folder of memory files under git, synced with one remote branch."""

    def __init__(self, folder: Path, *, timeout: float = 120.0) -> None:
        self.folder = folder
        self.timeout = timeout
        self.git_dir = folder / ".git"
        self._ident: list[str] | None = None

    # ---- running git ---------------------------------------------------------------------

    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANG="C")
        # Never wait for a password or a host-key prompt: an unreachable remote must fail fast.
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=15")
        if extra:
            env.update(extra)
        return env

    def git(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git in the store; raise SyncError with git's message when `check` and it fails."""
        cmd = ["git", "-C", str(self.folder), "-c", "core.quotepath=off", *self._identity(), *args]
        try:
            done = subprocess.run(
                cmd,
                input=input,
                capture_output=True,
                timeout=self.timeout,
                env=self._env(env),
                check=False,
            )
        except FileNotFoundError:
            raise SyncError("git is not installed; install git to use `kenning sync`") from None
        except subprocess.TimeoutExpired:
            raise SyncError(
                f"git {args[0]} took longer than {self.timeout:.0f}s; local memories are intact"
            ) from None
        if check and done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or done.stdout.decode()
            raise SyncError(f"git {args[0]} failed: {message}")
        return done

    def out(self, *args: str, **kwargs: Any) -> str:
        return self.git(*args, **kwargs).stdout.decode("utf-8", "surrogateescape").strip()

    def _identity(self) -> list[str]:
        # A fresh machine may have no git identity: commit as kenning@host rather than fail.
        if self._ident is None and self.git_dir.is_dir():
            probe = subprocess.run(
                ["git", "-C", str(self.folder), "config", "user.email"],
                capture_output=True,
                env=self._env(),
                check=False,
            )
            self._ident = []
            if not probe.stdout.strip() and not os.environ.get("GIT_AUTHOR_EMAIL"):
                host = socket.gethostname() or "localhost"
                self._ident = ["-c", "user.name=kenning", "-c", f"user.email=kenning@{host}"]
        return self._ident or []

    def rev(self, ref: str) -> str | None:
        done = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return done.stdout.decode().strip() or None if done.returncode == 0 else None

    # ---- set-up --------------------------------------------------------------------------

    def ensure_repo(self) -> bool:
        """Make the folder a git repository on `main` (True when it was created now)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        created = False
        if not self.git_dir.exists():
            self.git("init", "-q")
            self.git("symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")
            created = True
        # Ignore rules live in .git/info/exclude, not a committed .gitignore: a new machine's store
        # then has nothing to commit, and its first sync is a plain fast-forward.
        exclude = self.git_dir / "info" / "exclude"
        if GITIGNORE not in (exclude.read_text() if exclude.exists() else ""):
            atomic_replace(exclude, GITIGNORE)
        return created

    def set_remote(self, url: str) -> None:
        remotes = self.out("remote").split()
        if REMOTE in remotes:
            self.git("remote", "set-url", REMOTE, url)
        else:
            self.git("remote", "add", REMOTE, url)

    def remote_url(self) -> str | None:
        done = self.git("remote", "get-url", REMOTE, check=False)
        return done.stdout.decode().strip() or None if done.returncode == 0 else None

    def _clear_stale_locks(self) -> None:
        # A sync killed inside `git commit` leaves index.lock behind, and every later git call
        # fails on it. We hold the sync lock, so no kenning sync owns it; a person running git in
        # this folder by hand at this very second would, so only remove one a few seconds old.
        lock = self.git_dir / "index.lock"
        with contextlib.suppress(OSError):
            if time.time() - lock.stat().st_mtime > 5:
                lock.unlink()

    # ---- the steps -----------------------------------------------------------------------

    def commit_local(self, message: str) -> int:
        """Commit every change in the folder; returns the number of files in the commit."""
        with file_lock(self.folder / ".lock"):
            self.git("add", "-A", ".")
            names = self.out("diff", "--cached", "--name-only", "-z").split("\0")
            changed = [n for n in names if n]
            if changed:
                self.git("commit", "-q", "--no-verify", "-m", message)
        return len(changed)

    def fetch(self) -> str | None:
        """Fetch the remote branch; its commit, or None when the remote has no `main` yet."""
        url = self.remote_url()
        done = self.git("fetch", "--quiet", "--no-tags", REMOTE, check=False)
        if done.returncode != 0:
            raise RemoteUnreachable(
                f"cannot reach the sync remote {url}: {_last_line(done.stderr)}. Your memories "
                "are committed locally and will be pushed by the next `kenning sync`."
            )
        return self.rev(f"refs/remotes/{REMOTE}/{BRANCH}")

    def push(self) -> bool:
        """Push `main`; False when the remote moved meanwhile (fetch and merge again)."""
        done = self.git("push", "--quiet", REMOTE, f"HEAD:refs/heads/{BRANCH}", check=False)
        if done.returncode == 0:
            return True
        err = done.stderr.decode("utf-8", "replace")
        if "rejected" in err or "non-fast-forward" in err or "fetch first" in err:
            return False
        raise RemoteUnreachable(
            f"cannot push to the sync remote {self.remote_url()}: {_last_line(done.stderr)}. "
            "Your memories are merged and committed locally; run `kenning sync` again later."
        )

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.git("merge-base", "--is-ancestor", a, b, check=False).returncode == 0

    def tree(self, commit: str | None) -> dict[str, str]:
        """path → blob id of every file in `commit` (empty for None)."""
        if commit is None:
            return {}
        raw = self.git("ls-tree", "-r", "-z", "--full-tree", commit).stdout
        entries: dict[str, str] = {}
        for item in raw.split(b"\0"):
            if not item:
                continue
            meta, _, path = item.partition(b"\t")
            _mode, kind, sha = meta.decode().split()
            if kind == "blob":
                entries[path.decode("utf-8", "surrogateescape")] = sha
        return entries

    def blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The content of many blobs in one `git cat-file --batch` call."""
        wanted = sorted(set(shas))
        if not wanted:
            return {}
        raw = self.git("cat-file", "--batch", input=("\n".join(wanted) + "\n").encode()).stdout
        out: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            header_end = raw.index(b"\n", pos)
            header = raw[pos:header_end].decode().split()
            size = int(header[2])
            out[sha] = raw[header_end + 1 : header_end + 1 + size]
            pos = header_end + 1 + size + 1
        return out

    def merge_commit(
        self, ours: str, theirs: str, policy: ConflictPolicy, message: str
    ) -> tuple[str, MergeResult]:
        """Build the merge commit of `ours` and `theirs` without touching the files."""
        base = self.out("merge-base", ours, theirs, check=False) or None
        trees = [self.tree(base), self.tree(ours), self.tree(theirs)]
        # Read only what differs: paths identical on both sides never need their text.
        differing = {p for p in set(trees[1]) | set(trees[2]) if trees[1].get(p) != trees[2].get(p)}
        shas = {t[p] for t in trees for p in differing if p in t}
        texts = {
            sha: data.decode("utf-8", "surrogateescape") for sha, data in self.blobs(shas).items()
        }
        snap = [{p: texts[t[p]] for p in differing if p in t} for t in trees]
        result = merge_trees(snap[0], snap[1], snap[2], policy=policy)
        lines: list[str] = []
        for change in result.changes:
            lines += [f"0 {'0' * 40}\t{path}" for path in change.remove]
            for path, text in change.write.items():
                sha = self.out(
                    "hash-object", "-w", "--stdin", input=text.encode("utf-8", "surrogateescape")
                )
                lines.append(f"100644 {sha}\t{path}")
        index = self.git_dir / "kenning-merge.index"
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            self.git("read-tree", ours, env=env)
            if lines:
                self.git(
                    "update-index", "--index-info", input="\n".join(lines).encode() + b"\n", env=env
                )
            tree = self.out("write-tree", env=env)
        finally:
            index.unlink(missing_ok=True)
        commit = self.out("commit-tree", tree, "-p", ours, "-p", theirs, "-m", message)
        return commit, result

    # ---- moving main and the files together (journalled) ---------------------------------

    def _journal(self) -> Path:
        return self.git_dir / JOURNAL

    def advance(self, old: str | None, new: str) -> tuple[int, int, list[str]]:
        """Move `main` from `old` to `new` and update the files; (written, removed, kept)."""
        atomic_replace(self._journal(), json.dumps({"old": old, "new": new}))
        with file_lock(self.folder / ".lock"):
            self.git("update-ref", "-m", "kenning sync", "HEAD", new, old or "0" * 40)
            counts = self._update_files(old, new)
        self._journal().unlink(missing_ok=True)
        return counts

    def resume(self) -> bool:
        """Finish a sync that was cut short after `main` moved; True when there was one."""
        journal = self._journal()
        if not journal.exists():
            return False
        try:
            state = json.loads(journal.read_text())
            old, new = state.get("old"), state["new"]
        except (ValueError, KeyError, OSError):
            journal.unlink(missing_ok=True)
            return False
        if self.rev("HEAD") == new:
            with file_lock(self.folder / ".lock"):
                self._update_files(old, new, resuming=True)
        journal.unlink(missing_ok=True)
        return True

    def _update_files(
        self, old: str | None, new: str, resuming: bool = False
    ) -> tuple[int, int, list[str]]:
        before, after = self.tree(old), self.tree(new)
        paths = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        contents = self.blobs(
            [before[p] for p in paths if p in before] + [after[p] for p in paths if p in after]
        )
        written = removed = 0
        kept: list[str] = []
        for rel in paths:
            target = self.folder / rel
            old_data = contents[before[rel]] if rel in before else None
            new_data = contents[after[rel]] if rel in after else None
            try:
                current: bytes | None = target.read_bytes()
            except FileNotFoundError:
                current = None
            if current == new_data:
                continue
            if current != old_data and not (resuming and _damaged(current)):
                kept.append(rel)  # changed by the user meanwhile: keep it, commit it next time
                continue
            if new_data is None:
                target.unlink()
                removed += 1
            else:
                _write_file(target, new_data)
                written += 1
        if written or removed:
            os.sync()  # one flush for the whole update (see _write_file)
        # The index still describes the old commit: point it at the new one (files untouched).
        self.git("read-tree", "HEAD")
        self.git("update-index", "-q", "--refresh", check=False)
        return written, removed, kept


def _write_file(target: Path, data: bytes) -> None:
    # Temp file + rename: a killed process leaves the old or the new file, never half of one.
    # No fsync per file (it costs ~10 ms each; thousands on a first sync): `_update_files`
    # syncs once at the end, before the journal that would redo the update is removed.
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.sync.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _damaged(data: bytes | None) -> bool:
    """A file an OS crash may have left behind mid-update: empty, or not text."""
    if data is None:
        return False
    if not data.strip():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return b"\x00" in data


def _last_line(stderr: bytes) -> str:
    lines = [x.strip() for x in stderr.decode("utf-8", "replace").splitlines() if x.strip()]
    return lines[-1] if lines else "git gave no reason"


def sync_personal(
    folder: Path,
    remote: str | None = None,
    *,
    policy: ConflictPolicy = "auto",
    push: bool = True,
) -> SyncReport:
    """Commit, pull-merge and push the store in `folder` (see the module docstring).

    Raises:
        RemoteUnreachable: fetch or push failed; the local commit (and any merge) is kept.
        SyncError: git is missing or failed in an unexpected way.
    """
    store = GitStore(folder)
    report = SyncReport(folder=folder)
    host = socket.gethostname() or "this machine"
    store.ensure_repo()
    with file_lock(store.git_dir / "kenning-sync.lock", timeout=60):
        store._clear_stale_locks()
        report.resumed = store.resume()
        if remote:
            store.set_remote(remote)
        report.remote = store.remote_url()
        report.committed = store.commit_local(f"kenning sync from {host}")
        if report.remote is None:
            report.notes.append(
                "no sync remote yet: committed locally; pass --remote URL (a path, a bare repo, "
                "an ssh or https git URL) once"
            )
            return report
        for _round in range(_MAX_ROUNDS):
            theirs = store.fetch()
            ours = store.rev("HEAD")
            if theirs is not None and theirs != ours:
                if ours is None or store.is_ancestor(ours, theirs):
                    report.fast_forward = True
                    written, removed, kept = store.advance(ours, theirs)
                elif not store.is_ancestor(theirs, ours):
                    commit, merged = store.merge_commit(
                        ours, theirs, policy, f"kenning sync: merge {REMOTE}/{BRANCH} on {host}"
                    )
                    report.merged = True
                    report.pairs += merged.pairs
                    report.conflicts += merged.conflicts
                    written, removed, kept = store.advance(ours, commit)
                else:
                    written, removed, kept = 0, 0, []
                report.received += written
                report.removed += removed
                if kept:
                    report.notes.append(
                        f"{len(kept)} file(s) changed while syncing were kept as you left them; "
                        "the next `kenning sync` commits them"
                    )
            if not push or store.rev("HEAD") is None:
                return report
            if store.rev("HEAD") == theirs:
                return report
            if store.push():
                report.pushed = True
                return report
        raise SyncError(
            f"the remote kept moving during {_MAX_ROUNDS} sync rounds; your memories are merged "
            "locally, run `kenning sync` again"
        )
