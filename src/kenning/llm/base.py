"""The one interface every local model backend implements, and the errors they raise.

A backend is anything that turns a list of chat messages into text: the embedded llama.cpp
runtime, an OpenAI-compatible server on loopback (Ollama, LM Studio, ``llama.cpp`` server,
vLLM), or ONNX Runtime GenAI. The rest of kenning (the prompt builder, ``kenning ask``,
``kenning chat``, the bench) talks to :class:`ChatModel` only, so a new backend is one module.

Invariants:

- Importing this module, or any backend module, imports no heavy runtime: the backend's
  runtime (``llama_cpp``, ``onnxruntime_genai``) is imported when a model is opened.
- Every error a backend raises is an :class:`LLMError`, whose message says what to do next.

Exception tree::

    KenningError
     └── LLMError                  anything the model layer cannot do
          ├── BackendNotInstalled  the backend's package is missing (message: the pip command)
          ├── ModelNotFound        no model file / folder / server model by that name
          ├── ServerUnavailable    the OpenAI-compatible server is down or answered badly
          ├── RemoteURLRefused     the URL is not loopback and remote use was not allowed
          └── GenerationError      the runtime failed while generating
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from kenning.errors import KenningError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message: who says it and what."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        """The OpenAI / llama.cpp wire shape: ``{"role": ..., "content": ...}``."""
        return {"role": self.role, "content": self.content}


@runtime_checkable
class ChatModel(Protocol):
    """A local chat model.

    ``generate`` and ``stream`` take the whole conversation each time; a backend that can
    reuse work across calls (llama.cpp's KV cache, a server's prompt cache) does so itself.
    """

    @property
    def name(self) -> str:
        """A short name to show the user (file stem, server model id)."""
        ...

    @property
    def context_window(self) -> int:
        """How many tokens the model attends to: prompt and answer together."""
        ...

    def generate(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> str:
        """Return the whole answer to ``messages``."""
        ...

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the answer to ``messages`` piece by piece, as the model produces it."""
        ...


@runtime_checkable
class TokenCounter(Protocol):
    """Optional capability: count tokens exactly with the model's own tokenizer."""

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes for this model."""
        ...


class LLMError(KenningError):
    """The model layer could not do what was asked; the message says what to do."""


class BackendNotInstalled(LLMError):
    """A backend's runtime package is not installed."""

    def __init__(self, backend: str, package: str, install: str) -> None:
        self.backend = backend
        self.package = package
        super().__init__(
            f"The {backend} backend needs the '{package}' package, which is not installed. "
            f"Install it with: {install}"
        )


class ModelNotFound(LLMError):
    """No model by that path or name."""


class ServerUnavailable(LLMError):
    """The model server is not reachable or did not answer as an OpenAI-compatible server."""


class RemoteURLRefused(LLMError):
    """The server URL is not on this machine and remote use was not explicitly allowed."""


class GenerationError(LLMError):
    """The model runtime failed while generating."""
