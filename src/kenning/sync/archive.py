"""`kenning export` / `kenning import`: every memory in one portable JSON-lines file.

The archive is JSONL (gzip-compressed when the name ends in `.gz`): a header line, then one
line per memory file.

    {"format": "kenning-memories", "version": 1, "exported_at": "...", "host": "...",
     "kenning": "0.1.0", "project": "github.com/acme/tidewater", "count": 42}
    {"store": "project", "id": "...", "kind": "rule", "sha": "...", "markdown": "---\\n..."}

Each record carries the memory's file text verbatim (front-matter and body), so nothing is lost
in the round trip, plus its provenance (`origin`: host, project identity, export time). Import
never trusts a record's path: the target file is `<kind>/<id>.md` from the parsed front-matter.

Import is idempotent: a memory already present with the same text is unchanged; one that differs
is merged with `kenning.sync.merge` as a sync would (a superseding pair or a marked conflict when
the same field differs), and importing the same archive again changes nothing.
"""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kenning import __version__
from kenning._fs import atomic_create, atomic_replace, file_lock
from kenning.errors import MemoryFormatError
from kenning.memory import MemoryStore, parse_memory
from kenning.sync.errors import ArchiveError
from kenning.sync.merge import ConflictPolicy, merge_memory_texts, text_sha

__all__ = ["FORMAT", "ImportReport", "export_archive", "import_archive", "read_archive"]

FORMAT = "kenning-memories"
VERSION = 1


@dataclass
class ImportReport:
    """What an import did, by memory id."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.merged)} merged, {len(self.pairs)} superseding "
            f"pairs, {len(self.conflicts)} conflicts, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped, {len(self.invalid)} invalid"
        )


def _open(path: Path, mode: str, compressed: bool | None = None) -> IO[str]:
    if path.name.endswith(".gz") if compressed is None else compressed:
        if mode == "w":
            return gzip.open(path, "wt", encoding="utf-8", newline="\n")
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return path.open(mode, encoding="utf-8", newline="\n")


def export_archive(
    store: MemoryStore,
    target: Path,
    *,
    project: str | None = None,
    personal: bool = True,
    project_memories: bool = True,
) -> int:
    """Write the store's memory files to `target`; returns how many were written.

    Files that cannot be read are skipped (they are listed in `store.problems` by `all()`).
    """
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    host = socket.gethostname() or "unknown"
    records: list[dict[str, Any]] = []
    for path, is_personal in store.files():
        if (is_personal and not personal) or (not is_personal and not project_memories):
            continue
        try:
            memory = store.read(path, is_personal)
            text = path.read_text(encoding="utf-8")
        except (MemoryFormatError, OSError, UnicodeDecodeError):
            continue
        records.append(
            {
                "store": "personal" if is_personal else "project",
                "id": memory.id,
                "kind": memory.kind,
                "updated": memory.to_dict()["updated"],
                "sha": text_sha(text),
                "markdown": text,
                "origin": {
                    "host": host,
                    "project": None if is_personal else project,
                    "exported_at": now,
                },
            }
        )
    header = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now,
        "host": host,
        "kenning": __version__,
        "project": project,
        "count": len(records),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with _open(tmp, "w", compressed=target.name.endswith(".gz")) as fh:
        for record in (header, *records):
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(target)
    return len(records)


def read_archive(source: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The header and an iterator over the records of an archive.

    Raises:
        ArchiveError: not a kenning archive, a newer version, or a damaged line.
    """
    try:
        fh = _open(source, "r")
        first = fh.readline()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"{source}: cannot read the archive ({exc})") from None
    try:
        header = json.loads(first)
    except ValueError:
        fh.close()
        raise ArchiveError(f"{source}: not a kenning export (no JSON header line)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fh.close()
        raise ArchiveError(f"{source}: not a kenning export (format is not {FORMAT!r})")
    if int(header.get("version", 0)) > VERSION:
        fh.close()
        raise ArchiveError(
            f"{source}: archive version {header['version']} is newer than this kenning reads "
            f"({VERSION}); upgrade kenning"
        )

    def records() -> Iterator[dict[str, Any]]:
        with fh:
            for number, line in enumerate(fh, start=2):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise ArchiveError(f"{source}:{number}: damaged line (not JSON)") from None
                if isinstance(record, dict):
                    yield record

    return header, records()


def import_archive(
    source: Path,
    store: MemoryStore,
    *,
    policy: ConflictPolicy = "auto",
    personal: bool = True,
    project_memories: bool = True,
) -> ImportReport:
    """Merge an archive into the store (see the module docstring); returns what happened.

    Raises:
        ArchiveError: the file is not a readable kenning archive.
    """
    header, records = read_archive(source)
    report = ImportReport(header=header)
    for record in records:
        is_personal = record.get("store") == "personal"
        folder = store.personal_dir if is_personal else store.project_dir
        label = str(record.get("id", "?"))
        wanted = personal if is_personal else project_memories
        if folder is None or not wanted:
            report.skipped.append(label)
            continue
        text = record.get("markdown")
        if not isinstance(text, str):
            report.invalid.append(f"{label}: no markdown text")
            continue
        try:
            memory = parse_memory(text, Path(f"{record.get('kind', 'note')}/{label}.md"))
        except MemoryFormatError as exc:
            report.invalid.append(f"{label}: {exc.problem}")
            continue
        rel = f"{memory.kind}/{memory.id}.md"
        with file_lock(folder / ".lock"):
            existing = next(iter(sorted(folder.glob(f"*/{memory.id}.md"))), None)
            if existing is None:
                if atomic_create(folder / rel, text):
                    report.added.append(memory.id)
                else:  # pragma: no cover - a writer raced us between glob and create
                    report.unchanged.append(memory.id)
                continue
            current = existing.read_text(encoding="utf-8")
            if current == text:
                report.unchanged.append(memory.id)
                continue
            ours_rel = existing.relative_to(folder).as_posix()
            change = merge_memory_texts(memory.id, None, (ours_rel, current), (rel, text), policy)
            untouched = not change.remove and all(
                (folder / p).is_file() and (folder / p).read_text(encoding="utf-8") == t
                for p, t in change.write.items()
            )
            if untouched:
                report.unchanged.append(memory.id)
                continue
            for p, t in change.write.items():
                atomic_replace(folder / p, t)
            for p in change.remove:
                (folder / p).unlink(missing_ok=True)
            if change.outcome == "pair":
                report.pairs.append((memory.id, change.other_id or ""))
            elif change.outcome == "conflict":
                report.conflicts.append((memory.id, change.other_id or ""))
            else:
                report.merged.append(memory.id)
    return report
