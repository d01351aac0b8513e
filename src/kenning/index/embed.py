"""Local text embeddings: the bundled int8 all-MiniLM-L6-v2 on onnxruntime, behind a Protocol.

Dense retrieval needs one vector per chunk and per query, computed on this machine: nothing may be
downloaded at run time, and kenning must not pull in torch. So the model ships inside the package
(`kenning/_models/minilm-l6-v2/`: a 23 MB int8 ONNX graph and its `tokenizer.json`, rebuilt by
`scripts/export_embedder.py`) and runs on the CPU with `onnxruntime` and `tokenizers`.

Invariants of every `Embedder`:

- `embed(texts)` returns float32 of shape `(len(texts), dim)`, one row per text in input order,
  each row L2-normalised (so a dot product is the cosine); no texts give shape `(0, dim)`.
- Texts longer than the model's window are truncated (256 word pieces for MiniLM), never refused.

`OnnxEmbedder` imports onnxruntime and tokenizers, and reads the model, only on first use, so
importing this module costs nothing and `kenning --help` stays fast. Backends are found by name
in a small registry; the built-in model registers through the same `register_embedder` as a test
fake or a third-party backend would.

One property of the int8 graph to know about: its activations are quantised per batch (the scale
comes from the whole input tensor), so a text's vector moves a little with the other texts in its
batch (cosine to the same text embedded alone: mean 0.99, lowest seen 0.97; retrieval quality is
unchanged). Results are deterministic for the same call, not bit-identical across batchings;
nothing here compares vectors for equality.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kenning.errors import EmbeddingError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "BUNDLED_MODEL_DIR",
    "DEFAULT_EMBEDDER",
    "Embedder",
    "EmbedderFactory",
    "OnnxEmbedder",
    "default_embedder",
    "get_embedder",
    "register_embedder",
]

BUNDLED_MODEL_DIR = Path(__file__).resolve().parent.parent / "_models" / "minilm-l6-v2"
DEFAULT_EMBEDDER = "minilm"

_BUNDLED_NAME = "minilm-l6-v2-int8"
_BUNDLED_DIM = 384
_MODEL_FILE = "model.onnx"
_TOKENIZER_FILE = "tokenizer.json"
# A word piece averages a few characters; 64 per token leaves a wide margin, so the cut in
# `embed` does not change which tokens survive truncation in any realistic text.
_CHARS_PER_TOKEN_BOUND = 64


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """Identifies the model; vectors are cached under it, so change it when outputs change."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text, in input order; shape `(len(texts), dim)`."""
        ...


EmbedderFactory = Callable[[], Embedder]


