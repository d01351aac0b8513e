"""Every error kenning raises on purpose, and the message that tells the user what to do next.

    KenningError
     ├── ConfigError            bad settings or an unusable path
     ├── MemoryFormatError      a memory file whose front-matter cannot be read
     ├── MemoryNotFound         no memory has that id
     ├── InvalidMemory          a memory that fails validation (kind, status, id, scope …)
     ├── StoreBusy              another writer held the store lock for too long
     ├── IndexCorrupt           the SQLite index cannot be read (it is rebuilt from the files)
     └── EmbeddingError         the local embedding model is missing or failed

Anything else escaping kenning is a bug. The CLI and the MCP server show a KenningError's message
as it is, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class KenningError(Exception):
    """Base class: the message says what went wrong and what to do about it."""


class ConfigError(KenningError):
    """Settings or paths kenning cannot use."""


class MemoryFormatError(KenningError):
    """A memory file that cannot be parsed; the file is left untouched."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class MemoryNotFound(KenningError):
    """No memory with this id in the project or personal store."""

    def __init__(self, memory_id: str) -> None:
        self.memory_id = memory_id
        super().__init__(f"no memory with id {memory_id!r}; `kenning memories` lists the ids")


class InvalidMemory(KenningError):
    """A memory rejected by validation before anything was written."""


class StoreBusy(KenningError):
    """The store lock was held by another writer for longer than the timeout."""


class IndexCorrupt(KenningError):
    """The derived index cannot be read; it is safe to delete and rebuild."""


class EmbeddingError(KenningError):
    """The local embedding model is missing or could not run."""
