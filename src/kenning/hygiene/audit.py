"""The audit log: one JSON line per change to a memory store, appended, never rewritten.

The project store logs to `.kenning/audit.jsonl` and the personal store to
`$KENNING_HOME/audit.jsonl` (next to, not inside, the memories folder, so memory sync never merges
it). Each line says when, what (action, id, kind, title, the fields that changed) and who (the OS
user, the recording tool, the session when the tool names one):

    {"at": "2026-03-14T10:02:00Z", "action": "add", "id": "use-cents-3fa1", "kind": "rule",
     "title": "Money is integer cents", "tool": "claude-code", "user": "dana", "session": "s-42"}

Actions: add, update, retire, supersede (the old memory of a supersession), merge (a near-
duplicate folded into an existing memory). A line is one `write` on a file opened with O_APPEND
while the store lock is held, so concurrent writers never interleave. Failing to log never fails
the write it describes: the memory file is the source of truth.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.jsonl"
_TRACKED = ("title", "body", "status", "supersedes", "scope", "aliases", "tags", "kind")


def log_path(store_dir: Path) -> Path:
    """Where the log of the store rooted at `store_dir` (a `memories` folder) lives."""
    return store_dir.parent / AUDIT_FILE


def _user() -> str:
    # The login name from the environment only: a passwd lookup (getpass's fallback) may ask the
    # name service over a socket, and kenning makes no lookups off the machine.
    for name in ("KENNING_USER", "LOGNAME", "USER", "LNAME", "USERNAME"):
        value = os.environ.get(name)
        if value:
            return value
    return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def event(
    action: str,
    memory: Any,
    before: Any = None,
    *,
    at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The log record for `action` on `memory` (`before`: the previous version, for updates)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    record: dict[str, Any] = {
        "at": moment.isoformat().replace("+00:00", "Z"),
        "action": action,
        "id": memory.id,
        "kind": memory.kind,
        "title": memory.title,
        "tool": memory.source if action == "add" else os.environ.get("KENNING_SOURCE", "cli"),
        "user": _user(),
    }
    session = os.environ.get("KENNING_SESSION")
    if session:
        record["session"] = session
    provenance = memory.extra.get("provenance") if isinstance(memory.extra, dict) else None
    if action == "add" and isinstance(provenance, dict) and provenance.get("commit"):
        record["commit"] = provenance["commit"]
    if before is not None:
        changed = {}
        for name in _TRACKED:
            old, new = getattr(before, name), getattr(memory, name)
            if old != new:
                changed[name] = _short(new) if name == "body" else _jsonable(new)
        for key in sorted(set(before.extra) | set(memory.extra)):
            if before.extra.get(key) != memory.extra.get(key):
                changed[key] = _jsonable(memory.extra.get(key))
        record["changed"] = changed
    if memory.supersedes and action == "add":
        record["supersedes"] = memory.supersedes
    if detail:
        record.update(detail)
    return record


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def append(path: Path, record: dict[str, Any]) -> bool:
    """Append one record; False (and nothing raised) when the log cannot be written."""
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


def record(store_dir: Path, action: str, memory: Any, before: Any = None, **detail: Any) -> None:
    """Log `action` on `memory` in the audit log of the store at `store_dir`."""
    append(log_path(store_dir), event(action, memory, before, detail=detail or None))


def read(path: Path, memory_ids: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """The records of a log (only those about `memory_ids`, when given); bad lines are skipped."""
    with contextlib.suppress(OSError), path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and (memory_ids is None or data.get("id") in memory_ids):
                yield data
