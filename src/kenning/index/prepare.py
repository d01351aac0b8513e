"""Everything an index run does to one repo file before it touches the database.

Reading, hashing, redacting, parsing and building the FTS text are pure work
on one file, about two thirds of a run's CPU. `prepare_file` does all of it and returns plain
data, so a run can spread it over worker processes (`Preparer`) while the one writer process
keeps the database transactions to itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TypeVar

from kenning.index import entity_keys, instructions
from kenning.index.chunk import Chunk, parse_file
from kenning.index.scan import is_binary_prefix, read_regular
from kenning.index.terms import expand, split_identifier
from kenning.memory import content_hash
from kenning.secrets import redact

# Below this many files a run prepares them in-process: starting workers costs more.
PARALLEL_FROM = 200
# Files per task sent to a worker.
BATCH = 16
# Workers yield the CPU to the writer: the one writer is the run's critical path (all
# three processes at an equal share left it at 2/3 of a core while the workers, far ahead,
# waited on a full queue), and whatever CPU it leaves the workers use.
WORKER_NICENESS = 5


@dataclass(frozen=True)
class ChunkRow:
    """One code or prose chunk, ready for the `chunks` and `chunks_fts` rows."""

    kind: str
    title: str
    text: str
    symbol: str | None
    start_line: int | None
    end_line: int | None
    hash: str
    fts_title: str
    # What the FTS body adds to the text (split identifiers, path words): the body is built by
    # the writer, so the parsers do not send every chunk's text twice.
    fts_extra: str

    @property
    def fts_body(self) -> str:
        return f"{self.text}\n{self.fts_extra}"


@dataclass
class PreparedFile:
    """The outcome for one file: `skip` (with a reason), `same` (content unchanged), or `index`."""

    path: str
    outcome: str
    reason: str = ""
    digest: str = ""
    language: str | None = None
    imports: list[str] = field(default_factory=list)
    secrets: int = 0
    chunks: list[ChunkRow] = field(default_factory=list)
    symbols: list[Chunk] = field(default_factory=list)
    imported: list[instructions.Imported] = field(default_factory=list)
    # Per symbol, the index in `chunks` of the chunk that holds it (None: none does).
    symbol_chunks: list[int | None] = field(default_factory=list)
    # The entity names to write, in order: the symbols' (when chunked), then the file's.
    names: list[entity_keys.NameRows] = field(default_factory=list)


def prepare_file(
    root: str, path: str, max_bytes: int, known_hash: str | None = None
) -> PreparedFile:
    """Read and process `root/path`; stops early when the content hash equals `known_hash`."""
    try:
        raw = read_regular(Path(root) / path, max_bytes)
    except OSError:
        return PreparedFile(path, "skip", "vanished or unreadable")
    if raw is None:
        return PreparedFile(path, "skip", "not a regular file")
    if len(raw) > max_bytes:
        return PreparedFile(path, "skip", "too large")
    if is_binary_prefix(raw[:8192]):
        return PreparedFile(path, "skip", "binary")
    digest = content_hash(raw)
    if known_hash is not None and digest == known_hash:
        return PreparedFile(path, "same", digest=digest)
    text = raw.decode("utf-8", errors="replace")
    if looks_generated(text):
        return PreparedFile(path, "skip", "generated", digest=digest)
    text, secrets = redact(text)
    parsed = parse_file(path, text)
    imported = instructions.extract(path, text)
    prepared = PreparedFile(
        path,
        "index",
        digest=digest,
        language=parsed.language,
        imports=list(parsed.imports),
        secrets=secrets,
        symbols=list(parsed.symbols),
        imported=imported,
    )
    if not imported:
        path_words = " ".join(path_words_of(path))
        for chunk in parsed.chunks:
            kind = (
                "doc" if chunk.kind == "doc" else ("symbol" if chunk.kind == "symbol" else "file")
            )
            prepared.chunks.append(
                chunk_row(
                    kind,
                    chunk.title,
                    chunk.text,
                    chunk.symbol,
                    chunk.start_line,
                    chunk.end_line,
                    search_extra=path_words,
                )
            )
        prepared.symbol_chunks = symbol_chunks(prepared.chunks, prepared.symbols)
        qualnames = [sym.symbol for sym in prepared.symbols if sym.symbol is not None]
        prepared.names.append(entity_keys.name_rows(entity_keys.symbol_rows(path, qualnames)))
    prepared.names.append(entity_keys.name_rows(entity_keys.file_rows(path)))
    return prepared


def symbol_chunks(chunks: list[ChunkRow], symbols: list[Chunk]) -> list[int | None]:
    """Per symbol, the index of its own chunk, else of the first chunk whose lines enclose it
    (a method of a class chunked whole), else None."""
    by_span: dict[tuple[int | None, int | None, str | None], int] = {}
    for position, chunk in enumerate(chunks):
        by_span[(chunk.start_line, chunk.end_line, chunk.symbol)] = position
    found: list[int | None] = []
    for sym in symbols:
        index: int | None = by_span.get((sym.start_line, sym.end_line, sym.symbol))
        if index is None:
            for (start, end, _), candidate in by_span.items():
                if start is not None and end is not None:
                    if start <= sym.start_line <= sym.end_line <= end:
                        index = candidate
                        break
        found.append(index)
    return found


def chunk_row(
    kind: str,
    title: str,
    text: str,
    symbol: str | None = None,
    start: int | None = None,
    end: int | None = None,
    *,
    search_extra: str = "",
) -> ChunkRow:
    """A chunk's row with its hash and FTS text (split identifiers appended). Tokens are counted
    when a packet is packed, not here: no reader used a stored count, and counting was over a
    third of a parser's CPU."""
    return ChunkRow(
        kind,
        title,
        text,
        symbol,
        start,
        end,
        content_hash(f"{title}\n{text}"),
        f"{title} {expand(title)}",
        f"{expand(text)}\n{search_extra}",
    )


