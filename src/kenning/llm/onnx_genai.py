"""The ONNX Runtime GenAI backend: a model folder exported for ``onnxruntime-genai``.

Such a folder holds ``genai_config.json``, the ONNX graph(s) and the tokenizer files; Microsoft
publishes Phi, Llama and Qwen models in this form, and ``onnxruntime_genai.models.builder``
makes one from Hugging Face weights. The runtime runs on CPU here and on GPU or NPU elsewhere.

What is tested without a model (none ships in a registry package): the install hint, folder
validation, reading the context window from ``genai_config.json``, and stop-string handling.
Generation itself is exercised only when a user has a model folder.

``onnxruntime_genai`` is imported when a model is opened, never at import time.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kenning.llm.base import BackendNotInstalled, GenerationError, Message, ModelNotFound

CONFIG_FILE = "genai_config.json"

#: Used when ``genai_config.json`` does not say.
DEFAULT_CONTEXT_WINDOW = 4096


def is_genai_folder(path: Path) -> bool:
    """True when ``path`` is a folder with a ``genai_config.json``."""
    return (path / CONFIG_FILE).is_file()


def read_context_window(folder: Path) -> int:
    """The model's context length from ``genai_config.json``.

    Raises:
        ModelNotFound: the folder has no readable ``genai_config.json``.
    """
    config_path = folder / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFound(
            f"{folder} is not an ONNX GenAI model folder: cannot read {CONFIG_FILE} ({exc}). "
            "Point --model at the folder that holds genai_config.json."
        ) from exc
    model = config.get("model", {}) if isinstance(config, dict) else {}
    value = model.get("context_length") if isinstance(model, dict) else None
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_CONTEXT_WINDOW


def _import_genai() -> Any:
    try:
        return importlib.import_module("onnxruntime_genai")
    except ImportError as exc:
        raise BackendNotInstalled(
            "ONNX Runtime GenAI", "onnxruntime-genai", "pip install onnxruntime-genai"
        ) from exc


class StopScanner:
    """Cuts a stream of text pieces at the first stop string, holding back partial matches."""

    def __init__(self, stop: Sequence[str]) -> None:
        self.stop = [s for s in stop if s]
        self._held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Return the text that is safe to emit now; set ``stopped`` at a stop string."""
        if not self.stop:
            return piece
        text = self._held + piece
        cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return text[:cut]
        # Keep back the longest tail that could still start a stop string.
        keep = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(text)), 0, -1):
                if text.endswith(s[:n]):
                    keep = max(keep, n)
                    break
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """Whatever was held back, at the end of the stream."""
        held, self._held = self._held, ""
        return "" if self.stopped else held


class OnnxGenAIModel:
    """A model folder run by ONNX Runtime GenAI (implements ``ChatModel``)."""

    def __init__(self, folder: Path | str, *, context_window: int | None = None) -> None:
        """Load the model in ``folder``.

        Raises:
            ModelNotFound: ``folder`` is not an ONNX GenAI model folder.
            BackendNotInstalled: onnxruntime-genai is missing.
            GenerationError: the runtime could not load the model.
        """
        path = Path(folder).expanduser()
        if not path.is_dir() or not is_genai_folder(path):
            raise ModelNotFound(
                f"{path} is not an ONNX GenAI model folder (no {CONFIG_FILE}). Point --model "
                "at the folder that holds genai_config.json, or use --backend llamacpp for a "
                ".gguf file."
            )
        window = context_window or read_context_window(path)
        og = _import_genai()
        try:
            self._model = og.Model(str(path))
            self._tokenizer = og.Tokenizer(self._model)
        except RuntimeError as exc:
            raise GenerationError(f"onnxruntime-genai could not load {path}: {exc}") from exc
        self._og = og
        self.path = path
        self._window = window

    @property
    def name(self) -> str:
        """The folder's name."""
        return self.path.name

    @property
    def context_window(self) -> int:
        """From ``genai_config.json`` (``model.context_length``) unless given."""
        return self._window

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's tokenizer."""
        return len(self._tokenizer.encode(text))

    def generate(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> str:
        """Return the whole answer."""
        return "".join(self.stream(messages, max_tokens, temperature, stop))

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the answer token by token."""
        og = self._og
        try:
            prompt = self._tokenizer.apply_chat_template(
                json.dumps([m.to_dict() for m in messages]), add_generation_prompt=True
            )
            tokens = self._tokenizer.encode(prompt)
        except RuntimeError as exc:
            raise GenerationError(
                f"{self.name}: cannot build the chat prompt ({exc}); the folder needs a "
                "tokenizer_config.json with a chat_template."
            ) from exc
        if len(tokens) >= self._window:
            raise GenerationError(
                f"{self.name}: the prompt takes {len(tokens)} tokens, more than the model's "
                f"window of {self._window}. Lower --budget."
            )
        params = og.GeneratorParams(self._model)
        options: dict[str, Any] = {"max_length": min(self._window, len(tokens) + max_tokens)}
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature, top_p=0.95)
        else:
            options.update(do_sample=False)
        params.set_search_options(**options)
        scanner = StopScanner(stop)
        try:
            generator = og.Generator(self._model, params)
            generator.append_tokens(tokens)
            decoder = self._tokenizer.create_stream()
            while not generator.is_done():
                generator.generate_next_token()
                piece = scanner.feed(decoder.decode(int(generator.get_next_tokens()[0])))
                if piece:
                    yield piece
                if scanner.stopped:
                    return
        except RuntimeError as exc:
            raise GenerationError(f"{self.name}: generation failed: {exc}") from exc
        tail = scanner.flush()
        if tail:
            yield tail
