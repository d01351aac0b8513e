"""Finding models on disk and choosing what to open from flags and settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kenning.llm.base import LLMError, ModelNotFound
from kenning.llm.discovery import local_models, resolve_local, search_dirs
from kenning.llm.loader import ModelConfig, coerce_setting


def gguf(path: Path, size: int = 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + b"\0" * size)
    return path


def test_finds_gguf_files_in_the_usual_folders(packaged_gguf):
    home = Path.home()  # tmp, set by the autouse fixture
    a = gguf(home / "models" / "qwen2.5-3b-instruct-q4_k_m.gguf")
    b = gguf(home / ".cache" / "lm-studio" / "models" / "lmstudio-community" / "x" / "phi-4.gguf")
    gguf(home / "models" / "mmproj-model-f16.gguf")  # a vision projector, not a chat model
    (home / "models" / "notes.gguf").write_text("not gguf")
    found = local_models()
    assert found[0].source == "packaged" and found[0].path == packaged_gguf
    paths = [m.path for m in found]
    assert a in paths and b in paths
    assert not any("mmproj" in p.name or p.name == "notes.gguf" for p in paths)
    qwen = next(m for m in found if m.path == a)
    assert (qwen.backend, qwen.name, qwen.size_bytes) == ("llamacpp", a.stem, 68)


def test_hugging_face_snapshot_links_are_listed_once():
    hub = Path.home() / ".cache" / "huggingface" / "hub" / "models--org--m"
    blob = gguf(hub / "blobs" / "abc123")
    link = hub / "snapshots" / "rev" / "m-q4.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(blob)
    names = [m.name for m in local_models() if m.source != "packaged"]
    assert names == ["m-q4"]


def test_kenning_models_path_is_searched_first(tmp_path, monkeypatch):
    extra = tmp_path / "elsewhere"
    monkeypatch.setenv("KENNING_MODELS_PATH", os.pathsep.join([str(extra), ""]))
    assert search_dirs()[0] == extra
    gguf(extra / "mine.gguf")
    assert any(m.name == "mine" for m in local_models())


def test_onnx_genai_folders_are_found():
    folder = Path.home() / "models" / "phi-3-mini-cpu-int4"
    folder.mkdir(parents=True)
    (folder / "genai_config.json").write_text(json.dumps({"model": {"context_length": 4096}}))
    (found,) = [m for m in local_models() if m.backend == "onnx"]
    assert found.path == folder and found.name == "phi-3-mini-cpu-int4"


def test_resolve_by_path_exact_name_or_unique_part():
    home = Path.home()
    q = gguf(home / "models" / "qwen2.5-3b-instruct-q4_k_m.gguf")
    gguf(home / "models" / "qwen2.5-7b-instruct-q4_k_m.gguf")
    assert resolve_local(str(q)).path == q
    assert resolve_local("qwen2.5-3b").path == q
    assert resolve_local("QWEN2.5-3B-INSTRUCT-Q4_K_M").path == q
    with pytest.raises(ModelNotFound, match="several models"):
        resolve_local("qwen2.5")
    with pytest.raises(ModelNotFound, match="kenning models"):
        resolve_local("llama-70b")


def test_defaults_to_the_embedded_backend():
    assert ModelConfig().resolved_backend() == "llamacpp"


def test_the_window_is_known_before_the_model_opens():
    assert ModelConfig().window() == 4096
    assert ModelConfig(context_window=8192).window() == 8192


def test_a_url_means_the_openai_backend_and_model_names_the_server_model():
    config = ModelConfig().with_flags(url="http://127.0.0.1:11434/v1", model="llama3.2")
    assert config.resolved_backend() == "openai"
    assert (config.url, config.name, config.path) == ("http://127.0.0.1:11434/v1", "llama3.2", None)


def test_a_gguf_flag_overrides_a_configured_server(tmp_path):
    settings = {"model": {"backend": "openai", "url": "http://127.0.0.1:11434/v1"}}
    config = ModelConfig.from_settings(settings).with_flags(model=str(tmp_path / "m.gguf"))
    assert config.resolved_backend() == "llamacpp"
    assert config.path == str(tmp_path / "m.gguf")


def test_an_onnx_folder_means_the_onnx_backend(tmp_path):
    (tmp_path / "genai_config.json").write_text("{}")
    assert ModelConfig(path=str(tmp_path)).resolved_backend() == "onnx"


def test_settings_are_read_and_checked():
    config = ModelConfig.from_settings(
        {"model": {"backend": "llamacpp", "threads": "4", "allow_remote": "no", "junk": 1}}
    )
    assert (config.backend, config.threads, config.allow_remote) == ("llamacpp", 4, False)
    with pytest.raises(LLMError, match="one of llamacpp, openai, onnx"):
        ModelConfig.from_settings({"model": {"backend": "gpt"}})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("backend", "openai", "openai"),
        ("context_window", "8192", 8192),
        ("allow_remote", "true", True),
        ("url", "http://127.0.0.1:1234/v1", "http://127.0.0.1:1234/v1"),
    ],
)
def test_setting_values_are_coerced(key, value, expected):
    assert coerce_setting(key, value) == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("threads", "two", "whole number"),
        ("threads", "0", "above zero"),
        ("allow_remote", "maybe", "true or false"),
        ("colour", "red", "model.backend, model.path"),
    ],
)
def test_bad_setting_values_say_what_is_expected(key, value, message):
    with pytest.raises(LLMError, match=message):
        coerce_setting(key, value)
