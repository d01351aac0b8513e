"""Who a project is, independent of where it is checked out.

Two clones of one repository, or two worktrees of one clone, are the same project: they share
project memory on a team server and carry the same provenance in an export. The identity is the
normalised URL of the repository's git remote (`origin`, else the first remote), so
`git@github.com:Acme/Tidewater.git` and `https://github.com/acme/tidewater` are one project.
Without a remote it falls back to the main work tree's path (the folder holding the common
`.git`), which worktrees of one clone share; outside git it is the folder's resolved path.

`normalize_remote` is pure; `project_identity` runs `git` (a missing git is a plain fallback,
never an error).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["ProjectIdentity", "normalize_remote", "project_identity"]

# Hosts whose paths are case-insensitive: `Acme/Repo` and `acme/repo` are one repository there.
_CASE_INSENSITIVE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})
_DEFAULT_PORTS = {"ssh": "22", "git": "9418", "http": "80", "https": "443"}
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>(?!//).+)$")


@dataclass(frozen=True)
class ProjectIdentity:
    """A project's stable identity.

    `key` is what memories are scoped by (`github.com/acme/tidewater`, or `path:/srv/repo`);
    `kind` is "remote", "git-root" or "path"; `root` is this checkout's root.
    """

    key: str
    kind: str
    root: Path
    remote: str | None = None

    @property
    def slug(self) -> str:
        """A short, file-name-safe form of the key: readable part plus a hash."""
        tail = re.sub(r"[^a-z0-9]+", "-", self.key.lower().rsplit("/", 1)[-1]).strip("-")
        digest = hashlib.blake2b(self.key.encode(), digest_size=4).hexdigest()
        return f"{tail or 'project'}-{digest}"


def normalize_remote(url: str) -> str:
    """The canonical form of a git remote URL: `host[:port]/path`, no scheme, user or `.git`.

    Local paths and `file://` URLs become `file:/absolute/path`. Credentials, default ports,
    a trailing `.git` and trailing slashes are dropped; the host is lowercased, and so is the
    path on hosts known to ignore case.

    >>> normalize_remote("git@GitHub.com:Acme/Tidewater.git")
    'github.com/acme/tidewater'
    >>> normalize_remote("https://user:secret@gitlab.example.org:443/team/app/")
    'gitlab.example.org/team/app'
    """
    text = url.strip()
    if not text:
        raise ValueError("empty remote URL")
    if "://" in text:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme == "file":
            return "file:" + _clean_path(parts.path)
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is not None and str(port) != _DEFAULT_PORTS.get(scheme.split("+")[-1], ""):
            host = f"{host}:{port}"
        path = parts.path
    else:
        scp = _SCP_LIKE.match(text)
        if scp is None or "/" in scp.group("host") or _looks_like_windows_drive(text):
            return "file:" + _clean_path(str(Path(text).expanduser().resolve()))
        host = scp.group("host").lower()
        path = scp.group("path")
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    path = re.sub(r"/{2,}", "/", path).strip("/")
    if host in _CASE_INSENSITIVE_HOSTS:
        path = path.lower()
    return f"{host}/{path}" if path else host


def _looks_like_windows_drive(text: str) -> bool:
    return len(text) > 2 and text[1] == ":" and text[0].isalpha() and text[2] in "\\/"


def _clean_path(path: str) -> str:
    path = path.rstrip("/") or "/"
    return path[: -len(".git")] if path.endswith(".git") else path


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def project_identity(root: Path | str) -> ProjectIdentity:
    """The identity of the project checked out at `root` (see the module docstring)."""
    folder = Path(root).expanduser().resolve()
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return ProjectIdentity(key=f"path:{folder}", kind="path", root=folder)
    checkout = Path(top)
    remotes = (_git(checkout, "remote") or "").split()
    if remotes:
        name = "origin" if "origin" in remotes else remotes[0]
        url = _git(checkout, "remote", "get-url", name)
        if url:
            try:
                return ProjectIdentity(
                    key=normalize_remote(url), kind="remote", root=checkout, remote=url
                )
            except ValueError:
                pass
    common = _git(checkout, "rev-parse", "--path-format=absolute", "--git-common-dir")
    main_root = checkout
    if common:
        common_dir = Path(common)
        # A normal clone's common dir is `<root>/.git`; a bare repository has no work tree.
        main_root = common_dir.parent if common_dir.name == ".git" else common_dir
    return ProjectIdentity(key=f"path:{main_root}", kind="git-root", root=checkout)