def _prepare_batch(batch: list[tuple[str, str, int, str | None]]) -> list[PreparedFile]:
    return [prepare_file(*args) for args in batch]


class Preparer:
    """Prepares many files, in worker processes when there are enough of them."""

    def __init__(self, root: Path, max_bytes: int, workers: int | None = None) -> None:
        self.root = str(root)
        self.max_bytes = max_bytes
        self.workers = worker_count(workers)

    def prepare(self, files: Iterable[tuple[str, str | None]]) -> Iterator[PreparedFile]:
        """PreparedFile for each (path, hash the index holds or None), in the given order.

        Workers run at most a few batches ahead of the writer, so memory stays bounded however
        large the run. A worker that dies (killed, out of memory) costs no file: what it had
        not answered is prepared in this process instead.
        """
        todo = [(self.root, path, self.max_bytes, known) for path, known in files]
        yield from map_in_order(_prepare_batch, todo, self.workers)


J = TypeVar("J")
R = TypeVar("R")


def map_in_order(
    run_batch: Callable[[list[J]], list[R]],
    jobs: Sequence[J],
    workers: int,
    parallel_from: int = PARALLEL_FROM,
    *,
    batch_size: int = BATCH,
    local: Callable[[list[J]], list[R]] | None = None,
    retry_on: tuple[type[BaseException], ...] = (),
) -> Iterator[R]:
    """`run_batch` over `jobs` in batches of `batch_size`, answers in the jobs' order: on worker
    processes when there are at least `parallel_from` jobs and more than one worker, else here.

    `run_batch` must be a module-level function (or a partial of one) of pure work: it runs in
    forked children. `local` runs a batch in this process instead (default: `run_batch`).
    Workers run at most a few batches ahead of the caller, so memory stays bounded however
    large the run. A worker that dies (killed, out of memory), or raises one of `retry_on`,
    costs no job: what was not answered is run by `local` here.
    """
    here = local or run_batch
    batches = [list(jobs[i : i + batch_size]) for i in range(0, len(jobs), batch_size)]
    if workers <= 1 or len(jobs) < parallel_from:
        for batch in batches:
            yield from here(batch)
        return
    from concurrent.futures import BrokenExecutor, Future

    errors: tuple[type[BaseException], ...] = (BrokenExecutor, *retry_on)
    done = 0
    try:
        with worker_pool(workers) as pool:
            pending: deque[Future[list[R]]] = deque()
            ahead = iter(batches)
            for batch in ahead:
                pending.append(pool.submit(run_batch, batch))
                if len(pending) >= workers * 4:
                    break
            while pending:
                results = pending.popleft().result()
                nxt = next(ahead, None)
                if nxt is not None:
                    pending.append(pool.submit(run_batch, nxt))
                yield from results
                done += 1
    except errors:
        for batch in batches[done:]:
            yield from here(batch)


def worker_count(setting: int | None = None) -> int:
    """Worker processes for an index run: the `index.workers` setting when there is one (at
    least one), else one per CPU this process may use (the writer mostly waits on them), at
    most 8."""
    if setting is not None:
        return max(1, setting)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _die_with_parent(parent: int) -> None:
    """Worker start-up: exit as soon as the indexer is gone, kill -9 included.

    A forked worker holds a copy of every descriptor of the indexer, its `write.lock` among
    them: an orphan sleeping on its task queue kept that lock, and the next `kenning index`
    waited ten minutes for it. Linux kills the worker with its parent (PR_SET_PDEATHSIG);
    elsewhere a watchdog thread checks every second.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="kenning-prepare-watchdog", daemon=True).start()


def worker_pool(workers: int) -> Executor:
    """Worker processes for an index run's pure work (preparing files, linking memories)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork where there is one: the children only run `prepare_file` (pure Python and
    # tree-sitter) or link memories over a read-only connection of their own (never the
    # parent's); no printing, no model. spawn or forkserver would re-run the caller's main
    # script in every worker, which hangs any script without a __main__ guard.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )


def path_words_of(path: str) -> list[str]:
    """The words of a path's parts (`src/WebhookSender.py` → src, webhook, sender)."""
    words: list[str] = []
    for part in PurePosixPath(path).parts:
        stem = part.rsplit(".", 1)[0]
        words += split_identifier(stem) or [stem.lower()]
    return words


def looks_generated(text: str) -> bool:
    """Minified or marked `@generated` / "do not edit … generated"."""
    head = text[:20000]
    lines = head.splitlines() or [""]
    if len(lines) <= 3 and len(head) > 5000:
        return True  # minified: a few enormous lines
    marker = head[:600].lower()
    return "@generated" in marker or "do not edit" in marker and "generated" in marker
