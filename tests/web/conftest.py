"""A real UI server on 127.0.0.1 over an indexed copy of the sample project, and an HTTP client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import TOKEN, Client

from kenning.web.server import UIServer
from kenning.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tidewater"

STALE_TEXT = "Retry state for webhooks lives in `src/tidewater/webhooks/retry_state.py`."


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bench-results"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def indexed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project plus one memory pointing at a file that does not exist, indexed once
    (vectors too, so a memory written by a test embeds one chunk, not the whole project)."""
    root = tmp_path_factory.mktemp("web-template") / "tidewater"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("index"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KENNING_HOME", str(root.parent / "kenning-home"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        ws = Workspace.open(root)
        ws.store.add(STALE_TEXT, "note", title="Where webhook retry state lives", source="test")
        ws.index(embed=True)
        ws.close()
    return root


@pytest.fixture
def project(indexed_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the indexed template (mtimes kept, so nothing is re-read)."""
    target = tmp_path / "tidewater"
    shutil.copytree(indexed_template, target)
    return target


@pytest.fixture
def workspace(project: Path) -> Iterator[Workspace]:
    ws = Workspace.open(project)
    yield ws
    ws.close()


@pytest.fixture
def server(workspace: Workspace, bench_dir: Path) -> Iterator[UIServer]:
    ui = UIServer(workspace, token=TOKEN, bench_dirs=[bench_dir], embed=False, refresh_seconds=None)
    with ui:
        yield ui


@pytest.fixture
def client(server: UIServer) -> Client:
    return Client(server.base)
