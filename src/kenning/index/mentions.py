"""Mention edges: the files, symbols, people and terms each memory names.

Linking a memory only reads the index's names, and at 10k files + 5k memories linking them all
took 3.6 s of one core after every file had been written, while the other core sat idle. So a
pass over many memories runs on worker processes, each with its own read-only connection, and
the writer only stores the edges they return, in the order it asked for them: the same edges
as linking in-process (a test compares the two).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kenning.engine.link import EntityTable, Mention

# A name defined in more places than this (`run`, `parse`, `timeout`) says nothing about which
# one a memory means: linking it to all of them made ~200 edges per memory at 10k files.
MAX_MENTION_TARGETS = 3
# Linking fewer memories than this stays in-process: starting workers costs more.
PARALLEL_FROM = 1000
# Memories per task sent to a worker.
BATCH = 100

MemoryText = tuple[int, str, str, str]  # (doc_id, ref, title, text)


def worth_an_edge(mention: Mention, table: EntityTable) -> bool:
    """Keep a memory → entity edge only when the mention is specific enough to mean that node."""
    if mention.type in ("person", "term", "file"):
        return bool(mention.strong or len(table.lookup(mention.span.lower())) <= 1)
    if mention.type == "tag":
        return False  # shared tags are not mentions; the tag itself is searchable
    if mention.ambiguous:
        return False
    named = len(table.lookup(mention.span.lower()))
    return bool(mention.strong and named <= MAX_MENTION_TARGETS) or named == 1


def targets_of(ref: str, title: str, text: str, table: EntityTable) -> list[str]:
    """The nodes one memory's mention edges point at, sorted."""
    from kenning.engine.link import find_mentions

    node = f"mem:{ref}"
    return sorted(
        {
            m.node
            for m in find_mentions(f"{title}\n{text}", table, fuzzy=False)
            if m.node != node and worth_an_edge(m, table)
        }
    )


def open_table(db: sqlite3.Connection, in_memory: bool) -> EntityTable:
    """Every name loaded at once (`in_memory`), or looked up in the index as texts need them."""
    from kenning.engine.link import EntityTable, IndexedEntities

    return EntityTable.load(db) if in_memory else IndexedEntities(db)


def link_memories(
    db: sqlite3.Connection,
    db_path: Path | None,
    memories: Sequence[MemoryText],
    in_memory: bool,
    workers: int,
) -> Iterator[tuple[int, str, list[str]]]:
    """(doc_id, ref, targets) for each memory, in the given order.

    With `db_path`, enough memories and more than one worker, the linking runs on worker
    processes reading the committed index; a worker that dies costs nothing but time (what it
    had not answered is linked here instead).
    """
    from kenning.index.prepare import map_in_order

    table: EntityTable | None = None

    def here(batch: list[MemoryText]) -> list[tuple[int, str, list[str]]]:
        nonlocal table
        if table is None:
            table = open_table(db, in_memory)
        return [
            (doc_id, ref, targets_of(ref, title, text, table)) for doc_id, ref, title, text in batch
        ]

    if db_path is None or not may_fork_readers():
        workers = 1
    yield from map_in_order(
        functools.partial(_link_batch, str(db_path), in_memory),
        memories,
        workers,
        PARALLEL_FROM,
        batch_size=BATCH,
        local=here,
        retry_on=(sqlite3.Error, OSError),  # a worker could not read the index
    )


def may_fork_readers() -> bool:
    """Whether worker processes forked now may open the index themselves: only when no other
    thread could be using it (a one-shot `kenning index` or benchmark), never in a server.

    SQLite keeps its file-lock bookkeeping per process, and a forked child inherits it: had
    another thread's connection been inside a read transaction at the fork, the child would
    believe that read lock its own and read without holding it. The one other thread allowed
    is the progress bar's refresh thread, which never touches the index.
    """
    main = threading.main_thread()
    if threading.current_thread() is not main:
        return False
    return all(t is main or type(t).__module__.startswith("rich.") for t in threading.enumerate())


# A worker's connection and table, kept for the batches of one pass (the pool ends with it).
_WORKER_TABLE: dict[tuple[str, bool], EntityTable] = {}


def _link_batch(
    db_path: str, in_memory: bool, batch: list[MemoryText]
) -> list[tuple[int, str, list[str]]]:
    table = _WORKER_TABLE.get((db_path, in_memory))
    if table is None:
        from kenning.index.db import connect_reader

        _WORKER_TABLE.clear()
        table = _WORKER_TABLE[(db_path, in_memory)] = open_table(
            connect_reader(Path(db_path)), in_memory
        )
    return [
        (doc_id, ref, targets_of(ref, title, text, table)) for doc_id, ref, title, text in batch
    ]