class OnnxEmbedder:
    """A BERT-style sentence encoder in ONNX, mean-pooled and L2-normalised, on the CPU.

    Args:
        model_dir: a directory with `model.onnx` (inputs `input_ids`, `attention_mask` and
            optionally `token_type_ids`; first output the token states `[batch, seq, dim]` or an
            already pooled `[batch, dim]`) and `tokenizer.json`. Defaults to the bundled
            all-MiniLM-L6-v2.
        threads: onnxruntime intra-op threads; `None` uses two (one on a one-core machine).
            Threads never spin while idle, so a second one costs no CPU when it cannot help.
        max_tokens: truncation length in word pieces, special tokens included.
        batch_size: at most this many texts per onnxruntime call.
        max_batch_tokens: at most this many padded tokens per call (texts x longest text).
            Bounds memory, as onnxruntime keeps its peak allocation: 256-token texts 32 at a
            time left the process at 1 GB RSS; 1,024 tokens at ~220 MB, at the same
            sentences per CPU-second. Short texts still go `batch_size` at a time.
        name: overrides the name vectors are cached under.

    Nothing is loaded until the first `embed` (or `dim` of a non-bundled model).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        threads: int | None = None,
        max_tokens: int = 256,
        batch_size: int = 32,
        max_batch_tokens: int = 1024,
        name: str | None = None,
    ) -> None:
        if max_tokens < 2:
            raise ValueError("max_tokens must leave room for [CLS] and [SEP]")
        if batch_size < 1 or max_batch_tokens < 1:
            raise ValueError("batch_size and max_batch_tokens must be at least 1")
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        bundled = model_dir is None
        self.model_dir = BUNDLED_MODEL_DIR if model_dir is None else Path(model_dir)
        self.threads = threads
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self._name = name or (_BUNDLED_NAME if bundled else f"onnx:{self.model_dir.name}")
        self._dim: int | None = _BUNDLED_DIM if bundled else None
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: frozenset[str] = frozenset()
        self._pad_id = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed `texts`; see `Embedder.embed`.

        Raises:
            EmbeddingError: the model files are missing or onnxruntime cannot run them.
            TypeError: `texts` is a single string rather than a sequence of them.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; wrap a single text in a list")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        limit = self.max_tokens * _CHARS_PER_TOKEN_BOUND
        # Trigger: a text far longer than the model's window (a minified bundle, a data file).
        # Why: the tokenizer tokenises everything before truncating (1 MB takes 0.75 s).
        # Outcome: cut it to a prefix that still holds far more than `max_tokens` tokens.
        encodings = self._tokenizer.encode_batch(
            [text if len(text) <= limit else text[:limit] for text in texts]
        )
        ids = [enc.ids for enc in encodings]
        # Longest first, so each batch pads to a similar length; rows go back by index.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        start = 0
        while start < len(order):
            width = len(ids[order[start]])  # the longest in this batch, as the order is descending
            size = max(1, min(self.batch_size, self.max_batch_tokens // width))
            rows = order[start : start + size]
            out[rows] = self._run([ids[i] for i in rows])
            start += size
        return out

    def _run(self, batch: list[list[int]]) -> NDArray[np.float32]:
        width = max(len(seq) for seq in batch)
        input_ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, seq in enumerate(batch):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        try:
            output = self._session.run(None, feed)[0]
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EmbeddingError(f"the embedding model in {self.model_dir} failed: {exc}") from exc
        hidden: NDArray[np.float32] = np.asarray(output, dtype=np.float32)
        pooled: NDArray[np.float32]
        if hidden.ndim == 3:  # token states: mean over the real (unpadded) tokens
            weights = mask.astype(np.float32)
            counts = np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
            pooled = np.einsum("bsd,bs->bd", hidden, weights) / counts
        else:  # the graph pools already
            pooled = hidden
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            model_path = self.model_dir / _MODEL_FILE
            tokenizer_path = self.model_dir / _TOKENIZER_FILE
            missing = [p.name for p in (model_path, tokenizer_path) if not p.is_file()]
            if missing:
                raise EmbeddingError(_missing_message(self.model_dir, missing))
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise EmbeddingError(
                    f"local embeddings need onnxruntime and tokenizers ({exc}); "
                    "reinstall kenning, or `pip install onnxruntime tokenizers`"
                ) from exc

            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.no_padding()  # padding is done per batch in _run
            tokenizer.enable_truncation(max_length=self.max_tokens)
            pad_id = tokenizer.token_to_id("[PAD]")

            # onnxruntime's official builds send 1DS telemetry on Linux and macOS too, on by
            # default. kenning/__init__ sets ORT_DISABLE_TELEMETRY=1, the full opt-out, before
            # onnxruntime can load; in a host process that loaded onnxruntime first, that is too
            # late, and this call is what is left (it stops the non-essential events).
            disable = getattr(ort, "disable_telemetry_events", None)
            if callable(disable):
                disable()
            options = ort.SessionOptions()
            options.log_severity_level = 3  # errors only: no warnings on the user's terminal
            options.intra_op_num_threads = self.threads or _default_threads()
            options.inter_op_num_threads = 1
            # Trigger: idle intra-op threads busy-wait for the next task by default.
            # Why: on a 2-core machine shared with the server, the indexer and the user's
            # editor, spinning doubled the CPU-seconds per sentence (40 vs 70-78 per CPU-s)
            # for no gain in wall time. Outcome: idle threads sleep.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            try:
                # The CPU provider only: this build also lists Azure, which is a network service.
                session = ort.InferenceSession(
                    str(model_path), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise EmbeddingError(
                    f"cannot load the embedding model {model_path}: {exc}; "
                    f"{_rebuild_hint(self.model_dir)}"
                ) from exc

            output_shape = session.get_outputs()[0].shape
            if isinstance(output_shape[-1], int):
                self._dim = output_shape[-1]
            elif self._dim is None:
                raise EmbeddingError(
                    f"the embedding model {model_path} has no fixed output width; "
                    "export it with a static hidden dimension"
                )
            self._tokenizer = tokenizer
            self._pad_id = 0 if pad_id is None else pad_id
            self._input_names = frozenset(i.name for i in session.get_inputs())
            self._session = session


def _default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _rebuild_hint(model_dir: Path) -> str:
    if model_dir == BUNDLED_MODEL_DIR:
        return (
            "reinstall kenning, or rebuild the files with "
            f"`python scripts/export_embedder.py {model_dir}` (its docstring lists the steps)"
        )
    return "point model_dir at a directory holding model.onnx and tokenizer.json"


def _missing_message(model_dir: Path, missing: list[str]) -> str:
    files = ", ".join(missing)
    return f"embedding model files missing in {model_dir}: {files}; {_rebuild_hint(model_dir)}"


_factories: dict[str, EmbedderFactory] = {}
_instances: dict[str, Embedder] = {}
_registry_lock = threading.Lock()


def register_embedder(name: str, factory: EmbedderFactory) -> None:
    """Make `get_embedder(name)` build its embedder with `factory()` (replacing any before).

    The built-in MiniLM is registered this way as `"minilm"`; registering over it changes what
    `default_embedder()` returns from then on.
    """
    with _registry_lock:
        _factories[name] = factory
        _instances.pop(name, None)


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The embedder registered as `name`, built on first request and then shared.

    Raises:
        EmbeddingError: no embedder is registered under `name`.
    """
    with _registry_lock:
        instance = _instances.get(name)
        if instance is None:
            factory = _factories.get(name)
            if factory is None:
                known = ", ".join(sorted(_factories))
                raise EmbeddingError(f"no embedder named {name!r}; known: {known}")
            instance = _instances[name] = factory()
        return instance


def default_embedder() -> Embedder:
    """The process-wide default embedder (the bundled MiniLM unless re-registered)."""
    return get_embedder(DEFAULT_EMBEDDER)


register_embedder(DEFAULT_EMBEDDER, OnnxEmbedder)
