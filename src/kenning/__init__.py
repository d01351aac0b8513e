"""kenning: a local context engine for AI coding tools.

The library is useful on its own; the CLI, the MCP server, the model layer and the web UI are
thin adapters over it:

    >>> from kenning import Workspace
    >>> ws = Workspace.open("path/to/project")
    >>> packet = ws.brief("add retries to the webhook sender", budget=1500)
    >>> print(packet.to_markdown())

Names are imported lazily so `import kenning` (and `kenning --help`) stay fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Privacy by architecture: nothing kenning loads may reach for a hub or send telemetry, whatever
# the libraries underneath default to. (A user can still override these explicitly.)
for _name, _value in (
    # onnxruntime >= 1.29 ships 1DS telemetry on Linux (DNS lookups of *.events.data.microsoft.com
    # from worker threads, caught by tests/reliability/test_egress.py); this is its full opt-out.
    ("ORT_DISABLE_TELEMETRY", "1"),
    ("HF_HUB_OFFLINE", "1"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("DO_NOT_TRACK", "1"),
    # Not privacy but speed: numpy's OpenBLAS wakes a thread per core for every product, and a
    # brief's are small (a query against a few thousand vectors). On a 2-core machine (numpy
    # 2.4, OpenBLAS 0.3.31) `kenning bench latency` at 10k files measured a hybrid brief p50 of
    # 110 ms with OpenBLAS's threads and 49 ms with one (rerun it with OPENBLAS_NUM_THREADS=2).
    ("OPENBLAS_NUM_THREADS", "1"),
):
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"

__all__ = [
    "Conflict",
    "IndexStats",
    "KINDS",
    "KenningError",
    "Memory",
    "MemoryStore",
    "Packet",
    "PacketItem",
    "Project",
    "Workspace",
    "__version__",
]

_LAZY = {
    "KINDS": "kenning.memory",
    "Conflict": "kenning.engine.conflicts",
    "IndexStats": "kenning.index.ingest",
    "KenningError": "kenning.errors",
    "Memory": "kenning.memory",
    "MemoryStore": "kenning.memory",
    "Packet": "kenning.engine.pack",
    "PacketItem": "kenning.engine.pack",
    "Project": "kenning.config",
    "Workspace": "kenning.workspace",
}

if TYPE_CHECKING:
    from kenning.config import Project
    from kenning.engine.conflicts import Conflict
    from kenning.engine.pack import Packet, PacketItem
    from kenning.errors import KenningError
    from kenning.index.ingest import IndexStats
    from kenning.memory import KINDS, Memory, MemoryStore
    from kenning.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kenning' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
