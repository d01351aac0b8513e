"""Fixtures for the MCP layer: a sample project, a real HTTP server, the npm clients, a HOME."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcphelp import (
    NPM_CACHE,
    NPM_PACKAGES,
    HttpServer,
    NpmClients,
    installed,
    start_http_server,
    stop,
)


@pytest.fixture
def project(sample: Path) -> Path:
    """A fresh copy of the tidewater sample, never indexed (the server indexes it)."""
    return sample


@pytest.fixture
def http_server(project: Path, kenning_home: Path, tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(project, kenning_home, tmp_path / "http-server.log")
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture(scope="session")
def npm_clients() -> NpmClients:
    """The npm MCP clients, installed once per machine into .cache/npm-clients/."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node/npm are not installed: the real-client MCP tests need them")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    with (NPM_CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs on one machine install once
        if not installed(NPM_CACHE):
            package = NPM_CACHE / "package.json"
            if not package.exists():
                package.write_text('{"name": "kenning-npm-clients", "private": true}\n')
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *NPM_PACKAGES],
                cwd=NPM_CACHE,
                capture_output=True,
                text=True,
                timeout=900,
            )
            if done.returncode != 0:
                pytest.skip(
                    f"npm install of the MCP clients failed (offline?): {done.stderr[-800:]}"
                )
            # npm 11 does not run install scripts it was not told to allow; Claude Code's
            # postinstall puts its native binary in place.
            installer = NPM_CACHE / "node_modules" / "@anthropic-ai" / "claude-code" / "install.cjs"
            if installer.exists():
                subprocess.run(
                    [node, str(installer)], cwd=installer.parent, capture_output=True, timeout=300
                )
            (NPM_CACHE / "installed.json").write_text(
                json.dumps({"packages": sorted(NPM_PACKAGES)}) + "\n"
            )
    return NpmClients(NPM_CACHE)


@pytest.fixture
def client_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME for a client CLI (and for `kenning connect`), inside the test's tmp dir."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home
