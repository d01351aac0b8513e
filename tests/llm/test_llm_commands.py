"""``kenning ask``, ``chat``, ``models`` and ``config`` through the real CLI.

Commands that load a model run ``python -m kenning`` in a child process (a native crash fails
one test, not the run); the others run in-process with click's CliRunner.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kenning.cli import cli
from kenning.workspace import Workspace

PORT_FACT = "The staging server listens on port 8443, behind the VPN."


def kenning(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.output


def run_kenning(
    *args: str, stdin: str = "", timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kenning", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def project_with_port_fact(root: Path) -> str:
    """Store the staging port as a memory (the only place it is written) and index lexically."""
    ws = Workspace.open(root)
    try:
        ws.project.init()
        memory = ws.remember(PORT_FACT, "fact", title="Staging port", source="test")
        ws.index(embed=False)
        return memory.id
    finally:
        ws.close()


def test_every_model_command_has_help_with_an_example():
    for name in ("ask", "chat", "models", "config"):
        code, out = kenning(name, "--help")
        assert code == 0, out
        assert "Example: kenning " in out


def test_models_lists_the_packaged_model_and_gguf_files(packaged_gguf):
    mine = Path.home() / "models" / "tiny-chat-q4.gguf"
    mine.parent.mkdir()
    mine.write_bytes(b"GGUF" + b"\0" * 12)
    code, out = kenning("models", "--no-servers", "--json")
    assert code == 0, out
    local = json.loads(out)["local"]
    assert local[0]["source"] == "packaged" and local[0]["path"] == str(packaged_gguf)
    assert any(m["name"] == "tiny-chat-q4" for m in local)
    code, out = kenning("models", "--no-servers")
    assert code == 0 and packaged_gguf.stem in out and "tiny-chat-q4" in out


def test_models_lists_what_a_loopback_server_offers(llama_server, unused_port):
    down = f"http://127.0.0.1:{unused_port}/v1"
    code, out = kenning("models", "--url", llama_server.url, "--url", down)
    assert code == 0, out
    assert f"{llama_server.url}" in out and llama_server.alias in out
    assert "not running" in out


def test_config_set_stores_model_settings_in_the_user_config(tmp_path):
    code, out = kenning("config", "set", "model.backend", "openai")
    assert code == 0, out
    code, out = kenning("config", "set", "model.url", "http://127.0.0.1:11434/v1")
    assert code == 0, out
    code, out = kenning("config", "get", "model.backend")
    assert (code, out.strip()) == (0, "openai")
    stored = (tmp_path / "kenning-home" / "config.toml").read_text()
    assert 'backend = "openai"' in stored and 'url = "http://127.0.0.1:11434/v1"' in stored


def test_config_set_rejects_bad_model_settings():
    code, out = kenning("config", "set", "model.backend", "gpt5")
    assert code == 1 and "one of llamacpp, openai, onnx" in out
    code, out = kenning("config", "set", "model.threads", "many")
    assert code == 1 and "whole number" in out


def test_config_set_model_path_is_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = kenning("config", "set", "model.path", "m.gguf")
    assert code == 0, out
    code, out = kenning("config", "get", "model.path")
    assert out.strip() == str(tmp_path / "m.gguf")


def test_ask_says_so_and_loads_no_model_when_nothing_backs_an_answer(tiny):
    code, out = kenning("-C", str(tiny), "ask", "what is the capital of France?")
    assert code == 0, out
    assert "was not asked" in out
    assert "Loading the model" not in out


def test_ask_with_a_server_that_is_down_says_how_to_start_one(tiny, unused_port):
    project_with_port_fact(tiny)
    url = f"http://127.0.0.1:{unused_port}/v1"
    code, out = kenning("-C", str(tiny), "ask", "which port does staging use?", "--url", url)
    assert code == 1
    assert "No model server answers" in out and "ollama serve" in out


def test_ask_refuses_a_remote_server(tiny):
    project_with_port_fact(tiny)
    code, out = kenning(
        "-C", str(tiny), "ask", "which port does staging use?", "--url", "http://10.1.2.3:11434"
    )
    assert code == 1 and "not on this machine" in out


def test_ask_answers_from_a_stored_memory_and_names_it(tiny, llama_cpp_installed):
    memory_id = project_with_port_fact(tiny)
    result = run_kenning(
        "-C", str(tiny), "ask", "Which port does the staging server listen on?", "--show-context"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer, _, sources = result.stdout.partition("Sources given to the model:")
    assert "8443" in answer.split("prompt tokens)")[-1]
    assert f"[{memory_id}] Staging port (fact)" in sources


def test_ask_through_a_local_openai_compatible_server(tiny, llama_server):
    memory_id = project_with_port_fact(tiny)
    code, out = kenning(
        "-C",
        str(tiny),
        "ask",
        "Which port does the staging server listen on?",
        "--url",
        llama_server.url,
    )
    assert code == 0, out
    answer, _, sources = out.partition("Sources given to the model:")
    assert "8443" in answer
    assert f"[{memory_id}]" in sources


def test_chat_keeps_going_and_remembers_a_decision(tiny, llama_cpp_installed):
    memory_id = project_with_port_fact(tiny)
    result = run_kenning(
        "-C",
        str(tiny),
        "chat",
        "--max-tokens",
        "48",
        stdin=(
            "Which port does the staging server listen on?\n"
            "/sources\n"
            "/remember decision: the admin API moves to port 9443 in May\n"
            "/quit\n"
        ),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "8443" in result.stdout
    assert f"[{memory_id}]" in result.stdout
    assert "Remembered decision" in result.stdout
    ws = Workspace.open(tiny)
    try:
        (decision,) = ws.memories("decision")
    finally:
        ws.close()
    assert "9443" in decision.body or "9443" in decision.title
    assert decision.source == "chat"
