"""Decide which model to open from command-line flags and settings, then open it.

Settings live in the ``[model]`` table of kenning's config files (``kenning config set
model.backend openai``)::

    [model]
    backend = "llamacpp"        # llamacpp | openai | onnx
    path = "~/models/qwen2.5-3b-instruct-q4_k_m.gguf"   # a .gguf file or an ONNX GenAI folder
    url = "http://127.0.0.1:11434/v1"                   # an OpenAI-compatible server
    name = "llama3.2"           # the server's model id (default: its first model)
    context_window = 4096
    threads = 2                 # default: the idle CPUs, at most 2 (see auto_threads)
    allow_remote = false        # true lets kenning send context to a non-loopback URL

Flags win over settings. With no backend given, a URL means ``openai``, a folder means
``onnx``, and anything else the embedded llama.cpp with the packaged model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kenning.llm.base import ChatModel, LLMError
from kenning.llm.discovery import resolve_local
from kenning.llm.onnx_genai import is_genai_folder

BACKENDS = ("llamacpp", "openai", "onnx")

#: Keys of the ``[model]`` settings table, with the type each value is coerced to.
SETTING_TYPES: dict[str, type] = {
    "backend": str,
    "path": str,
    "url": str,
    "name": str,
    "context_window": int,
    "threads": int,
    "allow_remote": bool,
}


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Everything needed to open a model; ``None`` means "not said, use the default"."""

    backend: str | None = None
    path: str | None = None
    url: str | None = None
    name: str | None = None
    context_window: int | None = None
    threads: int | None = None
    allow_remote: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ModelConfig:
        """Read the ``model`` table of loaded settings (unknown keys are ignored)."""
        table = settings.get("model", {})
        if not isinstance(table, Mapping):
            return cls()
        values = {
            key: coerce_setting(key, table[key])
            for key in SETTING_TYPES
            if table.get(key) not in (None, "")
        }
        return cls(**values)  # type: ignore[arg-type]

    def with_flags(
        self,
        *,
        backend: str | None = None,
        model: str | None = None,
        url: str | None = None,
        allow_remote: bool = False,
    ) -> ModelConfig:
        """Apply command-line flags on top; ``--model`` is a path or a server model id."""
        config = self
        if url is not None:
            config = replace(config, url=url, backend=backend or "openai")
        if backend is not None:
            config = replace(config, backend=backend)
        if model is not None:
            looks_local = model.endswith(".gguf") or Path(model).expanduser().exists()
            if config.backend == "openai" and not (backend is None and looks_local):
                config = replace(config, name=model)
            else:
                if backend is None and config.backend == "openai":
                    config = replace(config, backend=None)
                config = replace(config, path=model)
        if allow_remote:
            config = replace(config, allow_remote=True)
        return config

    def window(self) -> int:
        """The context window the model will be opened with (known before opening it).

        For an ONNX GenAI folder this is the configured value or the common default; the
        folder's own ``genai_config.json`` is read when the model opens.
        """
        from kenning.llm.llamacpp import DEFAULT_CONTEXT_WINDOW

        return self.context_window or DEFAULT_CONTEXT_WINDOW

    def resolved_backend(self) -> str:
        """The backend to use, after the defaults."""
        if self.backend is not None:
            if self.backend not in BACKENDS:
                raise LLMError(
                    f"Unknown model backend {self.backend!r}; use one of: {', '.join(BACKENDS)}."
                )
            return self.backend
        if self.url is not None and self.path is None:
            return "openai"
        if self.path is not None and is_genai_folder(Path(self.path).expanduser()):
            return "onnx"
        return "llamacpp"


def coerce_setting(key: str, value: object) -> str | int | bool:
    """Check and convert a ``model.*`` setting given as text (``kenning config set``).

    Raises:
        LLMError: unknown key or a value of the wrong kind.
    """
    kind = SETTING_TYPES.get(key)
    if kind is None:
        raise LLMError(
            f"Unknown setting model.{key}; the model settings are: "
            + ", ".join(f"model.{k}" for k in SETTING_TYPES)
            + "."
        )
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "on"}:
            return True
        if text in {"false", "no", "0", "off"}:
            return False
        raise LLMError(f"model.{key} is true or false, not {value!r}.")
    if kind is int:
        try:
            number = int(str(value))
        except ValueError:
            raise LLMError(f"model.{key} is a whole number, not {value!r}.") from None
        if number <= 0:
            raise LLMError(f"model.{key} must be above zero.")
        return number
    text = str(value)
    if key == "backend" and text not in BACKENDS:
        raise LLMError(f"model.backend is one of {', '.join(BACKENDS)}, not {text!r}.")
    return text


def open_model(config: ModelConfig) -> ChatModel:
    """Open the model ``config`` describes (loading it, or connecting to its server).

    Raises:
        LLMError: any backend error (not installed, not found, server down, URL refused).
    """
    backend = config.resolved_backend()
    if backend == "openai":
        from kenning.llm.openai_compat import DEFAULT_CONTEXT_WINDOW, OpenAICompatModel

        if config.url is None:
            raise LLMError(
                "The openai backend needs the server's URL: pass --url "
                "http://127.0.0.1:11434/v1 (Ollama) or set it once with "
                "`kenning config set model.url URL`."
            )
        return OpenAICompatModel(
            config.url,
            config.name,
            context_window=config.context_window or DEFAULT_CONTEXT_WINDOW,
            allow_remote=config.allow_remote,
        )
    local = resolve_local(config.path) if config.path is not None else None
    if backend == "onnx" or (config.backend is None and local is not None and local.is_onnx):
        from kenning.llm.onnx_genai import OnnxGenAIModel

        if local is None:
            raise LLMError(
                "The onnx backend needs a model folder: pass --model PATH or set it with "
                "`kenning config set model.path PATH`."
            )
        return OnnxGenAIModel(local.path, context_window=config.context_window)
    from kenning.llm.llamacpp import DEFAULT_CONTEXT_WINDOW as LLAMA_WINDOW
    from kenning.llm.llamacpp import LlamaCppModel

    return LlamaCppModel(
        local.path if local is not None else None,
        context_window=config.context_window or LLAMA_WINDOW,
        threads=config.threads,
    )
