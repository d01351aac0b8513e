"""Find the models on this machine: packaged GGUF files, GGUF files and ONNX GenAI folders in
the usual places, and the models of OpenAI-compatible servers running on loopback.

Nothing here loads a model or imports a runtime; a server probe is one ``GET /v1/models`` with
a short timeout, only to loopback addresses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kenning.llm.base import LLMError, ModelNotFound
from kenning.llm.llamacpp import is_gguf, packaged_models
from kenning.llm.onnx_genai import CONFIG_FILE
from kenning.llm.openai_compat import KNOWN_SERVERS, list_models, parse_url

#: How deep to look below each search folder (Hugging Face's cache nests four levels).
MAX_DEPTH = 5


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A model file or folder on disk."""

    backend: str  # "llamacpp" or "onnx"
    name: str
    path: Path
    source: str  # "packaged" or the search folder it was found under
    size_bytes: int

    @property
    def is_onnx(self) -> bool:
        return self.backend == "onnx"


@dataclass(frozen=True, slots=True)
class ServerListing:
    """What one OpenAI-compatible server on loopback offers, or why it could not be asked."""

    label: str
    url: str
    models: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.error is None


def search_dirs() -> list[Path]:
    """Folders where people usually keep local models, in the order they are searched.

    ``KENNING_MODELS_PATH`` (``os.pathsep``-separated) adds folders in front. Ollama keeps its
    models as content-addressed blobs, so Ollama models are listed through its server instead.
    """
    home = Path.home()
    extra = os.environ.get("KENNING_MODELS_PATH", "")
    return [
        *(Path(p).expanduser() for p in extra.split(os.pathsep) if p),
        home / "models",
        home / ".cache" / "lm-studio" / "models",
        home / ".lmstudio" / "models",
        home / ".cache" / "huggingface" / "hub",
        home / ".cache" / "llama.cpp",
    ]


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _walk(root: Path) -> Iterable[tuple[Path, list[str]]]:
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = [] if depth >= MAX_DEPTH else [d for d in dirnames if not d.startswith(".")]
        yield Path(dirpath), filenames


def local_models(dirs: Sequence[Path] | None = None) -> list[LocalModel]:
    """Packaged models first, then GGUF files and ONNX GenAI folders under ``dirs``.

    Multimodal projector files (``mmproj*.gguf``) are not chat models and are left out; a file
    reachable twice (a Hugging Face snapshot link and its blob) is listed once.
    """
    found = [LocalModel("llamacpp", p.stem, p, "packaged", _size(p)) for p in packaged_models()]
    seen = {m.path.resolve() for m in found}
    for root in search_dirs() if dirs is None else dirs:
        if not root.is_dir():
            continue
        for folder, filenames in _walk(root):
            if CONFIG_FILE in filenames and folder.resolve() not in seen:
                seen.add(folder.resolve())
                found.append(LocalModel("onnx", folder.name, folder, str(root), _size(folder)))
            for filename in sorted(filenames):
                if not filename.lower().endswith(".gguf") or filename.startswith("mmproj"):
                    continue
                path = folder / filename
                real = path.resolve()
                if real in seen or not is_gguf(real):
                    continue
                seen.add(real)
                found.append(LocalModel("llamacpp", path.stem, path, str(root), _size(real)))
    return found


def resolve_local(name: str, dirs: Sequence[Path] | None = None) -> LocalModel:
    """The local model ``name`` means: a path, or a file/folder name found by :func:`local_models`.

    A name matches case-insensitively on the whole stem, or on a unique part of it
    (``smollm2`` finds ``SmolLM2-135M-Instruct.Q4_1``).

    Raises:
        ModelNotFound: nothing matches, or more than one model does.
    """
    path = Path(name).expanduser()
    if path.exists():
        backend = "onnx" if path.is_dir() else "llamacpp"
        return LocalModel(backend, path.stem if path.is_file() else path.name, path, "path", 0)
    models = local_models(dirs)
    wanted = name.lower()
    exact = [m for m in models if m.name.lower() == wanted]
    partial = exact or [m for m in models if wanted in m.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        listed = ", ".join(m.name for m in models) or "none"
        raise ModelNotFound(
            f"No model file or folder matches {name!r}. Local models: {listed}. Give a path to "
            "a .gguf file, or see `kenning models`."
        )
    raise ModelNotFound(
        f"{name!r} matches several models ({', '.join(m.name for m in partial)}); "
        "give more of the name, or the path."
    )


def probe_servers(
    urls: dict[str, str] | None = None, *, timeout: float = 0.5
) -> list[ServerListing]:
    """Ask each loopback server (default: Ollama, LM Studio, llama.cpp) for its models.

    A server that is not running is reported with its error, not raised; a URL that is not
    loopback is not contacted at all.
    """
    listings = []
    for label, url in (KNOWN_SERVERS if urls is None else urls).items():
        try:
            endpoint = parse_url(url)
            models = list_models(endpoint.url, timeout=timeout)
        except LLMError as exc:
            listings.append(ServerListing(label, url, error=str(exc).split(". ")[0]))
            continue
        listings.append(ServerListing(label, endpoint.url, models))
    return listings
