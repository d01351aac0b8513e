"""The ONNX Runtime GenAI backend, as far as it can be tested without a model.

No ONNX GenAI model ships in a registry package, so generation is not exercised here; what is:
folder validation, the context window from genai_config.json, the install hint, stop strings.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from kenning.llm.base import BackendNotInstalled, ModelNotFound
from kenning.llm.onnx_genai import (
    DEFAULT_CONTEXT_WINDOW,
    OnnxGenAIModel,
    StopScanner,
    is_genai_folder,
    read_context_window,
)


def test_a_folder_without_genai_config_is_refused(tmp_path):
    assert not is_genai_folder(tmp_path)
    with pytest.raises(ModelNotFound, match="genai_config.json"):
        OnnxGenAIModel(tmp_path)
    with pytest.raises(ModelNotFound, match="not an ONNX GenAI model folder"):
        OnnxGenAIModel(tmp_path / "model.gguf")


def test_context_window_comes_from_genai_config(tmp_path):
    (tmp_path / "genai_config.json").write_text(json.dumps({"model": {"context_length": 131072}}))
    assert is_genai_folder(tmp_path)
    assert read_context_window(tmp_path) == 131072
    (tmp_path / "genai_config.json").write_text(json.dumps({"model": {}}))
    assert read_context_window(tmp_path) == DEFAULT_CONTEXT_WINDOW
    (tmp_path / "genai_config.json").write_text("{broken")
    with pytest.raises(ModelNotFound, match="cannot read"):
        read_context_window(tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime_genai") is not None,
    reason="onnxruntime-genai is installed, so there is no hint to check",
)
def test_missing_runtime_gives_the_install_hint(tmp_path):
    (tmp_path / "genai_config.json").write_text(json.dumps({"model": {"context_length": 4096}}))
    with pytest.raises(BackendNotInstalled, match="pip install onnxruntime-genai"):
        OnnxGenAIModel(tmp_path)


def feed_all(scanner: StopScanner, pieces: list[str]) -> str:
    out = ""
    for piece in pieces:
        out += scanner.feed(piece)
        if scanner.stopped:
            return out
    return out + scanner.flush()


def test_stop_string_split_across_pieces_is_cut():
    assert feed_all(StopScanner(["</s>"]), ["Port 8443.", "<", "/s", ">more"]) == "Port 8443."


def test_text_that_only_looks_like_a_stop_start_is_kept():
    assert feed_all(StopScanner(["</s>"]), ["a <", "b"]) == "a <b"
    assert feed_all(StopScanner(["</s>"]), ["ends with <"]) == "ends with <"


def test_no_stop_strings_passes_everything():
    assert feed_all(StopScanner([]), ["a", "b"]) == "ab"
