"""The bundled int8 MiniLM through OnnxEmbedder: the real model on the CPU, no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kenning.errors import EmbeddingError, KenningError
from kenning.index.embed import (
    BUNDLED_MODEL_DIR,
    DEFAULT_EMBEDDER,
    Embedder,
    OnnxEmbedder,
    default_embedder,
    get_embedder,
    register_embedder,
)


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_bundled_model_files_ship_in_the_package() -> None:
    for name in ("model.onnx", "tokenizer.json", "LICENSE", "README.md"):
        assert (BUNDLED_MODEL_DIR / name).is_file(), name
    assert (BUNDLED_MODEL_DIR / "model.onnx").stat().st_size > 20_000_000


def test_importing_the_module_is_cheap_and_turns_onnxruntime_telemetry_off() -> None:
    code = (
        "import os, sys, kenning.index.embed as e; e.OnnxEmbedder();"
        "print(sorted(m for m in ('onnxruntime', 'tokenizers') if m in sys.modules),"
        " os.environ.get('ORT_DISABLE_TELEMETRY'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    # Nothing heavy is imported, and the opt-out is in place before onnxruntime can load.
    assert result.stdout.split() == ["[]", "1"]


def test_embed_returns_unit_float32_rows_of_the_model_dimension(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed(["def add(a, b): return a + b", "a sentence about billing", ""])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert embedder.dim == 384
    assert embedder.name == "minilm-l6-v2-int8"
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input_gives_zero_rows_of_the_model_dimension() -> None:
    fresh = OnnxEmbedder()
    vectors = fresh.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_a_single_string_is_refused_rather_than_embedded_per_character(
    embedder: OnnxEmbedder,
) -> None:
    with pytest.raises(TypeError, match="sequence of texts"):
        embedder.embed("how do I reset my password")


def test_very_long_input_is_truncated_to_the_window(embedder: OnnxEmbedder) -> None:
    words = [f"token{i % 97} value{i % 13}" for i in range(50_000)]
    huge = " ".join(words)  # about 1 MB, thousands of word pieces
    head = " ".join(words[:400])  # already far more than 256 word pieces
    (long_vec,) = embedder.embed([huge])
    (head_vec,) = embedder.embed([head])
    assert np.all(np.isfinite(long_vec))
    np.testing.assert_array_equal(long_vec, head_vec)


def test_max_tokens_bounds_what_the_model_sees() -> None:
    short_window = OnnxEmbedder(max_tokens=8)
    (a,) = short_window.embed(["one two three four five six seven eight nine ten"])
    (b,) = short_window.embed(["one two three four five six apples pears plums"])
    # 8 tokens = [CLS] + six words + [SEP]: the endings are cut off, so the inputs agree.
    np.testing.assert_array_equal(a, b)


def test_embedding_is_deterministic(embedder: OnnxEmbedder) -> None:
    texts = ["the invoice total is rounded to cents", "class Mailer:\n    pass", "x"]
    np.testing.assert_array_equal(embedder.embed(texts), embedder.embed(texts))


def test_rows_come_back_in_input_order_across_batches_of_mixed_lengths() -> None:
    small_batches = OnnxEmbedder(batch_size=2)
    texts = [
        "short",
        "a much longer text about the retry policy of the outbound mailer and its backoff " * 6,
        "def backoff(attempts: int) -> list[float]:\n    return [2.0**n for n in range(attempts)]",
        "why sqlite",
        "We decided to keep the index in SQLite with WAL mode; PostgreSQL is for the team server.",
    ]
    together = small_batches.embed(texts)
    alone = np.vstack([small_batches.embed([text]) for text in texts])
    similarity = together @ alone.T
    assert list(similarity.argmax(axis=1)) == list(range(len(texts)))
    # Activations are quantised per batch, so batch-mates move a vector a little, never much.
    assert np.diag(similarity).min() > 0.97


def test_related_sentences_are_closer_than_unrelated_ones(embedder: OnnxEmbedder) -> None:
    query, related, unrelated = embedder.embed(
        [
            "how do I reset my password",
            "password reset flow for users",
            "the invoice total is rounded to cents",
        ]
    )
    assert cosine(query, related) > cosine(query, unrelated) + 0.2


FUNCTIONS = {
    "Send an email message to a recipient over SMTP.": (
        "def send_mail(host, sender, to, body):\n"
        "    with smtplib.SMTP(host) as server:\n"
        "        server.sendmail(sender, [to], body)"
    ),
    "Compute the SHA-256 checksum of a file on disk.": (
        "def file_digest(path):\n"
        "    h = hashlib.sha256()\n"
        "    with open(path, 'rb') as fh:\n"
        "        for block in iter(lambda: fh.read(65536), b''):\n"
        "            h.update(block)\n"
        "    return h.hexdigest()"
    ),
    "Parse an ISO 8601 date string into a datetime.": (
        "def parse_when(text):\n    return datetime.datetime.fromisoformat(text)"
    ),
    "Retry a function with exponential backoff between attempts.": (
        "def retry(fn, attempts=5):\n"
        "    for n in range(attempts):\n"
        "        try:\n"
        "            return fn()\n"
        "        except Exception:\n"
        "            time.sleep(2 ** n)\n"
        "    raise RuntimeError('gave up')"
    ),
    "Read a CSV file and return its rows as dictionaries.": (
        "def load_rows(path):\n"
        "    with open(path, newline='') as fh:\n"
        "        return list(csv.DictReader(fh))"
    ),
    "Round a monetary amount to whole cents.": (
        "def to_cents(amount: Decimal) -> Decimal:\n"
        "    return amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)"
    ),
}


def test_docstrings_retrieve_their_own_function(embedder: OnnxEmbedder) -> None:
    docstrings = list(FUNCTIONS)
    queries = embedder.embed(docstrings)
    code = embedder.embed([FUNCTIONS[d] for d in docstrings])
    best = (queries @ code.T).argmax(axis=1)
    assert list(best) == list(range(len(docstrings)))


def test_missing_model_files_raise_a_kenning_error_that_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    broken = OnnxEmbedder(model_dir=tmp_path)
    with pytest.raises(EmbeddingError, match="model.onnx") as caught:
        broken.embed(["anything"])
    assert isinstance(caught.value, KenningError)
    assert "model_dir" in str(caught.value)


def test_missing_bundled_files_point_to_the_export_script() -> None:
    from kenning.index import embed as module

    message = module._missing_message(BUNDLED_MODEL_DIR, ["model.onnx"])
    assert "scripts/export_embedder.py" in message
    assert "reinstall kenning" in message


class FakeEmbedder:
    """A deterministic stand-in that implements the Embedder protocol."""

    name = "fake-3"
    dim = 3

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.array([[len(t) + 1.0, 1.0, 0.0] for t in texts], dtype=np.float32)
        rows = rows.reshape(len(texts), self.dim)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_fake_registers_through_the_same_registry_and_is_shared() -> None:
    register_embedder("test-fake", FakeEmbedder)
    first = get_embedder("test-fake")
    assert first is get_embedder("test-fake")
    assert first.name == "fake-3"
    assert first.embed(["ab"]).shape == (1, 3)
    embedder: Embedder = FakeEmbedder()  # the Protocol is satisfied structurally
    assert embedder.dim == 3
    register_embedder("test-fake", FakeEmbedder)
    assert get_embedder("test-fake") is not first  # re-registering drops the shared instance


def test_default_embedder_is_the_bundled_minilm_shared_per_process() -> None:
    default = default_embedder()
    assert default is get_embedder(DEFAULT_EMBEDDER)
    assert default is default_embedder()
    assert isinstance(default, OnnxEmbedder)
    assert default.name == "minilm-l6-v2-int8"


def test_unknown_embedder_names_are_an_error_listing_the_known_ones() -> None:
    with pytest.raises(EmbeddingError, match="minilm"):
        get_embedder("no-such-model")
